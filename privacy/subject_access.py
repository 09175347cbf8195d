"""The subject access export: everything held on one person, as JSON and as PDF (issue 8).

UNHCR's Policy on the Protection of Personal Data of Persons of Concern (2015, §6.1 "right of access") and IOM's
Data Protection Principles (principle 9, "access and transparency"): a person may obtain a copy of the personal
data held on them, with the purposes, the recipients (by category) and the source.

`subject_access_data(person)` reads; it neither checks permissions nor logs. The export itself (the permission
check and the access-log row, in one transaction) is `privacy.services.subject_access_export`.

The JSON shape (`FORMAT`, version `VERSION`; dates and times ISO 8601, times in UTC offset form):

    {
      "format": "jointops-subject-access", "version": 1, "generated_at": "2026-05-04T10:00:00+00:00",
      "person": {"id": 12, "anonymised_at": null, "fields": {"given_name": "...", ...}},
      "labels": {"<section>": {"<field>": "<label>"}},        # the human label of every field below
      "identity_documents": [{field: value}], "household": {field: value} | null,
      "category_changes": [...], "shares": [...],
      "return_cases": [{..., "membership": {...}, "moves": [...], "measures": [...], "visits": [...]}],
      "pre_departure_list_entries": [{..., "list": {"reference", "iom_office", "unhcr_office", ...}}],
      "consultations": [...], "data_subject_requests": [...], "merged_records": [{"id", "fields": {...}}],
      "anonymisations": [{"id", "at", "reason", "retention_days", "request", "by"}],
      "access_log": [{"at", "action", "purpose", "by": <actor>}],
      "history": [{"at", "kind", "by": <actor>, "changes": [{"field", "label", "old", "new"}]}]
    }

Every record gives every column of its table except those in its section's `left_out` (each with the reason).
Foreign keys are given by their code or reference (offices, categories, cases, lists), never by another person.

Staff are never named. An <actor> is {"kind": "staff", "organisation": "IOM", "roles": ["Field staff at
IOM-AF-KBL"]}, {"kind": "partner_system", "organisation", "office", "name"} or {"kind": "system"}: the person is
told which organisation, office and kind of actor read or changed their record (the recipients by category, as
both policies require), while the staff members' own names — their personal data, and in return operations a
matter of their safety — stay out. The roles are those the account holds at the time of the export.
"""

from __future__ import annotations

import datetime as dt
import json
import uuid
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any

from django.db import connection, models
from django.db.models import TextField
from django.db.models.functions import Cast
from django.utils import timezone
from django.utils.text import capfirst
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django_countries import countries
from django_countries.fields import Country, CountryField

from beneficiaries.choices import SpecificNeed
from beneficiaries.models import (
    Beneficiary,
    BeneficiaryCategory,
    BeneficiaryShare,
    CategoryChange,
    Household,
    IdentityDocument,
)
from jointops.models import AccessLog, ApiClient, Consultation, Membership, Office, Organisation, User
from notifications.models import PreDepartureEntry, PreDepartureList
from privacy.choices import RecordType
from privacy.models import Anonymisation, DataSubjectRequest
from returns.models import CaseMeasure, CaseTransition, ReintegrationVisit, ReturnCase, ReturnCaseMember

FORMAT = "jointops-subject-access"
VERSION = 1

ACTOR_KINDS = frozenset({"staff", "partner_system", "system"})
_VERSION_COUNTER = "an internal edit counter (optimistic locking), not information about the person"


@dataclass(frozen=True)
class Section:
    """One kind of record in the export: its model and the columns left out, each with the reason."""

    key: str
    model: type[models.Model]
    left_out: dict[str, str] = field(default_factory=dict)


