"""Anonymising a person (issue 8: names, contacts, documents replaced; statistics kept; reversible by nobody):
every field replaced or kept exactly, the copies (list entries, case and household notes, outbox) and the change
history purged, one log row per record, idempotent, merged records together, and the record frozen afterwards."""

from __future__ import annotations

import datetime as dt

import pytest
from django.apps import apps
from django.db import models
from django.utils import timezone
from rest_framework.test import APIClient

from beneficiaries import selectors as beneficiary_selectors
from beneficiaries import services as beneficiary_services
from beneficiaries.models import Beneficiary, CategoryChange, Household, IdentityDocument
from dashboards.params import parse_params
from dashboards.selectors import dashboard_for
from jointops.exceptions import Conflict, ValidationFailed
from notifications import outbox
from notifications import services as notification_services
from notifications.choices import Channel, DeliveryStatus
from notifications.models import Delivery, PreDepartureEntry
from privacy import anonymise
from privacy.anonymise import ANONYMISED, DOCUMENT_NUMBER, REDACTED, anonymise_person
from privacy.choices import AnonymisationReason, RecordType
from privacy.models import Anonymisation, DataSubjectRequest
from returns import services as return_services
from returns.models import AdditionalMeasure, CaseMeasure, CaseTransition, ReintegrationVisit, ReturnCase
from tests.factories.beneficiaries import category, person
from tests.factories.returns import case, move, scheduled

pytestmark = pytest.mark.django_db

NAME = "Rahimi"  # the family name planted everywhere the person can be written down
RETENTION = AnonymisationReason.RETENTION


def life(w, **fields):
    """A person with everything the app can hold on them: documents, category history, a household shared with a
    relative, a case that went through a pre-departure list, a voluntariness concern, embarkation, a visit, a
    measure and closing — each free text naming them."""
    values = {
        "given_name": "Amina",
        "family_name": NAME,
        "other_names": "Amina Rahimy\nAmeena Rahimi",
        "sex": "female",
        "date_of_birth": dt.date(1987, 6, 15),
        "nationality": "AF",
        "country_of_residence": "DE",
        "unhcr_registration_number": "UNHCR-555-001",
        "iom_case_number": "IOM-CASE-77",
        "government_id": "GOV-998877",
        "phone": "+49 170 5550001",
        "email": "amina.rahimi@example.org",
        "address": "Flat 3, 12 Rahimi Street, Berlin",
        "preferred_language": "prs",
        "specific_needs": ["single_parent"],
        "sharing_basis": "consent",
        "consent_date": dt.date(2024, 3, 1),
        "consent_scope": "Share with UNHCR Kabul: Amina Rahimi",
        "sharing_basis_note": "Signed form of Amina Rahimi",
    }
    values.update(fields)
    p = person(w.iom_af, actor=w.iom_af_staff, **values)
    beneficiary_services.document_add(
        actor=w.iom_af_staff,
        beneficiary=p,
        document_type="passport",
        number="P1234567",
        issuing_country="AF",
        expiry_date=dt.date(2030, 1, 1),
    )
    beneficiary_services.beneficiary_change_category(
        actor=w.iom_af_staff,
        beneficiary=p,
        category=category("rejected_asylum_seeker"),
        effective_date=dt.date(2025, 1, 1),
        reason="Appeal of Amina Rahimi rejected",
    )
    relative = person(w.iom_af, actor=w.iom_af_staff, given_name="Karim", family_name="Noori")
    household = beneficiary_services.household_create(
        actor=w.iom_af_staff, head=p, notes="Amina Rahimi and her brother Karim Noori"
    )
    beneficiary_services.household_add_member(
        actor=w.iom_af_staff, household=household, beneficiary=relative, relationship="sibling"
    )
    c = scheduled(
        w.iom_af,
        w.iom_af_staff,
        principal=p,
        travel_details="Escort for Amina Rahimi, phone +49 170 5550001",
        place_of_return="Rahimi family house, Herat",
    )
    notification_services.pre_departure_lists_build(actor=None)
    entry = PreDepartureEntry.objects.get(beneficiary=p)
    notification_services.entry_record_concern(
        actor=w.unhcr_af_staff, entry=entry, concern="Amina Rahimi seemed pressured"
    )
    measure = AdditionalMeasure.objects.create(office=w.iom_af, label="UNHCR counselling offered")
    return_services.case_measure_record(
        actor=w.iom_af_staff, case=c, measure=measure, done_on=timezone.localdate(), note="Amina Rahimi counselled"
    )
    c = move(c, w.iom_af_staff, "confirm_embarkation", reason="Amina Rahimi boarded")
    c = move(c, w.iom_af_staff, "confirm_arrival", "start_reintegration")
    return_services.reintegration_visit_record(
        actor=w.iom_af_staff, case=c, visited_on=timezone.localdate(), outcome="Amina Rahimi settled"
    )
    c = return_services.return_case_move(
        actor=w.iom_af_staff, case=c, transition="close", reason="Amina Rahimi reintegrated", closing_reason="other"
    )
    DataSubjectRequest.objects.create(
        person=p,
        office=w.iom_af,
        kind="correction",
        received_on=timezone.localdate(),
        channel="letter",
        details="Spell the family name Rahimi, not Rahimy",
        status="granted",
        outcome="Corrected to Rahimi",
    )
    return p, relative, household, c


