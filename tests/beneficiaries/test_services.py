"""Registering, editing, category history, households, sharing and merging people."""

import datetime as dt

import pytest
from django.utils import timezone

from beneficiaries import selectors, services
from beneficiaries.models import Beneficiary, BeneficiaryShare, CategoryChange, IdentityDocument
from jointops.exceptions import Conflict, PermissionRefused, StaleVersion, ValidationFailed
from tests.factories.beneficiaries import category, person


def test_register_records_category_history_and_audit(world):
    p = person(world.iom_af, actor=world.iom_af_staff, given_name="Mohammad", family_name="Ahmadi")
    assert p.organisation == world.iom
    assert p.category_changes.get().category.code == "asylum_seeker"
    assert p.history.first().history_user == world.iom_af_staff
    assert p.name_key and p.family_key and "mhmd" in p.search_text


@pytest.mark.parametrize(
    ("fields", "field"),
    [
        ({"given_name": ""}, "given_name"),
        ({"family_name": "   "}, "family_name"),
        ({"date_of_birth": dt.date(2999, 1, 1)}, "date_of_birth"),
        ({"date_of_birth": dt.date(1800, 1, 1)}, "date_of_birth"),
        ({"specific_needs": ["flying"]}, "specific_needs"),
        ({"sharing_basis": "consent"}, "consent_date"),
        ({"given_name": "a\x00b"}, "given_name"),
        ({"given_name": "x" * 101}, "given_name"),
        ({"email": "not-an-email"}, "email"),
        ({"nationality": "XX"}, "nationality"),
        ({"sex": "dragon"}, "sex"),
    ],
)
def test_register_with_bad_input_names_the_field_and_writes_nothing(world, fields, field):
    with pytest.raises(ValidationFailed) as exc:
        person(world.iom_af, actor=world.iom_af_staff, **fields)
    assert exc.value.field == field
    assert not Beneficiary.objects.exists()


@pytest.mark.parametrize("actor_name", ["iom_hq_focal", "iom_admin", "unhcr_af_staff", "iom_de_staff"])
def test_register_at_an_office_not_covered_is_refused(world, actor_name):
    with pytest.raises(PermissionRefused):
        person(world.iom_af, actor=getattr(world, actor_name))
    assert not Beneficiary.objects.exists()


def test_update_with_stale_version_is_refused_and_keeps_the_first_change(world):
    p = person(world.iom_af, actor=world.iom_af_staff)
    services.beneficiary_update(actor=world.iom_af_staff, beneficiary=p, version=p.version, phone="+93 1")
    with pytest.raises(StaleVersion):
        services.beneficiary_update(actor=world.iom_af_manager, beneficiary=p, version=p.version, phone="+93 2")
    p.refresh_from_db()
    assert p.phone == "+93 1" and p.version == 2


def test_update_refreshes_search_keys(world):
    p = person(world.iom_af, actor=world.iom_af_staff, given_name="Ali")
    p = services.beneficiary_update(actor=world.iom_af_staff, beneficiary=p, version=p.version, given_name="Yusuf")
    assert "asf" in p.search_text


def test_change_category_keeps_dated_history_and_current_is_latest(world):
    p = person(world.iom_af, actor=world.iom_af_staff, category_since=dt.date(2024, 1, 1))
    services.beneficiary_change_category(
        actor=world.iom_af_staff,
        beneficiary=p,
        category=category("rejected_asylum_seeker"),
        effective_date=dt.date(2025, 3, 1),
        reason="Final decision",
    )
    services.beneficiary_change_category(
        actor=world.iom_af_staff,
        beneficiary=p,
        category=category("migrant"),
        effective_date=dt.date(2024, 6, 1),
        reason="Back-dated correction",
    )
    p.refresh_from_db()
    assert p.category.code == "rejected_asylum_seeker"
    assert [c.category.code for c in CategoryChange.objects.filter(beneficiary=p)] == [
        "rejected_asylum_seeker",
        "migrant",
        "asylum_seeker",
    ]


def test_change_category_in_the_future_is_refused(world):
    p = person(world.iom_af, actor=world.iom_af_staff)
    with pytest.raises(ValidationFailed):
        services.beneficiary_change_category(
            actor=world.iom_af_staff,
            beneficiary=p,
            category=category("returnee"),
            effective_date=timezone.localdate() + dt.timedelta(days=2),
        )
    assert p.category_changes.count() == 1


def test_household_head_and_members(world):
    head = person(world.iom_af, actor=world.iom_af_staff)
    child = person(world.iom_af, actor=world.iom_af_staff)
    household = services.household_create(actor=world.iom_af_staff, head=head)
    services.household_add_member(
        actor=world.iom_af_staff, household=household, beneficiary=child, relationship="child"
    )
    assert set(household.members.all()) == {head, child}
    with pytest.raises(Conflict):
        services.household_remove_member(actor=world.iom_af_staff, household=household, beneficiary=head)
    with pytest.raises(ValidationFailed):
        services.household_add_member(
            actor=world.iom_af_staff, household=household, beneficiary=child, relationship="head"
        )