SECTIONS = (
    Section(
        "person",
        Beneficiary,
        {
            "name_key": "a search key derived from the names given in full (no other information)",
            "family_key": "a search key derived from the family name given in full (no other information)",
            "search_text": "the names and references above, folded for searching (no other information)",
            "version": _VERSION_COUNTER,
        },
    ),
    Section("identity_documents", IdentityDocument, {"beneficiary": "the person themselves"}),
    Section(
        "household",
        Household,
        {"head": "the head is another person unless `is_head` says otherwise", "version": _VERSION_COUNTER},
    ),
    Section("category_changes", CategoryChange, {"beneficiary": "the person themselves"}),
    Section("shares", BeneficiaryShare, {"beneficiary": "the person themselves"}),
    Section("return_cases", ReturnCase, {"version": _VERSION_COUNTER}),
    Section("case_membership", ReturnCaseMember, {"case": "given by the case around it", "beneficiary": "the person"}),
    Section("case_moves", CaseTransition, {"case": "given by the case around it"}),
    Section("case_measures", CaseMeasure, {"case": "given by the case around it"}),
    Section("case_visits", ReintegrationVisit, {"case": "given by the case around it"}),
    Section("pre_departure_list_entries", PreDepartureEntry, {"beneficiary": "the person themselves"}),
    Section("pre_departure_lists", PreDepartureList, {}),
    Section(
        "consultations",
        Consultation,
        {"participants": "the names of the staff and officials taking part: their own personal data"},
    ),
    Section(
        "data_subject_requests", DataSubjectRequest, {"person": "the person themselves", "version": _VERSION_COUNTER}
    ),
    Section(
        "anonymisations",
        Anonymisation,
        {"record_type": "always the person's record", "object_id": "the person themselves"},
    ),
)
SECTION = {section.key: section for section in SECTIONS}

# Models linked to a person (a foreign key to Beneficiary) and the section that exports them. A test walks every
# model: one linked to a person and missing here fails it, until the export covers it.
COVERED_MODELS = {
    Beneficiary: "person (and merged_records: records merged into this one)",
    Household: "household",
    IdentityDocument: "identity_documents",
    CategoryChange: "category_changes",
    BeneficiaryShare: "shares",
    ReturnCaseMember: "return_cases",
    PreDepartureEntry: "pre_departure_list_entries",
    DataSubjectRequest: "data_subject_requests",
}


# --- Values ---------------------------------------------------------------------------------------------------


class _Actors:
    """Describes users and partner systems without naming staff; one query per staff member at most."""

    def __init__(self) -> None:
        self._users: dict[int, dict] = {}

    def user(self, user: User | None) -> dict:
        if user is None:
            return {"kind": "system"}
        if user.pk not in self._users:
            memberships = Membership.objects.filter(user_id=user.pk).select_related("office").order_by("office__code")
            roles = [
                _("%(role)s at %(office)s") % {"role": m.get_role_display(), "office": m.office.code}
                for m in memberships
            ]
            organisation = Organisation.objects.filter(pk=user.organisation_id).values_list("code", flat=True).first()
            self._users[user.pk] = {"kind": "staff", "organisation": organisation or "", "roles": roles}
        return dict(self._users[user.pk])

    @staticmethod
    def client(client: ApiClient) -> dict:
        return {
            "kind": "partner_system",
            "organisation": client.organisation.code,
            "office": client.office.code,
            "name": client.name,
        }

    def either(self, user: User | None, client: ApiClient | None) -> dict:
        return self.client(client) if client is not None else self.user(user)


def _json(value: Any) -> Any:
    """A plain JSON value: dates ISO, countries by code, UUIDs as text."""
    if value is None or isinstance(value, bool | int | float | str):
        return value
    if isinstance(value, dt.datetime):
        return value.isoformat()
    if isinstance(value, dt.date):
        return value.isoformat()
    if isinstance(value, Country):
        return value.code or ""
    if isinstance(value, uuid.UUID):
        return str(value)
    if isinstance(value, list | tuple):
        return [_json(item) for item in value]
    if isinstance(value, dict):
        return {str(key): _json(item) for key, item in value.items()}
    return str(value)


def _related(obj: Any, actors: _Actors) -> Any:
    """A related record as the export names it: by code or reference, staff only by organisation and role."""
    if obj is None:
        return None
    if isinstance(obj, User):
        return actors.user(obj)
    if isinstance(obj, ApiClient):
        return actors.client(obj)
    if isinstance(obj, Office | Organisation | BeneficiaryCategory):
        return obj.code
    if isinstance(obj, Household | ReturnCase | PreDepartureList):
        return obj.reference
    if isinstance(obj, Beneficiary | DataSubjectRequest):
        return obj.pk
    return str(obj)