def everything_holding(text: str) -> list[str]:
    """Every row of every table (change history included) with `text` in a text or JSON column."""
    found = []
    for model in apps.get_models(include_auto_created=True):
        columns = [
            f.attname
            for f in model._meta.concrete_fields
            if isinstance(f, models.CharField | models.TextField | models.JSONField | models.EmailField)
        ]
        if not columns:
            continue
        for row in model._default_manager.values_list("pk", *columns):
            if any(text.lower() in str(value).lower() for value in row[1:]):
                found.append(f"{model._meta.label} {row[0]}")
    return found


# --- Every field ----------------------------------------------------------------------------------------------


def test_anonymise_person_replaces_contacts_names_documents_and_keeps_statistics(world):
    p, relative, household, c = life(world)
    before = Beneficiary.objects.get(pk=p.pk)
    assert everything_holding(NAME)  # planted

    done = anonymise_person(p, reason=RETENTION)

    assert done == [p.pk]
    a = Beneficiary.objects.get(pk=p.pk)
    assert (a.given_name, a.family_name) == (ANONYMISED, f"#{p.pk}")
    for field in anonymise.CLEARED_FIELDS:
        assert getattr(a, field) == "", field
    assert (a.date_of_birth, a.date_of_birth_estimated) == (dt.date(1987, 1, 1), True)
    kept = ("sex", "nationality", "country_of_residence", "category_id", "office_id", "organisation_id")
    kept += ("specific_needs", "of_concern_to_unhcr", "household_id", "relationship_to_head", "sharing_basis")
    for field in kept:
        assert getattr(a, field) == getattr(before, field), field
    assert a.anonymised_at is not None and a.version == before.version + 1
    document = IdentityDocument.objects.get(beneficiary=p)
    assert (document.number, document.expiry_date) == (DOCUMENT_NUMBER, None)
    assert (document.document_type, document.issuing_country) == ("passport", "AF")
    changes = CategoryChange.objects.filter(beneficiary=p)
    assert changes.count() == 2 and set(changes.values_list("reason", flat=True)) == {""}
    entry = PreDepartureEntry.objects.get(beneficiary=p)
    assert (entry.given_name, entry.family_name) == (ANONYMISED, f"#{entry.pk}")
    assert (entry.unhcr_registration_number, entry.concern) == ("", "")
    assert entry.expected_departure_date and entry.iom_case_reference == c.reference  # compliance figures stay
    c = ReturnCase.objects.get(pk=c.pk)
    assert (c.travel_details, c.place_of_return, c.stage) == ("", "", "closed")
    assert set(CaseTransition.objects.filter(case=c).values_list("reason", flat=True)) == {""}
    assert CaseMeasure.objects.get(case=c).note == ""
    assert ReintegrationVisit.objects.get(case=c).outcome == ""
    # The household keeps both members; its notes lose the anonymised person's names, not the relative's.
    household.refresh_from_db()
    assert set(household.members.values_list("pk", flat=True)) == {p.pk, relative.pk}
    assert household.notes == f"{REDACTED} and her brother Karim Noori"
    relative.refresh_from_db()
    assert (relative.given_name, relative.anonymised_at) == ("Karim", None)
    # Nowhere in the database, change history included: reversible by nobody.
    assert everything_holding(NAME) == []
    request = DataSubjectRequest.objects.get(person=p)
    assert (request.details, request.outcome) == (
        f"Spell the family name {REDACTED}, not {REDACTED}",
        f"Corrected to {REDACTED}",
    )
    for value in ("UNHCR-555-001", "GOV-998877", "P1234567", "5550001", "amina.rahimi@example.org", "Ameena"):
        assert everything_holding(value) == [], value


