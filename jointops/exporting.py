"""The access log, as filtered on its page, as a CSV or XLSX file (Issue 8: accountability, "exportable").

- Bounded: at most EXPORT_MAX_ROWS entries (a larger selection is refused, asking for narrower filters), read with
  `values_list()` in one query.
- Text cells that a spreadsheet would run as a formula get a leading apostrophe (beneficiaries.exporting.neutralise,
  the project's one helper: OWASP "CSV injection"); XLSX cells are also cut to the format's 32,767 characters.
- The export is itself written to the access log (action "export", resource "access_log", the entries' ids).
"""

from __future__ import annotations

import csv
import io
from typing import Any

from django.db.models import QuerySet
from django.utils import timezone
from django.utils.translation import gettext as _

from beneficiaries.exporting import neutralise
from jointops.audit import log_access
from jointops.exceptions import DomainError

RESOURCE = "access_log"
FORMATS = ("csv", "xlsx")
EXPORT_MAX_ROWS = 20_000  # Issue 8: "streamed or bounded" — one file holds at most this many entries
XLSX_CELL_MAX = 32_767
CSV_CONTENT_TYPE = "text/csv; charset=utf-8"
XLSX_CONTENT_TYPE = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"

HEADER = [
    "id",
    "at",
    "user",
    "partner_system_id",
    "partner_system",
    "action",
    "record_type",
    "record_count",
    "record_ids",
    "purpose",
    "path",
]
_LOOKUPS = (
    "pk",
    "at",
    "user__username",
    "api_client_id",
    "api_client__name",
    "action",
    "resource",
    "record_count",
    "object_ids",
    "purpose",
    "path",
)


class ExportTooLarge(DomainError):
    """More entries match than one file may hold."""

    default_code = "too_many_rows"


def _cell(value: Any) -> Any:
    if value is None:
        return ""
    if isinstance(value, list):
        value = " ".join(str(item) for item in value)
    if hasattr(value, "tzinfo"):
        return timezone.localtime(value).isoformat(timespec="seconds")
    return neutralise(value) if isinstance(value, str) else value


def _rows(queryset: QuerySet) -> tuple[list[int], list[list[Any]]]:
    rows = list(queryset.order_by("-at", "-pk").values_list(*_LOOKUPS)[: EXPORT_MAX_ROWS + 1])
    if len(rows) > EXPORT_MAX_ROWS:
        raise ExportTooLarge(
            _("More than %(max)d entries match: narrow the filters (a shorter period, one account) and export again.")
            % {"max": EXPORT_MAX_ROWS},
            code="too_many_rows",
        )
    return [row[0] for row in rows], [[_cell(value) for value in row] for row in rows]


def access_log_export(*, principal: Any, queryset: QuerySet, fmt: str, path: str = "") -> bytes:
    """The entries of `queryset` (already scoped by selectors.access_log_qs_for and filtered) as `fmt` ("csv" or
    "xlsx"), after writing the export's own access-log row. Raises ExportTooLarge past EXPORT_MAX_ROWS."""
    ids, rows = _rows(queryset)
    content = _xlsx(rows) if fmt == "xlsx" else _csv(rows)
    log_access(
        actor=principal,
        action="export",
        resource=RESOURCE,
        object_ids=ids,
        purpose=f"access log export ({fmt})",
        path=path,
    )
    return content


def _csv(rows: list[list[Any]]) -> bytes:
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\r\n")
    writer.writerow(HEADER)
    writer.writerows(rows)
    return ("\ufeff" + out.getvalue()).encode()


def _xlsx(rows: list[list[Any]]) -> bytes:
    from openpyxl import Workbook
    from openpyxl.cell.cell import ILLEGAL_CHARACTERS_RE

    workbook = Workbook(write_only=True)
    sheet = workbook.create_sheet("access_log")
    sheet.append(HEADER)
    for row in rows:
        cells = []
        for value in row:
            if isinstance(value, str):
                value = ILLEGAL_CHARACTERS_RE.sub("", value)
                if len(value) > XLSX_CELL_MAX:
                    value = value[: XLSX_CELL_MAX - 1] + "…"
            cells.append(value)
        sheet.append(cells)
    buffer = io.BytesIO()
    workbook.save(buffer)
    return buffer.getvalue()


def file_name(fmt: str) -> str:
    return f"access-log-{timezone.localtime():%Y%m%d-%H%M}.{fmt}"