def _record(instance: models.Model, section: Section, actors: _Actors) -> dict[str, Any]:
    """Every column of the record except the section's `left_out`, as JSON values."""
    values: dict[str, Any] = {}
    for model_field in section.model._meta.concrete_fields:
        if model_field.name in section.left_out:
            continue
        if model_field.is_relation:
            values[model_field.name] = _related(getattr(instance, model_field.name), actors)
        else:
            values[model_field.name] = _json(getattr(instance, model_field.attname))
    for m2m in section.model._meta.many_to_many:
        if m2m.name not in section.left_out:
            values[m2m.name] = [_related(obj, actors) for obj in getattr(instance, m2m.name).all()]
    return values


def _labels(section: Section) -> dict[str, str]:
    fields = [*section.model._meta.concrete_fields, *section.model._meta.many_to_many]
    return {f.name: str(capfirst(f.verbose_name)) for f in fields if f.name not in section.left_out}


def _access_rows(person_id: int):
    """The access-log rows naming the person (resource "beneficiary"), oldest first."""
    rows = AccessLog.objects.filter(resource="beneficiary").select_related(
        "user", "api_client__organisation", "api_client__office"
    )
    if connection.vendor == "postgresql":
        rows = rows.filter(object_ids__contains=[str(person_id)])
    else:  # SQLite has no JSON containment: the ids are stored as strings, so '"12"' matches 12 and not 120.
        rows = rows.annotate(ids_text=Cast("object_ids", TextField())).filter(ids_text__contains=f'"{person_id}"')
    return rows.order_by("at", "pk")


def _history(person: Beneficiary, actors: _Actors) -> list[dict]:
    """The record's change history, oldest first: when, what kind of change, by whom (no staff name), and each
    field changed with its old and new values (they are data held on the person too)."""
    section = SECTION["person"]
    records = list(person.history.select_related("history_user", "history_api_client").order_by("history_date", "pk"))
    kinds = {"+": "created", "~": "changed", "-": "deleted"}
    entries = []
    previous = None
    for record in records:
        changes = []
        if record.history_type == "~" and previous is not None:
            for change in record.diff_against(previous).changes:
                if change.field in section.left_out:
                    continue
                model_field = Beneficiary._meta.get_field(change.field)
                changes.append(
                    {
                        "field": change.field,
                        "label": str(capfirst(model_field.verbose_name)),
                        "old": _json(change.old),
                        "new": _json(change.new),
                    }
                )
        entries.append(
            {
                "at": _json(record.history_date),
                "kind": kinds.get(record.history_type, record.history_type),
                "by": actors.either(record.history_user, record.history_api_client),
                "changes": sorted(changes, key=lambda row: row["field"]),
            }
        )
        previous = record
    return entries


def _return_cases(person: Beneficiary, actors: _Actors) -> list[dict]:
    memberships = (
        ReturnCaseMember.objects.filter(beneficiary=person)
        .select_related("case__lead_office", "case__operation", "case__agreement", "case__created_by")
        .order_by("case__created_at", "pk")
    )
    cases = []
    for membership in memberships:
        case = membership.case
        entry = _record(case, SECTION["return_cases"], actors)
        entry["membership"] = _record(membership, SECTION["case_membership"], actors)
        entry["members_count"] = case.members.count()
        entry["moves"] = [
            _record(move, SECTION["case_moves"], actors)
            for move in case.transitions.select_related("user", "api_client__organisation", "api_client__office")
        ]
        entry["measures"] = [
            _record(measure, SECTION["case_measures"], actors)
            for measure in case.measures.select_related("measure", "done_by").order_by("done_on", "pk")
        ]
        entry["visits"] = [
            _record(visit, SECTION["case_visits"], actors)
            for visit in case.visits.select_related("recorded_by").order_by("visited_on", "pk")
        ]
        cases.append(entry)
    return cases


