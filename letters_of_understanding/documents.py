"""The PDF of a Letter of Understanding, for signature and the archive.

A version of the text in force (MOU §46: every version is kept) prints with its number, the date it took effect and
the SHA-256 of exactly the text printed; an amended version names its amendment and who approved it. A letter not yet
in force prints its draft text as it stands, marked "DRAFT — not in force" on the first page and in every footer.
Laid out by jointops.pdf; the same letter in the same state gives the same bytes.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from django.utils import translation
from django.utils.translation import gettext as _

from jointops.pdf import PdfDocument
from letters_of_understanding import content as text
from letters_of_understanding.choices import DRAFTING, Agency
from letters_of_understanding.models import LetterOfUnderstanding, LouVersion
from letters_of_understanding.selectors import lou_version_get

LIST_FIELDS = ("activities", "funding", "secondments")


def _date(value: dt.date | dt.datetime | None) -> str:
    if value is None:
        return "—"
    if isinstance(value, dt.datetime):
        value = value.date()
    return value.isoformat()


def _person(user: Any) -> str:
    if user is None:
        return ""
    return user.get_full_name() or user.get_username()


def _party(office) -> str:
    return f"{office.name} ({office.code}) — {office.organisation.name}"


def _amendment_rows(version: LouVersion) -> list[tuple[str, str]]:
    amendment = version.amendment
    proposed_by = _person(amendment.proposed_by) or str(amendment.proposed_by_client or "")  # a partner system
    proposer = ", ".join(filter(None, [amendment.proposed_by_agency, proposed_by]))
    approver = ", ".join(filter(None, [amendment.decided_by_agency, _person(amendment.decided_by)]))
    numbered = {"number": amendment.number, "base": amendment.base_text_version}
    rows = [
        (_("Amendment"), _("Amendment %(number)s to version %(base)s") % numbered),
        (_("Proposed by"), f"{proposer} ({_date(amendment.proposed_at)})"),
        (_("What changes and why"), amendment.rationale),
        (_("Approved by"), f"{approver} ({_date(amendment.decided_at)})"),
    ]
    if amendment.decision_note:
        rows.append((_("Decision note"), amendment.decision_note))
    rows.append((_("Effective from"), _date(version.effective_from)))
    return rows


def lou_pdf(*, lou: LetterOfUnderstanding, version: int | None = None) -> tuple[bytes, str]:
    """(PDF bytes, file name) of the text of `lou`: version `version` of the text in force (default: the current
    one), or the draft as it stands. Raises Http404 for an unknown version."""
    lou = LetterOfUnderstanding.objects.select_related("unhcr_office__organisation", "iom_office__organisation").get(
        pk=lou.pk
    )
    kept: LouVersion | None = None
    if version is not None:
        kept = lou_version_get(lou=lou, number=version)
    elif lou.text_version:
        kept = lou_version_get(lou=lou, number=lou.text_version)
    if kept is not None:
        kept = LouVersion.objects.select_related(
            "amendment__proposed_by", "amendment__proposed_by_client", "amendment__decided_by"
        ).get(pk=kept.pk)
        content = kept.content
        created = kept.created_at
        filename = f"{lou.reference}-v{kept.number}.pdf"
    else:
        content = text.content_of(lou)
        created = lou.updated_at
        filename = f"{lou.reference}-draft.pdf"
    digest = text.content_hash(content)
    is_draft = kept is None
    draft_mark = _("DRAFT — not in force")
    if is_draft:
        footer = f"{lou.reference} · {draft_mark} · SHA-256 {digest}"
    else:
        footer = f"{lou.reference} · {_('version %(number)s') % {'number': kept.number}} · SHA-256 {digest}"

    doc = PdfDocument(
        title=_("Letter of Understanding"),
        subtitle=f"{lou.reference} — {content.get('title', '')}",
        created=created,
        footer=footer,
        author="UNHCR — IOM",
        subject=f"{lou.reference} {content.get('title', '')}",
        language=translation.get_language() or "",
    )
    if is_draft:
        doc.notice(draft_mark)
    elif kept.number < lou.text_version:
        doc.notice(
            _("Version %(number)s — superseded by version %(current)s")
            % {"number": kept.number, "current": lou.text_version}
        )

    particulars = [
        (_("Reference"), lou.reference),
        (_("Title"), content.get("title", "")),
        (_("UNHCR party"), _party(lou.unhcr_office)),
        (_("IOM party"), _party(lou.iom_office)),
        (_("Status"), str(lou.get_status_display())),
        (_("Version"), _("Draft (not in force)") if is_draft else str(kept.number)),
    ]
    if not is_draft:
        particulars.append((_("Effective from"), _date(kept.effective_from)))
        particulars.append((_("In force since"), _date(lou.entered_into_force_on)))
    if lou.termination_notice_served_on:
        particulars.append(
            (
                _("Termination notice (MOU §45)"),
                _("served by %(party)s on %(served)s; takes effect on %(effective)s")
                % {
                    "party": lou.termination_notice_by,
                    "served": _date(lou.termination_notice_served_on),
                    "effective": _date(lou.termination_effective_on),
                },
            )
        )
    if lou.ended_on:
        particulars.append((_("Ended on"), _date(lou.ended_on)))
    particulars.append((_("Content hash (SHA-256)"), digest))
    doc.key_values(particulars)
    doc.paragraph(
        _(
            "The content hash is the SHA-256 of the text below in canonical form: two copies with the same hash "
            "carry the same text."
        ),
        small=True,
    )

    for field_name, (label, lines) in zip(text.ORDER, text.readable(content), strict=True):
        if field_name == "title":  # printed above, with the reference
            continue
        lines = [line for line in lines if line.strip()]
        if not lines:
            doc.section(str(label), paragraphs=["—"])
        elif field_name in LIST_FIELDS:
            doc.section(str(label), bullets=lines)
        else:
            doc.section(str(label), paragraphs=lines)

    if kept is not None and kept.amendment_id:
        doc.heading(_("Amendment (MOU §46)"))
        doc.key_values(_amendment_rows(kept))

    doc.heading(_("Signatures"))
    signatures = lou.signatures.filter(voided_at__isnull=True).select_related("office").order_by("signed_on", "pk")
    doc.table(
        [_("Party"), _("Signatory"), _("Signed on"), _("SHA-256 of the text signed")],
        [
            [
                f"{Agency(sig.agency).label}\n{sig.office.name}",
                "\n".join(filter(None, [sig.signatory_name, sig.signatory_title])),
                _date(sig.signed_on),
                sig.content_hash,
            ]
            for sig in signatures
        ],
        widths=(18, 20, 13, 49),
        empty=_("Not signed yet."),
    )
    if lou.status in DRAFTING:
        doc.paragraph(
            _("The letter enters into force when both parties have signed this text (MOU §44 by analogy)."),
            small=True,
        )
    elif kept is not None and kept.number > 1:
        doc.paragraph(
            _(
                "The parties signed version 1 of the text; this version results from amendments proposed by one "
                "party and approved by the other (MOU §46)."
            ),
            small=True,
        )
    return doc.render(), filename
