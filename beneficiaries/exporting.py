"""Export the filtered list of people to CSV or XLSX.

- Only what the principal may read: `access.person_field_filter` per record (decided once per office of the
  records). A column no record allows is left out; in a mixed export, a row's disallowed fields are blank.
- Rows come from `values_list()` (no model instance per row), streamed from the database in chunks.
- Text cells that a spreadsheet would run as a formula (starting with = + - @, tab or carriage return) get a
  leading apostrophe.
- Each export writes one access-log row (action "export", resource "beneficiary", the ids). Requires "export" on
  "beneficiary" (jointops.access.MATRIX).
"""

from __future__ import annotations

import csv
import datetime as dt
import io
from collections.abc import Iterator
from typing import Any

from django.db.models import QuerySet
from django.utils import timezone

from beneficiaries.models import Beneficiary
from jointops import access
from jointops.audit import log_access

EXPORT = "export"
CHUNK = 2000
FORMULA_PREFIXES = ("=", "+", "-", "@", "\t", "\r")
CSV_CONTENT_TYPE = "text/csv; charset=utf-8"
XLSX_CONTENT_TYPE = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"

# (column of the file, what values_list() reads, the field name access.person_field_filter() speaks of).
# The column names are those of the import template, so an export can be edited and imported elsewhere.
COLUMNS: tuple[tuple[str, str, str], ...] = (
    ("id", "id", "id"),
    ("office", "office__code", "office"),
    ("given_name", "given_name", "given_name"),
    ("family_name", "family_name", "family_name"),
    ("other_names", "other_names", "other_names"),
    ("sex", "sex", "sex"),
    ("date_of_birth", "date_of_birth", "date_of_birth"),
    ("date_of_birth_estimated", "date_of_birth_estimated", "date_of_birth_estimated"),
    ("nationality", "nationality", "nationality"),
    ("country_of_residence", "country_of_residence", "country_of_residence"),
    ("category", "category__code", "category"),
    ("of_concern_to_unhcr", "of_concern_to_unhcr", "of_concern_to_unhcr"),
    ("unhcr_registration_number", "unhcr_registration_number", "unhcr_registration_number"),
    ("iom_case_number", "iom_case_number", "iom_case_number"),
    ("government_id", "government_id", "government_id"),
    ("phone", "phone", "phone"),
    ("email", "email", "email"),
    ("address", "address", "address"),
    ("preferred_language", "preferred_language", "preferred_language"),
    ("specific_needs", "specific_needs", "specific_needs"),
    ("household", "household__reference", "household"),
    ("relationship_to_head", "relationship_to_head", "household"),
    ("sharing_basis", "sharing_basis", "sharing_basis"),
    ("consent_date", "consent_date", "consent_date"),
    ("consent_scope", "consent_scope", "consent_scope"),
)
_LOOKUPS = ("office_id", *(lookup for _column, lookup, _field in COLUMNS))


def neutralise(value: str) -> str:
    """A text cell that would start a formula in a spreadsheet, made inert (OWASP "CSV injection")."""
    return "'" + value if value.startswith(FORMULA_PREFIXES) else value


def _plain(value: Any) -> Any:
    """A database value as a cell: lists joined with |, multi-line names with |, text neutralised."""
    if value is None:
        return ""
    if isinstance(value, list):
        value = "|".join(str(item) for item in value)
    if isinstance(value, str):
        if "\n" in value:
            value = "|".join(part.strip() for part in value.splitlines() if part.strip())
        return neutralise(value)
    return value


class _Plan:
    """Which columns the export has, and which of them each office's records may fill."""

    def __init__(self, principal: Any, office_ids: list[int]):
        self.allowed: dict[int, frozenset[str] | None] = {
            office_id: access.person_field_filter(principal, office_id=office_id) for office_id in office_ids
        }
        every = any(fields is None for fields in self.allowed.values())
        # No record: the header shows what any visible record shows.
        readable = set().union(*(f for f in self.allowed.values() if f is not None), access.PERSON_SHARED_FIELDS)
        self.columns = [
            (index, column) for index, (column, _lookup, field) in enumerate(COLUMNS) if every or field in readable
        ]
        self.masks: dict[int, list[bool]] = {
            office_id: [fields is None or COLUMNS[index][2] in fields for index, _column in self.columns]
            for office_id, fields in self.allowed.items()
        }

    @property
    def header(self) -> list[str]:
        return [column for _index, column in self.columns]

    def cells(self, row: tuple) -> list[Any]:
        mask = self.masks[row[0]]
        values = row[1:]
        return [values[index] if keep else None for (index, _column), keep in zip(self.columns, mask, strict=True)]


def _export(*, principal: Any, queryset: QuerySet[Beneficiary], path: str) -> tuple[_Plan, Iterator[list[Any]], list]:
    access.require(principal, EXPORT, "beneficiary")
    # However the caller built the queryset, nothing the principal may not see leaves.
    queryset = queryset.visible_to(principal)
    office_ids = sorted(set(queryset.order_by().values_list("office_id", flat=True).distinct()))
    plan = _Plan(principal, office_ids)
    ids: list[int] = []

    def rows() -> Iterator[list[Any]]:
        for row in queryset.values_list(*_LOOKUPS).iterator(chunk_size=CHUNK):
            ids.append(row[1])
            yield plan.cells(row)
        log_access(actor=principal, action="export", resource="beneficiary", object_ids=ids, path=path)

    return plan, rows(), ids


def export_csv(*, principal: Any, queryset: QuerySet[Beneficiary], path: str = "") -> bytes:
    """The people of `queryset` the principal may see, as UTF-8 CSV (with a BOM for spreadsheets)."""
    plan, rows, _ids = _export(principal=principal, queryset=queryset, path=path)
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\r\n")
    writer.writerow(plan.header)
    for cells in rows:
        writer.writerow([_csv_cell(value) for value in cells])
    return ("\ufeff" + out.getvalue()).encode()


def _csv_cell(value: Any) -> Any:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, dt.date):
        return value.isoformat()
    return _plain(value)


def export_xlsx(*, principal: Any, queryset: QuerySet[Beneficiary], path: str = "") -> bytes:
    """The same as export_csv(), as an XLSX workbook (openpyxl's write-only mode: rows are not kept in memory)."""
    from openpyxl import Workbook
    from openpyxl.cell.cell import ILLEGAL_CHARACTERS_RE

    plan, rows, _ids = _export(principal=principal, queryset=queryset, path=path)
    workbook = Workbook(write_only=True)
    sheet = workbook.create_sheet("people")
    sheet.append(plan.header)
    for cells in rows:
        out = []
        for value in cells:
            if isinstance(value, dt.date | bool | int):
                out.append(value)
            else:
                value = _plain(value)
                out.append(ILLEGAL_CHARACTERS_RE.sub("", value) if isinstance(value, str) else value)
        sheet.append(out)
    buffer = io.BytesIO()
    workbook.save(buffer)
    return buffer.getvalue()


def export_file_name(extension: str) -> str:
    return f"people-{timezone.localtime():%Y%m%d-%H%M}.{extension}"
