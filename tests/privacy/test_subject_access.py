"""The subject access export (issue 8: "everything held on one person, as PDF and JSON, logged").

A person is built through the services with every kind of record linked to them (documents, household, category
changes, a share, a return case with moves, a measure and a reintegration visit, a pre-departure list entry with a
voluntariness concern, a consultation, requests, a merged duplicate, access-log rows, history); then a distinct value
is planted in every text column of every one of those records, and each is found in the JSON and in the PDF's text.
A second person, in the same household and on the same case, has values of their own: none reaches the export.
"""

from __future__ import annotations

import datetime as dt
import io
import itertools
import json

import pytest
from django.apps import apps
from django.db import models
from django.test import Client
from django.urls import reverse
from django.utils import timezone
from pypdf import PdfReader

from beneficiaries import services as beneficiary_services
from beneficiaries.models import Beneficiary
from jointops.audit import log_access
from jointops.choices import Role
from jointops.exceptions import PermissionRefused
from jointops.models import AccessLog, Consultation
from jointops.services import consultation_record
from notifications import services as notification_services
from notifications.models import PreDepartureEntry
from privacy import services
from privacy.subject_access import COVERED_MODELS, SECTION, SECTIONS, subject_access_data, subject_access_pdf
from returns import services as return_services
from returns.models import AdditionalMeasure
from tests.factories.beneficiaries import person
from tests.factories.jointops import staff
from tests.factories.returns import case, move

pytestmark = pytest.mark.django_db

ARABIC_NAME = "محمد احمدی"
TODAY = timezone.localdate()
CONSENT = {"sharing_basis": "consent", "consent_date": TODAY, "consent_scope": "Shared with UNHCR Kabul"}


def text_of(data: bytes) -> str:
    return " ".join(" ".join(page.extract_text().split()) for page in PdfReader(io.BytesIO(data)).pages)


class Planter:
    """Puts a distinct token (same length, so none is a prefix of another) in every text column of a record."""

    def __init__(self, tag: str):
        self.tag = tag
        self.counter = itertools.count(1)
        self.planted: dict[str, list[tuple[str, str]]] = {}  # section -> [(field, token)]

    def __call__(self, instance: models.Model, section_key: str) -> None:
        section = SECTION[section_key]
        updates = {}
        for field in section.model._meta.concrete_fields:
            if field.name in section.left_out or field.primary_key or field.is_relation or field.choices:
                continue
            if isinstance(field, models.CharField | models.TextField):
                token = f"{self.tag}{next(self.counter):03d}"
                updates[field.name] = token
                self.planted.setdefault(section_key, []).append((field.name, token))
            elif isinstance(field, models.JSONField) and section_key == "case_moves":
                token = f"{self.tag}{next(self.counter):03d}"
                updates[field.name] = {"note": token}
                self.planted.setdefault(section_key, []).append((field.name, token))
        type(instance).objects.filter(pk=instance.pk).update(**updates)

    def tokens(self) -> list[str]:
        return [token for rows in self.planted.values() for _field, token in rows]


