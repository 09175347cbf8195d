"""What a pre-departure list looks like on each channel — the API, the webhook body, the CSV and PDF attachments,
the e-mail — all printed from `models.ENTRY_FIELDS` and nothing else of a person (Letter; data minimisation)."""

from __future__ import annotations

import contextlib
import csv
import io
from collections.abc import Callable
from typing import Any

from django.conf import settings
from django.db import connection
from django.db.models import Case, F, Func, TextField, Value, When
from django.utils.translation import gettext as _

from beneficiaries.choices import SharingBasis
from beneficiaries.exporting import FORMULA_PREFIXES, neutralise
from jointops.pdf import PdfDocument
from notifications.choices import ChangeKind
from notifications.models import ENTRY_FIELDS, Notification, PreDepartureEntry, PreDepartureList


def entry_values(entry: PreDepartureEntry) -> dict[str, Any]:
    """The allow-listed fields of one entry, as plain JSON values."""
    values = {name: getattr(entry, name) for name in ENTRY_FIELDS}
    date = values["expected_departure_date"]
    values["expected_departure_date"] = date.isoformat() if date else None
    return values


# Issue 8 (legitimate basis): a pre-departure list is the one channel that sends names to UNHCR without the person's
# consent; its basis is the inter-agency arrangement of the Letter of 16 January 2003, stated on every copy of the list
# (page, API, webhook body, e-mail, CSV and PDF attachments are printed from here and from the list page).
LIST_BASIS = SharingBasis.INTER_AGENCY_ARRANGEMENT


def list_basis_text() -> str:
    return str(LIST_BASIS.label)


def list_payload(pdl: PreDepartureList) -> dict[str, Any]:
    """The list as partner systems receive it (webhook body)."""
    return {
        "reference": pdl.reference,
        "iom_office": pdl.iom_office.code,
        "unhcr_office": pdl.unhcr_office.code,
        "built_at": pdl.created_at.isoformat(),
        "lead_time_days": pdl.lead_time_days,
        "basis": {"code": LIST_BASIS.value, "label": list_basis_text()},
        "entries": [{**entry_values(e), "id": e.pk, "late": e.is_late} for e in pdl.entries.all()],
    }


def _headers() -> list[str]:
    return [str(PreDepartureEntry._meta.get_field(name).verbose_name) for name in ENTRY_FIELDS] + [_("late")]


def _plain(text: str) -> str:
    return text


def _printers(cell: Callable[[str], str]) -> list[Callable[[Any], str]]:
    """How each field of ENTRY_FIELDS is printed, then passed through `cell`: the change as its label, the
    date as ISO, text as it is (blank when empty). The labels are translated once per document, not once per row."""
    labels = {kind.value: cell(str(kind.label)) for kind in ChangeKind}

    def text(value: Any) -> str:
        return cell(str(value or ""))

    def date(value: Any) -> str:
        # YYYY-MM-DD starts with a digit: never a formula, so `cell` has nothing to do.
        return value.isoformat() if value else ""

    return [
        labels.__getitem__ if name == "change" else date if name == "expected_departure_date" else text
        for name in ENTRY_FIELDS
    ]


def entry_table(pdl: PreDepartureList, cell: Callable[[str], str] = _plain) -> tuple[list[list[str]], list[int]]:
    """The list's entries as printed (each cell passed through `cell`), in the list's order, and the ids of
    their people in the same order — for the access log, never printed. One query of the allow-listed fields
    (ENTRY_FIELDS), no model instance per entry."""
    printers = _printers(cell)
    late = cell(_("yes"))
    rows: list[list[str]] = []
    people: list[int] = []
    # In the model's order (departure date, names), as the page shows them.
    for *values, is_late, person in pdl.entries.values_list(*ENTRY_FIELDS, "is_late", "beneficiary_id"):
        row = [print_(value) for print_, value in zip(printers, values, strict=True)]
        row.append(late if is_late else "")
        rows.append(row)
        people.append(person)
    return rows, people


def list_csv_export(pdl: PreDepartureList) -> tuple[bytes, list[int]]:
    """The CSV attachment, and the ids of the people it names (in its order) for the access log of a download.
    UTF-8 with a BOM, so that spreadsheets read Arabic names right; cells that would run as formulas neutralised.
    PostgreSQL writes the entries itself (COPY) where it writes them as Python's csv module would; otherwise they are
    written here — the same bytes either way."""
    buffer = io.StringIO()
    csv.writer(buffer).writerow(_headers())
    head = ("\ufeff" + buffer.getvalue()).encode("utf-8")
    copied = _csv_records_copied(pdl)
    if copied is not None:
        records, people = copied
        return head + records, people
    rows, people = entry_table(pdl, neutralise)
    buffer = io.StringIO()
    csv.writer(buffer).writerows(rows)
    return head + buffer.getvalue().encode("utf-8"), people


# --- The CSV written by PostgreSQL ---------------------------------------------------------------------------------
# COPY ... WITH (FORMAT csv) quotes a value exactly when Python's csv writer (excel dialect, QUOTE_MINIMAL) does —
# when it holds a comma, a double quote, CR or LF — and doubles the quotes inside. Three differences remain, handled
# here: COPY quotes an empty string (""), which Python leaves bare, so empty cells are sent as NULL; COPY ends records
# with LF, Python with CRLF, so the terminators are replaced — and a list where a value holds an LF (kept as it is
# inside a quoted value by both) is left to the Python path; COPY prints dates in the server's DateStyle, so only
# ISO (YYYY-MM-DD, as date.isoformat()) is taken.
_FORMULA_CODES = [ord(prefix) for prefix in FORMULA_PREFIXES]  # one character each