def _pre_departure_entries(person: Beneficiary, actors: _Actors) -> list[dict]:
    entries = (
        PreDepartureEntry.objects.filter(beneficiary=person)
        .select_related("list__iom_office", "list__unhcr_office", "case", "concern_by", "record_closed_by")
        .order_by("list__created_at", "pk")
    )
    result = []
    for entry in entries:
        values = _record(entry, SECTION["pre_departure_list_entries"], actors)
        pdl = entry.list
        values["list"] = {
            **_record(pdl, SECTION["pre_departure_lists"], actors),
            # Sent to (the UNHCR office) and how: e-mail or webhook, when delivered (never the addresses' content).
            "deliveries": [
                {"channel": d.channel, "status": d.status, "delivered_at": _json(d.done_at)}
                for d in pdl.deliveries.order_by("created_at", "pk")
            ],
        }
        result.append(values)
    return result


def _consultations(person: Beneficiary, case_ids: Iterable[int], actors: _Actors) -> list[dict]:
    """Consultations between the agencies linked to the person's record or to one of their return cases."""
    from django.contrib.contenttypes.models import ContentType

    person_type = ContentType.objects.get_for_model(Beneficiary)
    case_type = ContentType.objects.get_for_model(ReturnCase)
    condition = models.Q(linked_type=person_type, linked_id=person.pk)
    if case_ids:
        condition |= models.Q(linked_type=case_type, linked_id__in=list(case_ids))
    rows = (
        Consultation.objects.filter(condition)
        .select_related("recorded_by_office", "linked_type", "created_by")
        .prefetch_related("offices")
        .order_by("held_on", "pk")
    )
    return [_record(row, SECTION["consultations"], actors) for row in rows]


def subject_access_data(person: Beneficiary, *, generated_at: dt.datetime | None = None) -> dict[str, Any]:
    """Everything held on `person` (see the module's docstring for the shape). No permission check, no log."""
    actors = _Actors()
    person = Beneficiary.objects.select_related(
        "office", "organisation", "category", "household", "merged_into", "created_by"
    ).get(pk=person.pk)
    household = None
    if person.household_id:
        household = _record(person.household, SECTION["household"], actors)
        household["is_head"] = person.household.head_id == person.pk
        household["members_count"] = person.household.members.count()
    return_cases = _return_cases(person, actors)
    case_ids = ReturnCaseMember.objects.filter(beneficiary=person).values_list("case_id", flat=True)
    merged = Beneficiary.objects.filter(merged_into=person).select_related(
        "office", "organisation", "category", "household", "created_by"
    )
    access_log = [
        {
            "at": _json(row.at),
            "action": row.action,
            "purpose": row.purpose,
            "by": actors.either(row.user, row.api_client),
        }
        for row in _access_rows(person.pk)
    ]
    return {
        "format": FORMAT,
        "version": VERSION,
        "generated_at": _json(generated_at or timezone.now()),
        "person": {
            "id": person.pk,
            "anonymised_at": _json(person.anonymised_at),
            "fields": _record(person, SECTION["person"], actors),
        },
        "labels": {section.key: _labels(section) for section in SECTIONS},
        "identity_documents": [
            _record(d, SECTION["identity_documents"], actors) for d in person.documents.order_by("pk")
        ],
        "household": household,
        "category_changes": [
            _record(c, SECTION["category_changes"], actors)
            for c in person.category_changes.select_related("category", "recorded_by").order_by("effective_date", "pk")
        ],
        "shares": [
            _record(s, SECTION["shares"], actors)
            for s in person.shares.select_related("office", "shared_by").order_by("shared_at", "pk")
        ],
        "return_cases": return_cases,
        "pre_departure_list_entries": _pre_departure_entries(person, actors),
        "consultations": _consultations(person, list(case_ids), actors),
        "data_subject_requests": [
            _record(r, SECTION["data_subject_requests"], actors)
            for r in person.data_requests.select_related("office", "decided_by", "recorded_by").order_by(
                "received_on", "pk"
            )
        ],
        "merged_records": [
            {"id": record.pk, "fields": _record(record, SECTION["person"], actors)} for record in merged.order_by("pk")
        ],
        "anonymisations": [
            _record(row, SECTION["anonymisations"], actors)
            for row in Anonymisation.objects.filter(record_type=RecordType.PERSON, object_id=person.pk)
            .select_related("request", "by")
            .order_by("at", "pk")
        ],
        "access_log": access_log,
        "history": _history(person, actors),
    }