def test_anonymise_person_purges_the_change_history_of_the_person_documents_and_entries(world):
    p, *_ = life(world)
    document = IdentityDocument.objects.get(beneficiary=p)
    entry = PreDepartureEntry.objects.get(beneficiary=p)
    assert Beneficiary.history.filter(id=p.pk).exists()
    assert IdentityDocument.history.filter(id=document.pk).exists()
    assert PreDepartureEntry.history.filter(id=entry.pk).exists()

    anonymise_person(p, reason=RETENTION)

    assert not Beneficiary.history.filter(id=p.pk).exists()
    assert not IdentityDocument.history.filter(beneficiary_id=p.pk).exists()
    assert not PreDepartureEntry.history.filter(beneficiary_id=p.pk).exists()


def test_every_history_table_pointing_at_a_person_is_purged_or_kept_on_purpose():
    """A new model with history linked to a person fails here until privacy/anonymise.py decides about it."""
    purged = {model.__name__ for model, _column in anonymise.HISTORY_PURGED}
    for model in apps.get_models():
        if not model.__name__.startswith("Historical"):
            continue
        points_at_person = any(
            getattr(f, "related_model", None) is Beneficiary or f.attname in ("beneficiary_id", "person_id")
            for f in model._meta.concrete_fields
        )
        if points_at_person or model.__name__ == "HistoricalBeneficiary":
            assert model.__name__ in purged | anonymise.HISTORY_KEPT, model.__name__


def test_anonymise_person_logs_one_row_per_record_with_ids_only(world, django_user_model):
    p, *_ = life(world)

    anonymise_person(p, reason=RETENTION, retention_days=1825)

    (row,) = Anonymisation.objects.all()
    assert (row.record_type, row.object_id, row.reason, row.retention_days, row.by, row.request) == (
        RecordType.PERSON,
        p.pk,
        RETENTION,
        1825,
        None,
        None,
    )


def test_anonymise_person_twice_changes_nothing_the_second_time(world):
    p, *_ = life(world)
    anonymise_person(p, reason=RETENTION)
    after = Beneficiary.objects.filter(pk=p.pk).values().get()

    assert anonymise_person(p, reason=RETENTION) == []

    assert Beneficiary.objects.filter(pk=p.pk).values().get() == after
    assert Anonymisation.objects.count() == 1


def test_anonymise_person_with_an_open_case_is_refused_and_changes_nothing(world):
    c = case(world.iom_af, world.iom_af_staff)
    p = c.members.get().beneficiary

    with pytest.raises(Conflict) as exc:
        anonymise_person(p, reason=RETENTION)

    assert str(p.pk) in str(exc.value.message)
    assert Beneficiary.objects.get(pk=p.pk).anonymised_at is None
    assert not Anonymisation.objects.exists()


def test_anonymise_person_for_a_deletion_request_needs_the_request(world):
    p = person(world.iom_af)
    with pytest.raises(ValidationFailed) as exc:
        anonymise_person(p, reason=AnonymisationReason.DELETION_REQUEST)
    assert exc.value.field == "request"
    with pytest.raises(ValidationFailed) as exc:
        anonymise_person(p, reason="because")
    assert exc.value.field == "reason"
    assert Beneficiary.objects.get(pk=p.pk).anonymised_at is None


def test_merged_records_are_anonymised_with_their_survivor_whichever_is_named(world):
    survivor = person(world.iom_af, given_name="Mohammad", family_name="Karimi")
    duplicate = person(world.iom_af, given_name="Muhammad", family_name="Karimy")
    beneficiary_services.beneficiary_merge(actor=None, survivor=survivor, duplicate=duplicate)

    done = anonymise_person(Beneficiary.objects.get(pk=duplicate.pk), reason=RETENTION)

    assert sorted(done) == sorted([survivor.pk, duplicate.pk])
    for pk in done:
        a = Beneficiary.objects.get(pk=pk)
        assert (a.given_name, a.other_names, a.anonymised_at is not None) == (ANONYMISED, "", True)
    assert Beneficiary.objects.get(pk=duplicate.pk).merged_into_id == survivor.pk  # the merge itself stays
    assert everything_holding("Karim") == []
    assert set(Anonymisation.objects.values_list("object_id", flat=True)) == {survivor.pk, duplicate.pk}


def test_a_case_shared_with_someone_not_anonymised_loses_only_the_anonymised_names(world):
    leaving = person(world.iom_af, given_name="Zahra", family_name="Hosseini")
    staying = person(world.iom_af, given_name="Ali", family_name="Jafari")
    c = case(world.iom_af, world.iom_af_staff, principal=leaving, travel_details="Zahra Hosseini with Ali Jafari")
    return_services.return_case_add_member(actor=world.iom_af_staff, case=c, beneficiary=staying)
    move(c, world.iom_af_staff, "withdraw", reason="Hosseini changed her mind; Jafari too")

    anonymise_person(leaving, reason=RETENTION)

    c.refresh_from_db()
    assert c.travel_details == f"{REDACTED} with Ali Jafari"
    assert CaseTransition.objects.filter(case=c, to_stage="withdrawn").get().reason == (
        f"{REDACTED} changed her mind; Jafari too"
    )
    assert everything_holding("Hosseini") == []