class _CsvText(Func):
    """A text cell as `neutralise(str(value or ""))` prints it, but NULL when empty. ascii() is the code point of the
    first character, 0 for an empty string."""

    template = (
        "CASE ascii(%(expressions)s) WHEN 0 THEN NULL "
        + " ".join(f"WHEN {code} THEN '''' || %(expressions)s" for code in _FORMULA_CODES)
        + " ELSE %(expressions)s END"
    )
    output_field = TextField()


def _csv_records_copied(pdl: PreDepartureList) -> tuple[bytes, list[int]] | None:
    """The entries' CSV records (no header) and their people's ids, written by PostgreSQL; None where the database
    would not write them byte for byte as `entry_table` and csv.writer do (see above)."""
    if connection.vendor != "postgresql":
        return None
    labels = {kind.value: neutralise(str(kind.label)) for kind in ChangeKind}
    late = neutralise(_("yes"))
    cells: list[Any] = []
    for name in ENTRY_FIELDS:
        if name == "change":
            cells.append(Case(*(When(change=value, then=Value(label or None)) for value, label in labels.items())))
        elif name == "expected_departure_date":
            cells.append(F(name))  # printed in the DateStyle, checked below
        else:
            cells.append(_CsvText(name))
    cells.append(Case(When(is_late=True, then=Value(late or None))))
    # The person's id first, for the access log: cut off below, never written. In the model's order, as entry_table.
    sql, params = pdl.entries.values_list("beneficiary_id", *cells).query.sql_with_params()
    buffer = io.BytesIO()
    with connection.cursor() as cursor:
        raw = cursor.cursor
        if not hasattr(raw, "copy_expert"):  # psycopg2's; psycopg 3 copies otherwise
            return None
        if not connection.connection.get_parameter_status("DateStyle").startswith("ISO"):
            return None
        copy = cursor.mogrify(f"COPY ({sql}) TO STDOUT WITH (FORMAT csv)", params).decode()
        # Recorded with the request's other queries where Django records them (DEBUG, query counts in tests).
        recorded = cursor.debug_sql(copy) if hasattr(cursor, "debug_sql") else contextlib.nullcontext()
        with recorded, connection.wrap_database_errors:
            raw.copy_expert(copy, buffer)
        count = raw.rowcount
    lines = buffer.getvalue().split(b"\n")
    lines.pop()  # what follows the last terminator: nothing
    if len(lines) != count:
        return None  # a value holds a line break
    people, records = [], []
    for line in lines:
        person, _comma, record = line.partition(b",")
        people.append(int(person))
        records.append(record)
    return b"".join([b"\r\n".join(records), b"\r\n"] if records else []), people


def list_csv(pdl: PreDepartureList) -> bytes:
    """The CSV attachment of the list's e-mail (UTF-8 with a BOM; cells that would run as formulas neutralised)."""
    return list_csv_export(pdl)[0]


def list_pdf(pdl: PreDepartureList) -> bytes:
    """The PDF attachment of the list's e-mail."""
    return list_pdf_export(pdl)[0]


def list_pdf_export(pdl: PreDepartureList) -> tuple[bytes, list[int]]:
    """The PDF attachment, and the ids of the people it names (in its order) for the access log of a download."""
    rows, people = entry_table(pdl)
    doc = PdfDocument(
        title=_("Pre-departure list %(reference)s") % {"reference": pdl.reference},
        subtitle=_("IOM → UNHCR (joint letter of 16 January 2003)") + " · " + list_basis_text(),
        created=pdl.created_at,
        footer=f"{pdl.reference} · {pdl.iom_office.code} → {pdl.unhcr_office.code}",
        landscape=True,
    )
    doc.key_values(
        [
            (_("From"), f"{pdl.iom_office.code} — {pdl.iom_office.name}"),
            (_("To"), f"{pdl.unhcr_office.code} — {pdl.unhcr_office.name}"),
            (_("Built at"), pdl.created_at.strftime("%Y-%m-%d %H:%M %Z")),
            (_("Lead time"), _("%(days)d days") % {"days": pdl.lead_time_days}),
        ]
    )
    doc.table(_headers(), rows, empty=_("No entries."))
    return doc.render(), people


def list_email_text(pdl: PreDepartureList) -> tuple[str, str]:
    """Subject and body of the e-mail to the UNHCR office: no names in the body; they travel in the attachments."""
    count = pdl.entries.count()
    subject = _("Pre-departure list %(reference)s from %(office)s (%(count)d entries)") % {
        "reference": pdl.reference,
        "office": pdl.iom_office.code,
        "count": count,
    }
    body = "\n".join(
        [
            _("IOM office %(iom)s sends UNHCR office %(unhcr)s its pre-departure list %(reference)s.")
            % {"iom": pdl.iom_office.code, "unhcr": pdl.unhcr_office.code, "reference": pdl.reference},
            _("Entries: %(count)d. The names and dates are in the attached CSV and PDF files.") % {"count": count},
            _("Basis for sharing: %(basis)s.") % {"basis": list_basis_text()},
            _("Acknowledge it and record any voluntariness concern at %(url)s")
            % {"url": settings.SITE_URL.rstrip("/") + pdl.get_absolute_url()},
        ]
    )
    return subject, body


def notice_text(notice: Notification) -> str:
    lines = [notice.title, "", notice.body] if notice.body else [notice.title]
    if notice.url:
        lines += ["", settings.SITE_URL.rstrip("/") + notice.url]
    return "\n".join(lines)


def digest_text(user, notification_ids: list[int]) -> tuple[str, str]:
    notices = list(Notification.objects.filter(recipient=user, pk__in=notification_ids).order_by("created_at"))
    subject = _("jointops: %(count)d notices today") % {"count": len(notices)}
    body = "\n\n".join(notice_text(n) for n in notices) or _("No notices.")
    return subject, body