def _scene(w):
    """The person (`p`) with every kind of linked record, and another person (`q`) beside them."""
    actor = w.iom_af_staff
    p = person(
        w.iom_af,
        actor=actor,
        given_name=ARABIC_NAME,
        family_name="Ahmadi",
        sharing_basis="consent",
        consent_date=TODAY - dt.timedelta(days=3),
        consent_scope="Sharing with UNHCR for the return",
        of_concern_to_unhcr=True,
    )
    q = person(w.iom_af, actor=actor, given_name="Other", family_name="Person")
    duplicate = person(w.iom_af, actor=actor, given_name="Mohamad", family_name="Ahmady")
    beneficiary_services.document_add(actor=actor, beneficiary=duplicate, document_type="passport", number="P1")
    beneficiary_services.beneficiary_merge(actor=actor, survivor=p, duplicate=duplicate)
    p.refresh_from_db()
    beneficiary_services.beneficiary_update(actor=actor, beneficiary=p, version=p.version, phone="+93 700 111 222")
    beneficiary_services.document_add(actor=actor, beneficiary=p, document_type="national_id", number="N2")
    beneficiary_services.document_add(actor=actor, beneficiary=q, document_type="passport", number="Q1")
    household = beneficiary_services.household_create(actor=actor, head=q)
    beneficiary_services.household_add_member(actor=actor, household=household, beneficiary=p, relationship="spouse")
    beneficiary_services.beneficiary_change_category(
        actor=actor, beneficiary=p, category=p.category, effective_date=TODAY, reason="again"
    )
    beneficiary_services.beneficiary_change_category(
        actor=actor, beneficiary=q, category=q.category, effective_date=TODAY, reason="again"
    )
    p.refresh_from_db()
    beneficiary_services.beneficiary_share(actor=actor, beneficiary=p, office=w.unhcr_af)
    measure = AdditionalMeasure.objects.create(office=w.iom_af, label="UNHCR counselling offered")
    c = case(w.iom_af, actor, principal=p, fit_to_travel=True)
    return_services.return_case_add_member(actor=actor, case=c, beneficiary=q)
    return_services.case_measure_record(actor=actor, case=c, measure=measure, done_on=TODAY, note="done")
    c = move(c, actor, "start_counselling", "start_preparing")
    c = return_services.return_case_move(
        actor=actor,
        case=c,
        transition="schedule_departure",
        expected_departure_date=TODAY + dt.timedelta(days=5),
    )
    notification_services.pre_departure_lists_build(actor=None)
    entry = PreDepartureEntry.objects.get(beneficiary=p)
    notification_services.entry_record_concern(actor=w.unhcr_af_staff, entry=entry, concern="Is it voluntary?")
    c = return_services.return_case_move(
        actor=actor, case=c, transition="confirm_embarkation", emergency_justification="urgent"
    )
    c = move(c, actor, "confirm_arrival", "start_reintegration")
    return_services.reintegration_visit_record(actor=actor, case=c, visited_on=TODAY, outcome="settled")
    consultation = consultation_record(
        actor=actor,
        recorded_by_office=w.iom_af,
        offices=[w.unhcr_af],
        held_on=TODAY,
        participants="Staff names",
        subject_kind="other",
        subject="About the case",
        linked=c,
    )
    requests = [
        services.request_record(
            actor=actor, person=p, kind="access", received_on=TODAY, channel="in_person", details="A copy please"
        ),
        services.request_record(
            actor=actor, person=q, kind="correction", received_on=TODAY, channel="letter", details="Q asks"
        ),
    ]
    services.request_decide(
        requests[0], status="granted", outcome="Given", actor=w.iom_af_manager, version=requests[0].version
    )
    log_access(actor=w.unhcr_af_staff, action="view", resource="beneficiary", object_ids=[p.pk], purpose="shared")
    log_access(actor=actor, action="view", resource="beneficiary", object_ids=[q.pk], purpose="OthrPurpose")
    log_access(actor=actor, action="view", resource="beneficiary", object_ids=[p.pk * 10], purpose="OthrTenfold")

    plant, other = Planter("Cnry"), Planter("Othr")
    p.refresh_from_db()
    plant(p, "person")
    plant(duplicate, "person")
    other(q, "person")
    for document in p.documents.all():
        plant(document, "identity_documents")
    for document in q.documents.all():
        other(document, "identity_documents")
    plant(household, "household")
    for change in p.category_changes.all():
        plant(change, "category_changes")
    for change in q.category_changes.all():
        other(change, "category_changes")
    c.refresh_from_db()
    plant(c, "return_cases")
    plant(c.members.get(beneficiary=p), "case_membership")
    for transition in c.transitions.all():
        plant(transition, "case_moves")
    for record in c.measures.all():
        plant(record, "case_measures")
    for visit in c.visits.all():
        plant(visit, "case_visits")
    entry.refresh_from_db()
    plant(entry, "pre_departure_list_entries")
    other(PreDepartureEntry.objects.get(beneficiary=q), "pre_departure_list_entries")
    plant(entry.list, "pre_departure_lists")
    plant(consultation, "consultations")
    plant(requests[0], "data_subject_requests")
    other(requests[1], "data_subject_requests")
    for share in p.shares.all():
        plant(share, "shares")
    p.refresh_from_db()
    return p, q, c, plant, other