def test_a_delivery_waiting_whose_payload_names_the_person_is_emptied(world):
    p = person(world.iom_af, given_name="Farid", family_name="Sultani")
    naming = outbox.new_delivery(channel=Channel.EMAIL, recipients="x@example.org", payload={"note": "Farid Sultani"})
    other = outbox.new_delivery(channel=Channel.EMAIL, recipients="x@example.org", payload={"notification_ids": [1]})

    anonymise_person(p, reason=RETENTION)

    assert Delivery.objects.get(pk=naming.pk).payload == {}
    assert Delivery.objects.get(pk=other.pk).payload == {"notification_ids": [1]}
    assert Delivery.objects.get(pk=naming.pk).status == DeliveryStatus.PENDING


# --- Statistics kept -------------------------------------------------------------------------------------------


def test_dashboards_count_the_same_after_anonymisation(world):
    p, *_ = life(world)
    params = parse_params({})
    before = dashboard_for(principal=world.iom_hq_focal, params=params).sections

    anonymise_person(p, reason=RETENTION)

    assert dashboard_for(principal=world.iom_hq_focal, params=params).sections == before


# --- Frozen afterwards -----------------------------------------------------------------------------------------


def test_an_anonymised_person_cannot_be_edited_through_the_services(world):
    p = person(world.iom_af, actor=world.iom_af_staff)
    anonymise_person(p, reason=RETENTION)
    p = Beneficiary.objects.get(pk=p.pk)

    with pytest.raises(ValidationFailed) as exc:
        beneficiary_services.beneficiary_update(
            actor=world.iom_af_staff, beneficiary=p, version=p.version, given_name="Restored"
        )
    assert str(p.pk) in str(exc.value.message) and "was anonymised" in str(exc.value.message)
    with pytest.raises(ValidationFailed):
        beneficiary_services.document_add(actor=world.iom_af_staff, beneficiary=p, document_type="passport", number="1")
    with pytest.raises(ValidationFailed):
        beneficiary_services.beneficiary_change_category(
            actor=world.iom_af_staff, beneficiary=p, category=category("returnee"), effective_date=dt.date(2025, 2, 1)
        )
    assert Beneficiary.objects.get(pk=p.pk).given_name == ANONYMISED


def test_an_anonymised_person_cannot_be_edited_through_the_api(world):
    p = person(world.iom_af, actor=world.iom_af_staff)
    anonymise_person(p, reason=RETENTION)
    client = APIClient()
    client.force_authenticate(world.iom_af_staff)
    url = f"/api/v1/beneficiaries/{p.pk}/"
    etag = client.get(url)["ETag"]

    response = client.patch(url, {"given_name": "Restored"}, format="json", HTTP_IF_MATCH=etag)

    assert response.status_code == 400, response.content
    assert f"Person {p.pk} was anonymised" in response.json()["errors"][0]["message"]
    assert Beneficiary.objects.get(pk=p.pk).given_name == ANONYMISED


def test_an_anonymised_person_is_never_offered_as_a_duplicate(world):
    p = person(world.iom_af, given_name="Hamid", family_name="Popal", date_of_birth=dt.date(1980, 5, 5))
    search = {"given_name": "Hamid", "family_name": "Popal", "date_of_birth": dt.date(1980, 5, 5), "nationality": "AF"}
    assert [c.pk for _p, c in beneficiary_selectors.duplicate_candidates(principal=world.iom_af_staff, **search)] == [
        p.pk
    ]

    anonymise_person(p, reason=RETENTION)

    assert beneficiary_selectors.duplicate_candidates(principal=world.iom_af_staff, **search) == []
    anonymised = {"given_name": ANONYMISED, "family_name": f"#{p.pk}", "nationality": "AF"}
    assert beneficiary_selectors.duplicate_candidates(principal=world.iom_af_staff, **anonymised) == []


def test_household_notes_are_cleared_once_every_member_is_anonymised(world):
    head = person(world.iom_af, given_name="Nasrin", family_name="Azizi")
    household = beneficiary_services.household_create(actor=None, head=head, notes="Nasrin Azizi lives alone")

    anonymise_person(head, reason=RETENTION)

    assert Household.objects.get(pk=household.pk).notes == ""
    assert set(Household.history.filter(id=household.pk).values_list("notes", flat=True)) == {""}