# --- PDF ------------------------------------------------------------------------------------------------------

SECTION_TITLES = {
    "identity_documents": gettext_lazy("Identity and travel documents"),
    "household": gettext_lazy("Household"),
    "category_changes": gettext_lazy("Category history"),
    "shares": gettext_lazy("Sharing with the other agency"),
    "return_cases": gettext_lazy("Return cases"),
    "pre_departure_list_entries": gettext_lazy("Pre-departure lists naming the person"),
    "consultations": gettext_lazy("Consultations between the agencies about the person or their cases"),
    "data_subject_requests": gettext_lazy("Requests about the data"),
    "merged_records": gettext_lazy("Duplicate records merged into this one"),
    "anonymisations": gettext_lazy("Anonymisation of the record"),
    "access_log": gettext_lazy("Who read or exported the record"),
    "history": gettext_lazy("Changes to the record"),
}


def actor_text(actor: dict | None) -> str:
    """An actor of the JSON in words, for the PDF and the pages: organisation, office and kind, never a name."""
    if not actor or actor.get("kind") == "system":
        return _("The system")
    if actor.get("kind") == "partner_system":
        return _("Partner system “%(name)s” of %(organisation)s (%(office)s)") % {
            "name": actor.get("name", ""),
            "organisation": actor.get("organisation", ""),
            "office": actor.get("office", ""),
        }
    roles = "; ".join(actor.get("roles") or []) or _("no role now")
    return _("Staff of %(organisation)s (%(roles)s)") % {"organisation": actor.get("organisation", ""), "roles": roles}


def _display(model: type[models.Model], name: str, value: Any) -> str:
    """A JSON value as printed: choices by their label, countries by name, actors in words, dates ISO."""
    if value is None or value == "" or value == []:
        return "—"
    if isinstance(value, dict):
        if value.get("kind") in ACTOR_KINDS:
            return actor_text(value)
        return json.dumps(value, ensure_ascii=False, sort_keys=True)
    try:
        model_field = model._meta.get_field(name)
    except Exception:  # noqa: BLE001 - an extra key of the section (is_head, members_count...)
        model_field = None
    if isinstance(value, bool):
        return _("Yes") if value else _("No")
    if isinstance(model_field, CountryField):
        codes = value if isinstance(value, list) else [value]
        return ", ".join(f"{countries.name(code) or code} ({code})" for code in codes)
    if name == "specific_needs" and isinstance(value, list):
        return ", ".join(str(SpecificNeed(v).label) if v in SpecificNeed.values else str(v) for v in value)
    if isinstance(value, list):
        return ", ".join(_display(model, "", item) for item in value)
    if model_field is not None and getattr(model_field, "choices", None) and not model_field.is_relation:
        label = dict(model_field.flatchoices).get(value)
        return f"{label} ({value})" if label is not None else str(value)
    return str(value)


# Keys holding nested records (printed as blocks of their own, not as a value).
NESTED = frozenset({"membership", "moves", "measures", "visits", "list", "deliveries"})


def _rows(model: type[models.Model], values: dict[str, Any], labels: dict[str, str]) -> list[tuple[str, str]]:
    rows = []
    for name, value in values.items():
        if name in NESTED:
            continue  # nested records: printed as their own block
        rows.append((labels.get(name, name.replace("_", " ").capitalize()), _display(model, name, value)))
    return rows