@pytest.fixture
def scene(world):
    p, q, c, plant, other = _scene(world)
    return world, p, q, c, plant, other


def _records(data: dict, key: str) -> list[dict]:
    cases = data["return_cases"]
    return {
        "person": [data["person"]["fields"]] + [m["fields"] for m in data["merged_records"]],
        "identity_documents": data["identity_documents"],
        "household": [data["household"]] if data["household"] else [],
        "category_changes": data["category_changes"],
        "shares": data["shares"],
        "return_cases": cases,
        "case_membership": [c["membership"] for c in cases],
        "case_moves": [m for c in cases for m in c["moves"]],
        "case_measures": [m for c in cases for m in c["measures"]],
        "case_visits": [v for c in cases for v in c["visits"]],
        "pre_departure_list_entries": data["pre_departure_list_entries"],
        "pre_departure_lists": [e["list"] for e in data["pre_departure_list_entries"]],
        "consultations": data["consultations"],
        "data_subject_requests": data["data_subject_requests"],
        "anonymisations": data["anonymisations"],
    }[key]


def test_subject_access_json_has_every_planted_value_of_every_record(scene):
    w, p, q, c, plant, other = scene
    data = subject_access_data(p)

    assert data["format"] == "jointops-subject-access" and data["version"] == 1
    assert data["person"]["id"] == p.pk
    assert set(plant.planted) == {s.key for s in SECTIONS} - {
        "shares",
        "case_membership",
        "anonymisations",
    }  # no free text
    for key, rows in plant.planted.items():
        records = _records(data, key)
        assert records, key
        for name, token in rows:
            found = [r[name] for r in records if name in r]
            assert token in found or {"note": token} in found, (key, name, token)
    json.dumps(data)  # plain JSON


def test_subject_access_json_gives_every_column_not_left_out_with_its_label(scene):
    w, p, q, c, plant, other = scene
    data = subject_access_data(p)

    for section in SECTIONS:
        if section.key == "anonymisations":
            continue  # below, test_subject_access_of_an_anonymised_person_says_so
        records = _records(data, section.key)
        assert records, section.key
        columns = {f.name for f in [*section.model._meta.concrete_fields, *section.model._meta.many_to_many]}
        wanted = columns - set(section.left_out)
        for record in records:
            assert wanted <= set(record), (section.key, wanted - set(record))
            assert not set(section.left_out) & (set(record) - {"list"}), section.key
        assert wanted <= set(data["labels"][section.key])
    # Dates and times ISO, foreign keys by code or reference.
    fields = data["person"]["fields"]
    assert fields["date_of_birth"] == p.date_of_birth.isoformat()
    assert fields["consent_date"] == p.consent_date.isoformat()
    assert dt.datetime.fromisoformat(fields["created_at"]) == p.created_at
    assert fields["office"] == "IOM-AF-KBL" and fields["nationality"] == "AF"
    assert fields["given_name"].startswith("Cnry")
    assert data["shares"][0]["office"] == "UNHCR-AF-KBL" and data["shares"][0]["basis"] == "consent"
    assert data["household"]["is_head"] is False and fields["relationship_to_head"] == "spouse"
    assert data["household"]["members_count"] == 2
    (case_data,) = data["return_cases"]
    c.refresh_from_db()
    assert case_data["reference"] == c.reference and case_data["stage"] == "reintegration"
    assert [m["to_stage"] for m in case_data["moves"]][-2:] == ["arrived", "reintegration"]
    (entry,) = data["pre_departure_list_entries"]
    assert entry["list"]["unhcr_office"] == "UNHCR-AF-KBL" and entry["list"]["iom_office"] == "IOM-AF-KBL"
    assert entry["case"] == c.reference
    assert [m["id"] for m in data["merged_records"]] == [Beneficiary.objects.get(merged_into=p).pk]