def test_share_needs_a_recorded_basis_then_the_other_agency_sees_the_record(world):
    p = person(world.iom_af, actor=world.iom_af_staff)
    assert not selectors.beneficiary_qs_for(principal=world.unhcr_af_staff).filter(pk=p.pk).exists()
    with pytest.raises(ValidationFailed) as exc:
        services.beneficiary_share(actor=world.iom_af_staff, beneficiary=p, office=world.unhcr_af)
    assert exc.value.field == "sharing_basis"
    assert not BeneficiaryShare.objects.exists()
    p = services.beneficiary_update(
        actor=world.iom_af_staff,
        beneficiary=p,
        version=p.version,
        sharing_basis="consent",
        consent_date=dt.date(2026, 1, 5),
        consent_scope="Return counselling",
    )
    services.beneficiary_share(actor=world.iom_af_staff, beneficiary=p, office=world.unhcr_af)
    assert selectors.beneficiary_qs_for(principal=world.unhcr_af_staff).filter(pk=p.pk).exists()
    assert not selectors.beneficiary_qs_for(principal=world.unhcr_de_staff).filter(pk=p.pk).exists()
    # Viewing a shared record does not let the other agency change it.
    with pytest.raises(PermissionRefused):
        services.beneficiary_update(actor=world.unhcr_af_staff, beneficiary=p, version=p.version, phone="1")


def test_merge_moves_documents_and_history_and_keeps_both_records(world):
    survivor = person(world.iom_af, actor=world.iom_af_staff, given_name="Mohammad", family_name="Ahmadi")
    duplicate = person(
        world.iom_af,
        actor=world.iom_af_staff,
        given_name="Muhammad",
        family_name="Ahmadi",
        unhcr_registration_number="AFG-123",
    )
    services.document_add(
        actor=world.iom_af_staff, beneficiary=duplicate, document_type="passport", number="P123", issuing_country="AF"
    )
    merged = services.beneficiary_merge(actor=world.iom_af_staff, survivor=survivor, duplicate=duplicate)
    duplicate.refresh_from_db()
    assert duplicate.merged_into == merged
    assert IdentityDocument.objects.get().beneficiary == merged
    assert merged.unhcr_registration_number == "AFG-123"
    assert "Muhammad Ahmadi" in merged.other_names
    assert merged.category_changes.count() == 2
    assert duplicate.history.count() >= 2 and merged.history.count() >= 2
    with pytest.raises(Conflict):
        services.beneficiary_merge(actor=world.iom_af_staff, survivor=merged, duplicate=duplicate)


def test_duplicate_candidates_find_spelling_variants_within_scope_only(world):
    original = person(
        world.iom_af,
        actor=world.iom_af_staff,
        given_name="Mohammad",
        family_name="Ahmadi",
        date_of_birth=dt.date(1990, 5, 1),
    )
    person(
        world.iom_de,
        actor=world.iom_de_staff,
        given_name="Mohammed",
        family_name="Ahmadi",
        date_of_birth=dt.date(1990, 5, 1),
    )  # another office: not visible to IOM-AF staff
    person(world.iom_af, actor=world.iom_af_staff, given_name="Hamid", family_name="Karimi")
    found = selectors.duplicate_candidates(
        principal=world.iom_af_staff,
        given_name="Muhamad",
        family_name="Ahmadi",
        date_of_birth=dt.date(1990, 5, 2),
        nationality="AF",
    )
    assert [p.pk for p, _ in found] == [original.pk]
    swapped = selectors.duplicate_candidates(
        principal=world.iom_af_staff, given_name="Ahmadi", family_name="Mohamed", nationality="AF"
    )
    assert [p.pk for p, _ in swapped] == [original.pk]


def test_get_for_user_logs_the_read(world):
    from jointops.models import AccessLog

    p = person(world.iom_af, actor=world.iom_af_staff)
    selectors.beneficiary_get_for_user(principal=world.iom_af_staff, pk=p.pk, purpose="case review")
    entry = AccessLog.objects.get()
    assert entry.user == world.iom_af_staff and entry.object_ids == [str(p.pk)] and entry.resource == "beneficiary"


def test_document_change_bumps_the_persons_version_for_syncing_partners(world):
    p = person(world.iom_af, actor=world.iom_af_staff)
    before = (p.version, p.updated_at)
    document = services.document_add(actor=world.iom_af_staff, beneficiary=p, document_type="passport", number="P1")
    p.refresh_from_db()
    assert p.version == before[0] + 1 and p.updated_at > before[1]
    services.document_remove(actor=world.iom_af_staff, document=document)
    p.refresh_from_db()
    assert p.version == before[0] + 2
