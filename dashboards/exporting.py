"""One dashboard table as a CSV or XLSX file: the same rows the page shows (`Table.as_matrix()`).

- CSV: UTF-8 with a byte-order mark (spreadsheets then read the accents right), like the people export
  (beneficiaries/exporting.py); XLSX: openpyxl, the header in bold, numbers stored as numbers.
- Text cells that a spreadsheet would run as a formula get a leading apostrophe (beneficiaries.exporting.neutralise).
- Each export writes one access-log row (action "export", resource "dashboard"): the office table
  "upcoming_departures" lists case references and departure dates, so its references are logged as the records read.
"""

from __future__ import annotations

import csv
import io
from typing import Any

from django.http import HttpResponse
from django.utils import timezone
from django.utils.functional import Promise
from django.utils.translation import gettext as _

from beneficiaries.exporting import neutralise
from dashboards.figures import Table
from jointops.audit import log_access

RESOURCE = "dashboard"
CSV_CONTENT_TYPE = "text/csv; charset=utf-8"
XLSX_CONTENT_TYPE = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
FORMATS = ("csv", "xlsx")
# Tables whose rows are records (their row keys are the records' references), not aggregates.
RECORD_TABLES = frozenset({"upcoming_departures"})
SHEET_TITLE_MAX = 31  # Excel's limit on a sheet name


def _header(table: Table) -> list[str]:
    """The header of as_matrix(), with each column's unit named (the values are bare numbers)."""
    units = {"percent": "%", "days": _("days")}
    header = table.as_matrix()[0]
    for index, column in enumerate(table.columns, start=1):
        if column.unit in units:
            header[index] = f"{header[index]} ({units[column.unit]})"
    return header


def _text(value: Any) -> Any:
    if isinstance(value, Promise):  # a lazily translated label
        value = str(value)
    return neutralise(value) if isinstance(value, str) else value


def table_csv(table: Table) -> bytes:
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\r\n")
    writer.writerow([_text(cell) for cell in _header(table)])
    for row in table.as_matrix()[1:]:
        writer.writerow(["" if cell is None else _text(cell) for cell in row])
    return ("\ufeff" + out.getvalue()).encode()


def table_xlsx(table: Table) -> bytes:
    from openpyxl import Workbook
    from openpyxl.cell.cell import ILLEGAL_CHARACTERS_RE
    from openpyxl.styles import Font

    workbook = Workbook()
    sheet = workbook.active
    sheet.title = table.key[:SHEET_TITLE_MAX]
    sheet.append([ILLEGAL_CHARACTERS_RE.sub("", str(_text(cell))) for cell in _header(table)])
    for cell in sheet[1]:
        cell.font = Font(bold=True)
    for row in table.as_matrix()[1:]:
        cells = [_text(cell) for cell in row]
        sheet.append([ILLEGAL_CHARACTERS_RE.sub("", cell) if isinstance(cell, str) else cell for cell in cells])
    sheet.freeze_panes = "B2"
    buffer = io.BytesIO()
    workbook.save(buffer)
    return buffer.getvalue()


def file_name(table: Table, fmt: str) -> str:
    return f"{table.key}-{timezone.localdate().isoformat()}.{fmt}"


def export_response(*, principal: Any, table: Table, fmt: str, path: str = "") -> HttpResponse:
    """The table as an attachment, after writing the access-log row. `fmt` is "csv" or "xlsx" (checked by the
    caller: anything else is a 404 there)."""
    content = table_xlsx(table) if fmt == "xlsx" else table_csv(table)
    log_access(
        actor=principal,
        action="export",
        resource=RESOURCE,
        object_ids=[row.key for row in table.rows] if table.key in RECORD_TABLES else (),
        record_count=len(table.rows),
        purpose=f"dashboard table {table.key}",
        path=path,
    )
    response = HttpResponse(content, content_type=XLSX_CONTENT_TYPE if fmt == "xlsx" else CSV_CONTENT_TYPE)
    response["Content-Disposition"] = f'attachment; filename="{file_name(table, fmt)}"'
    return response