def test_subject_access_names_no_member_of_staff_only_organisation_office_and_role(scene):
    w, p, q, c, plant, other = scene
    data = subject_access_data(p)
    text = json.dumps(data, ensure_ascii=False)

    for user in (w.iom_af_staff, w.iom_af_manager, w.unhcr_af_staff):
        assert user.username not in text and user.last_name not in text
    purposes = {row["purpose"]: row["by"] for row in data["access_log"]}
    assert purposes["shared"] == {"kind": "staff", "organisation": "UNHCR", "roles": ["Field staff at UNHCR-AF-KBL"]}
    moves = data["return_cases"][0]["moves"]
    assert moves[0]["user"] == {"kind": "staff", "organisation": "IOM", "roles": ["Field staff at IOM-AF-KBL"]}
    (request,) = data["data_subject_requests"]
    assert request["decided_by"]["roles"] == ["Office manager at IOM-AF-KBL"]
    assert "Staff names" not in text  # the consultation's participants are left out


def test_subject_access_holds_nothing_about_another_person(scene):
    w, p, q, c, plant, other = scene
    data = subject_access_data(p)
    text = json.dumps(data, ensure_ascii=False)
    pdf = text_of(subject_access_pdf(data, office_code="IOM-AF-KBL"))

    assert other.tokens()
    for token in other.tokens():
        assert token not in text and token not in pdf
    assert "OthrPurpose" not in text and "OthrTenfold" not in text  # the access log of others (and of id × 10)
    assert q.pk not in [r["id"] for r in data["merged_records"]]
    assert all(r["kind"] == "access" for r in data["data_subject_requests"])


def test_subject_access_history_gives_dates_and_fields_changed(scene):
    w, p, q, c, plant, other = scene
    data = subject_access_data(p)

    kinds = [row["kind"] for row in data["history"]]
    assert kinds[0] == "created" and "changed" in kinds
    changed = {change["field"] for row in data["history"] for change in row["changes"]}
    assert {"phone", "household", "relationship_to_head"} <= changed
    phone = next(ch for row in data["history"] for ch in row["changes"] if ch["field"] == "phone")
    assert phone["label"] == "Phone" and phone["new"] == "+93 700 111 222"
    assert all(dt.datetime.fromisoformat(row["at"]) for row in data["history"])


def test_subject_access_pdf_prints_every_planted_value_and_arabic(scene):
    w, p, q, c, plant, other = scene
    replaced = p.given_name  # a planted token, replaced by an Arabic name
    Beneficiary.objects.filter(pk=p.pk).update(given_name=ARABIC_NAME)
    data = subject_access_data(p)
    pdf = subject_access_pdf(data, office_code="IOM-AF-KBL")
    text = text_of(pdf)

    assert pdf.startswith(b"%PDF")
    missing = [token for token in plant.tokens() if token not in text and token != replaced]
    assert missing == []
    assert ARABIC_NAME in text
    assert f"Personal data held on record #{p.pk}" in text
    assert "Field staff at UNHCR-AF-KBL" in text  # who read it: organisation, office and role


def test_subject_access_of_an_anonymised_person_says_so(world):
    p = person(world.iom_af, actor=world.iom_af_staff, given_name="Zainab", family_name="Rahimi")
    request = services.request_record(
        actor=world.iom_af_staff, person=p, kind="deletion", received_on=TODAY, channel="letter"
    )
    services.request_decide(request, status="granted", outcome="Done", actor=world.iom_af_manager, version=1)
    p.refresh_from_db()

    data = subject_access_data(p)
    pdf = text_of(subject_access_pdf(data))

    assert data["person"]["anonymised_at"] == p.anonymised_at.isoformat()
    (row,) = data["anonymisations"]
    assert (row["reason"], row["request"]) == ("deletion_request", request.pk)
    assert row["by"]["roles"] == ["Office manager at IOM-AF-KBL"]
    assert set(row) >= {"id", "at", "reason", "retention_days", "request", "by"}
    text = json.dumps(data, ensure_ascii=False)
    assert "Zainab" not in text and "Rahimi" not in text
    assert "This record was anonymised on" in pdf and "Deletion request granted" in pdf


