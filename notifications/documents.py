"""What a pre-departure list looks like on each channel — the API, the webhook body, the CSV and PDF attachments,
the e-mail — all printed from `models.ENTRY_FIELDS` and nothing else of a person (Letter; data minimisation)."""

from __future__ import annotations

import csv
import io
from typing import Any

from django.conf import settings
from django.utils.translation import gettext as _

from beneficiaries.exporting import neutralise
from jointops.pdf import PdfDocument
from notifications.choices import ChangeKind
from notifications.models import ENTRY_FIELDS, Notification, PreDepartureEntry, PreDepartureList


def entry_values(entry: PreDepartureEntry) -> dict[str, Any]:
    """The allow-listed fields of one entry, as plain JSON values."""
    values = {name: getattr(entry, name) for name in ENTRY_FIELDS}
    date = values["expected_departure_date"]
    values["expected_departure_date"] = date.isoformat() if date else None
    return values


def list_payload(pdl: PreDepartureList) -> dict[str, Any]:
    """The list as partner systems receive it (webhook body)."""
    return {
        "reference": pdl.reference,
        "iom_office": pdl.iom_office.code,
        "unhcr_office": pdl.unhcr_office.code,
        "built_at": pdl.created_at.isoformat(),
        "lead_time_days": pdl.lead_time_days,
        "entries": [{**entry_values(e), "id": e.pk, "late": e.is_late} for e in pdl.entries.all()],
    }


def _headers() -> list[str]:
    return [str(PreDepartureEntry._meta.get_field(name).verbose_name) for name in ENTRY_FIELDS] + [_("late")]


def _row(entry: PreDepartureEntry) -> list[str]:
    values = entry_values(entry)
    values["change"] = str(ChangeKind(entry.change).label)
    return [str(values[name] or "") for name in ENTRY_FIELDS] + [_("yes") if entry.is_late else ""]


def list_csv(pdl: PreDepartureList) -> bytes:
    buffer = io.StringIO()
    writer = csv.writer(buffer)
    writer.writerow(_headers())
    for entry in pdl.entries.all():
        writer.writerow([neutralise(cell) for cell in _row(entry)])
    return ("\ufeff" + buffer.getvalue()).encode("utf-8")  # a BOM, so that spreadsheets read Arabic names right


def list_pdf(pdl: PreDepartureList) -> bytes:
    doc = PdfDocument(
        title=_("Pre-departure list %(reference)s") % {"reference": pdl.reference},
        subtitle=_("IOM → UNHCR (joint letter of 16 January 2003)"),
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
    doc.table(_headers(), [_row(e) for e in pdl.entries.all()], empty=_("No entries."))
    return doc.render()


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
