"""What a dashboard is made of: figures (one number) and tables (rows × columns), each with a stable key.

The same objects feed the page (charts + accessible tables), the CSV/XLSX exports and the API, so the three always
show the same numbers. Values are counts, shares (0–100, one decimal) or days — never a person's name.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import asdict, dataclass, field
from typing import Any

Number = int | float | None


@dataclass(frozen=True)
class Figure:
    key: str
    label: str
    value: Number
    unit: str = ""  # "" (a count), "percent" or "days"
    url: str = ""  # the filtered list behind the figure
    source: str = ""  # the rule it follows, e.g. "MOU §39"


@dataclass(frozen=True)
class Column:
    key: str
    label: str
    unit: str = ""


@dataclass(frozen=True)
class Row:
    key: str
    label: str
    values: list[Number]
    url: str = ""


@dataclass(frozen=True)
class Table:
    key: str
    title: str
    columns: list[Column]
    rows: list[Row]
    chart: str = ""  # "bar", "stacked", "line", "doughnut" or "" (no chart: the table reads better)
    source: str = ""

    def as_matrix(self) -> list[list[Any]]:
        """Header then rows, for CSV/XLSX: the row label first, then one cell per column."""
        return [["", *[c.label for c in self.columns]]] + [[r.label, *r.values] for r in self.rows]


@dataclass(frozen=True)
class Section:
    key: str
    title: str
    figures: list[Figure] = field(default_factory=list)
    tables: list[Table] = field(default_factory=list)


@dataclass(frozen=True)
class Dashboard:
    title: str
    generated_at: dt.datetime
    filters: dict[str, str]
    sections: list[Section]

    def table(self, key: str) -> Table | None:
        return next((t for s in self.sections for t in s.tables if t.key == key), None)

    def as_dict(self) -> dict[str, Any]:
        return asdict(self)