def test_every_model_linked_to_a_person_is_covered_by_the_export():
    """A new model pointing at a person fails here until the export covers it (RELIABILITY.md, subject access)."""
    linked = set()
    for model in apps.get_models():
        if model.__name__.startswith("Historical"):
            continue
        for field in model._meta.concrete_fields:
            if field.is_relation and field.related_model is Beneficiary:
                linked.add(model)
    assert linked <= set(COVERED_MODELS), linked - set(COVERED_MODELS)


def test_every_covered_model_has_a_section():
    sections = {section.model for section in SECTIONS}
    assert set(COVERED_MODELS) - {m for m in COVERED_MODELS if m in sections} == set()


# --- The export: permission, access log, one transaction --------------------------------------------------------


def test_subject_access_export_writes_the_access_log_row(scene):
    w, p, q, c, plant, other = scene
    before = AccessLog.objects.count()

    content, content_type, filename = services.subject_access_export(
        actor=w.iom_af_manager, person=p, fmt="json", path="/x"
    )

    assert content_type == "application/json" and filename.endswith(".json")
    assert AccessLog.objects.count() == before + 1
    row = AccessLog.objects.order_by("-pk").first()
    assert (row.user, row.action, row.resource, row.object_ids, row.purpose) == (
        w.iom_af_manager,
        "export",
        "beneficiary",
        [str(p.pk)],
        "subject access request",
    )
    data = json.loads(content)
    assert data["access_log"][-1]["purpose"] == "subject access request"  # the export itself is in it


@pytest.mark.parametrize("who", ["iom_af_staff", "iom_hq_focal", "iom_admin", "iom_de_manager", "unhcr_af_manager"])
def test_subject_access_export_refused_without_export_right_at_the_office(scene, who):
    w, p, q, c, plant, other = scene
    before = AccessLog.objects.count()

    with pytest.raises(PermissionRefused):
        services.subject_access_export(actor=getattr(w, who), person=p, fmt="pdf")
    assert AccessLog.objects.count() == before


def test_subject_access_export_of_a_field_office_person_by_the_country_office_manager(world):
    p = person(world.iom_af_field, actor=world.iom_field_staff)

    content, content_type, _name = services.subject_access_export(actor=world.iom_af_manager, person=p, fmt="pdf")

    assert content_type == "application/pdf" and content.startswith(b"%PDF")


def test_subject_access_export_log_rolls_back_when_the_export_fails(world, monkeypatch):
    p = person(world.iom_af, actor=world.iom_af_staff)
    before = AccessLog.objects.count()

    def broken(*args, **kwargs):
        raise RuntimeError("disk full")

    monkeypatch.setattr(services, "subject_access_pdf", broken)  # a failure outside our code's control
    with pytest.raises(RuntimeError):
        services.subject_access_export(actor=world.iom_af_manager, person=p, fmt="pdf")
    assert AccessLog.objects.count() == before


# --- The pages ----------------------------------------------------------------------------------------------------


def _client(user) -> Client:
    client = Client()
    client.force_login(user)
    return client


@pytest.mark.parametrize("fmt", ["json", "pdf"])
def test_export_page_downloads_and_logs(world, fmt):
    p = person(world.iom_af, actor=world.iom_af_staff, given_name=ARABIC_NAME)
    before = AccessLog.objects.filter(action="export").count()

    response = _client(world.iom_af_manager).get(reverse(f"privacy:person_export_{fmt}", args=[p.pk]))

    assert response.status_code == 200
    assert response["Content-Type"].startswith("application/" + fmt)
    assert (
        "attachment" in response["Content-Disposition"] and f"subject-access-{p.pk}-" in response["Content-Disposition"]
    )
    assert response["Cache-Control"] == "no-store"
    assert AccessLog.objects.filter(action="export", purpose="subject access request").count() == before + 1
    if fmt == "json":
        assert response.json()["person"]["fields"]["given_name"] == ARABIC_NAME
    else:
        assert ARABIC_NAME in text_of(response.content)