def subject_access_pdf(data: dict[str, Any], *, office_code: str = "") -> bytes:
    """The export as a PDF (DejaVu Sans, Arabic shaped and right to left), from the JSON data and nothing else."""
    from jointops.pdf import PdfDocument

    labels = data["labels"]
    person_id = data["person"]["id"]
    generated = dt.datetime.fromisoformat(data["generated_at"])
    doc = PdfDocument(
        title=_("Personal data held on record #%(id)s") % {"id": person_id},
        subtitle=_("Subject access export (UNHCR and IOM data protection policies)"),
        created=generated,
        footer=_("Record #%(id)s · %(office)s · generated %(when)s")
        % {"id": person_id, "office": office_code, "when": data["generated_at"]},
        subject=_("Subject access export"),
    )
    if data["person"]["anonymised_at"]:
        doc.notice(_("This record was anonymised on %(when)s.") % {"when": data["person"]["anonymised_at"]})
    doc.paragraph(
        _(
            "Everything this system holds on the person: the record, its documents, household, category history, "
            "sharing, return cases, pre-departure lists, requests, merged duplicates, who read it and how it "
            "changed. Staff are named by organisation, office and role only."
        ),
        small=True,
    )
    doc.heading(_("The record"))
    doc.key_values(_rows(Beneficiary, data["person"]["fields"], labels["person"]))

    def records(key: str, model: type[models.Model], items: list[dict], label_key: str | None = None) -> None:
        doc.heading(str(SECTION_TITLES[key]))
        if not items:
            doc.paragraph(_("None."))
        for item in items:
            doc.key_values(_rows(model, item, labels[label_key or key]))

    records("identity_documents", IdentityDocument, data["identity_documents"])
    records("household", Household, [data["household"]] if data["household"] else [])
    records("category_changes", CategoryChange, data["category_changes"])
    records("shares", BeneficiaryShare, data["shares"])

    doc.heading(str(SECTION_TITLES["return_cases"]))
    if not data["return_cases"]:
        doc.paragraph(_("None."))
    for case in data["return_cases"]:
        doc.paragraph(_("Return case %(reference)s") % {"reference": case.get("reference", "")}, bold=True)
        doc.key_values(
            _rows(ReturnCase, case, labels["return_cases"])
            + _rows(ReturnCaseMember, case["membership"], labels["case_membership"])
        )
        for key, model, title in (
            ("moves", CaseTransition, _("Moves")),
            ("measures", CaseMeasure, _("Additional measures")),
            ("visits", ReintegrationVisit, _("Reintegration visits")),
        ):
            if case[key]:
                doc.paragraph(title, bold=True)
                for item in case[key]:
                    doc.key_values(_rows(model, item, labels[f"case_{key}"]))

    doc.heading(str(SECTION_TITLES["pre_departure_list_entries"]))
    if not data["pre_departure_list_entries"]:
        doc.paragraph(_("None."))
    for entry in data["pre_departure_list_entries"]:
        pdl = entry["list"]
        rows = _rows(PreDepartureEntry, entry, labels["pre_departure_list_entries"])
        rows += [
            (label, value)
            for label, value in _rows(PreDepartureList, pdl, labels["pre_departure_lists"])
            if label != labels["pre_departure_lists"].get("id")
        ]
        rows += [
            (_("Delivered"), f"{d['channel']} · {d['status']} · {d['delivered_at'] or '—'}") for d in pdl["deliveries"]
        ]
        doc.key_values(rows)

    records("consultations", Consultation, data["consultations"])
    records("data_subject_requests", DataSubjectRequest, data["data_subject_requests"])

    doc.heading(str(SECTION_TITLES["merged_records"]))
    if not data["merged_records"]:
        doc.paragraph(_("None."))
    for merged in data["merged_records"]:
        doc.paragraph(_("Record #%(id)s") % {"id": merged["id"]}, bold=True)
        doc.key_values(_rows(Beneficiary, merged["fields"], labels["person"]))

    records("anonymisations", Anonymisation, data["anonymisations"])

    doc.heading(str(SECTION_TITLES["access_log"]))
    doc.table(
        [_("When"), _("Action"), _("By"), _("Purpose")],
        [[row["at"], row["action"], actor_text(row["by"]), row["purpose"] or "—"] for row in data["access_log"]],
        widths=(3, 1.5, 5, 3),
        empty=_("None."),
    )
    doc.heading(str(SECTION_TITLES["history"]))
    doc.table(
        [_("When"), _("Change"), _("By"), _("Fields changed (old → new)")],
        [
            [
                row["at"],
                row["kind"],
                actor_text(row["by"]),
                "\n".join(
                    f"{c['label']}: {_display(Beneficiary, c['field'], c['old'])} → "
                    f"{_display(Beneficiary, c['field'], c['new'])}"
                    for c in row["changes"]
                )
                or "—",
            ]
            for row in data["history"]
        ],
        widths=(3, 1.5, 4, 6),
        empty=_("None."),
    )
    return doc.render()