@pytest.mark.parametrize(
    ("who", "status"),
    [
        ("iom_af_staff", 403),  # field staff: they see the person, they do not export
        ("iom_hq_focal", 403),  # HQ focal point: follows the requests, does not export
        ("iom_de_manager", 404),  # another office
        ("unhcr_af_manager", 404),  # the other agency, even with the record shared with its office
        ("iom_admin", 404),  # administrators do not handle people's records
    ],
)
def test_export_page_refused(world, who, status):
    p = person(world.iom_af, actor=world.iom_af_staff, **CONSENT)
    beneficiary_services.beneficiary_share(actor=world.iom_af_staff, beneficiary=p, office=world.unhcr_af)
    before = AccessLog.objects.filter(action="export").count()

    for fmt in ("json", "pdf"):
        response = _client(getattr(world, who)).get(reverse(f"privacy:person_export_{fmt}", args=[p.pk]))
        assert response.status_code == status, (who, fmt)
    assert AccessLog.objects.filter(action="export").count() == before


def test_export_page_of_an_unknown_person_is_404(world):
    response = _client(world.iom_af_manager).get(reverse("privacy:person_export_json", args=[987654]))
    assert response.status_code == 404


def test_export_page_needs_sign_in(world):
    p = person(world.iom_af, actor=world.iom_af_staff)
    response = Client().get(reverse("privacy:person_export_pdf", args=[p.pk]))
    assert response.status_code == 302 and "login" in response["Location"]


def test_person_page_shows_the_data_protection_card_only_to_those_allowed(world):
    p = person(world.iom_af, actor=world.iom_af_staff)
    url = reverse("beneficiaries:beneficiary_detail", args=[p.pk])
    export = reverse("privacy:person_export_pdf", args=[p.pk])
    new = reverse("privacy:request_create") + f"?person={p.pk}"

    manager = _client(world.iom_af_manager).get(url).content.decode()
    field = _client(world.iom_af_staff).get(url).content.decode()
    hq = _client(world.iom_hq_focal).get(url).content.decode()

    assert "Data protection" in manager and export in manager and new in manager
    assert "Data protection" in field and export not in field and new in field
    assert "Data protection" in hq and export not in hq and new not in hq


def test_person_page_of_a_shared_record_has_no_data_protection_card_for_the_other_agency(world):
    p = person(world.iom_af, actor=world.iom_af_staff, **CONSENT)
    beneficiary_services.beneficiary_share(actor=world.iom_af_staff, beneficiary=p, office=world.unhcr_af)
    html = _client(world.unhcr_af_manager).get(reverse("beneficiaries:beneficiary_detail", args=[p.pk]))

    assert html.status_code == 200
    assert "Data protection" not in html.content.decode()


def test_nav_offers_data_requests_to_those_who_see_them(world):
    other = staff(world.iom_af, Role.ADMINISTRATOR, username="second_admin")
    assert "/privacy/requests/" in _client(world.iom_af_staff).get("/").content.decode()
    assert "/privacy/requests/" not in _client(other).get("/").content.decode()


def test_consultation_linked_to_the_person_is_in_the_export(world):
    p = person(world.iom_af, actor=world.iom_af_staff)
    c = case(world.iom_af, world.iom_af_staff, principal=p)
    Consultation.objects.all().delete()
    consultation_record(
        actor=world.iom_af_staff,
        recorded_by_office=world.iom_af,
        offices=[world.unhcr_af],
        held_on=TODAY,
        participants="x",
        subject_kind="other",
        subject="Linked to the case",
        linked=c,
    )
    (row,) = subject_access_data(p)["consultations"]
    assert row["subject"] == "Linked to the case" and sorted(row["offices"]) == ["IOM-AF-KBL", "UNHCR-AF-KBL"]
