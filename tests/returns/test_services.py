"""Repatriation operations (MOU §31), return agreements (Letter), consultations (MOU §22, §25, §28, §29), members."""

import datetime as dt

import pytest
from django.utils import timezone

from jointops import selectors as platform_selectors
from jointops import services as platform
from jointops.exceptions import Conflict, ValidationFailed
from jointops.models import Consultation
from returns import selectors, services
from returns.choices import ReturnKind, Stage
from returns.models import RepatriationOperation, ReturnAgreement
from tests.factories.beneficiaries import person
from tests.factories.returns import case, move


def test_operation_recorded_by_unhcr_and_read_by_iom(world):
    op = services.operation_create(
        actor=world.unhcr_af_staff,
        office=world.unhcr_af,
        title="Return to Herat",
        kind="organised",
        country_of_origin="AF",
        host_countries=["IR", "PK"],
        expected_number=5000,
        expected_start=dt.date(2027, 3, 1),
    )
    assert op in selectors.operation_qs_for(principal=world.iom_af_staff)
    assert op.history.first().history_user == world.unhcr_af_staff


def test_operation_by_iom_office_is_refused(world):
    # MOU §31: UNHCR informs IOM of expected repatriation operations.
    with pytest.raises(ValidationFailed) as exc:
        services.operation_create(
            actor=world.iom_af_staff, office=world.iom_af, title="X", kind="organised", country_of_origin="AF"
        )
    assert exc.value.field == "office"
    assert not RepatriationOperation.objects.exists()


def test_operation_recorded_runs_the_early_notice_hooks(world, monkeypatch):
    seen = []
    monkeypatch.setattr(services, "OPERATION_RECORDED_HOOKS", [seen.append])
    op = services.operation_create(
        actor=world.unhcr_af_staff,
        office=world.unhcr_af,
        title="Spontaneous returns",
        kind="spontaneous",
        country_of_origin="AF",
    )
    assert seen == [op]


def _parties(world, *gov_codes):
    from tests.factories.jointops import OrganisationFactory

    return [world.unhcr, world.iom, *[OrganisationFactory(code=c, kind="government") for c in gov_codes]]


def test_quadripartite_agreement_needs_four_parties_including_both_agencies(world):
    # Letter: Afghanistan, the host country, UNHCR and IOM.
    common = {
        "kind": "quadripartite",
        "title": "Afghans from Germany",
        "country_of_origin": "AF",
        "host_country": "DE",
        "valid_from": dt.date(2026, 1, 1),
        "review_date": dt.date(2026, 12, 31),
    }
    with pytest.raises(ValidationFailed) as exc:
        services.agreement_create(
            actor=world.iom_de_manager, office=world.iom_de, parties=_parties(world, "GOV-AF"), **common
        )
    assert exc.value.field == "parties"
    agreement = services.agreement_create(
        actor=world.iom_de_manager, office=world.iom_de, parties=_parties(world, "GOV-AF", "GOV-DE"), **common
    )
    assert agreement.parties.count() == 4
    assert ReturnAgreement.objects.count() == 1


def test_agreement_return_departure_must_fall_within_validity(world):
    agreement = services.agreement_create(
        actor=world.iom_de_manager,
        office=world.iom_de,
        parties=_parties(world, "GOV-AF", "GOV-DE"),
        kind="quadripartite",
        title="Q",
        country_of_origin="AF",
        host_country="DE",
        valid_from=dt.date(2026, 1, 1),
        valid_until=timezone.localdate() + dt.timedelta(days=5),
    )
    c = move(
        case(
            world.iom_de, world.iom_de_staff, kind=ReturnKind.AGREEMENT_RETURN, agreement=agreement, fit_to_travel=True
        ),
        world.iom_de_staff,
        "start_counselling",
        "start_preparing",
    )
    from jointops.exceptions import TransitionNotAllowed

    with pytest.raises(TransitionNotAllowed):
        services.return_case_move(
            actor=world.iom_de_staff,
            case=c,
            transition="schedule_departure",
            expected_departure_date=timezone.localdate() + dt.timedelta(days=30),
        )
    c = services.return_case_move(
        actor=world.iom_de_staff,
        case=c,
        transition="schedule_departure",
        expected_departure_date=timezone.localdate() + dt.timedelta(days=3),
    )
    assert c.stage == Stage.DEPARTURE_SCHEDULED


def test_case_link_to_operation_only_for_voluntary_repatriation(world):
    op = services.operation_create(
        actor=world.unhcr_de_staff, office=world.unhcr_de, title="Op", kind="organised", country_of_origin="AF"
    )
    with pytest.raises(ValidationFailed) as exc:
        case(world.iom_de, world.iom_de_staff, kind=ReturnKind.AVR_MIGRANT, operation=op)
    assert exc.value.field == "operation"
    c = case(world.unhcr_de, world.unhcr_de_staff, kind=ReturnKind.VOLUNTARY_REPATRIATION, operation=op)
    assert list(op.cases.all()) == [c]


def test_members_added_and_removed_before_embarkation_never_the_principal(world):
    c = case(world.iom_de, world.iom_de_staff)
    child = person(world.iom_de, actor=world.iom_de_staff)
    member = services.return_case_add_member(actor=world.iom_de_staff, case=c, beneficiary=child)
    with pytest.raises(Conflict):
        services.return_case_add_member(actor=world.iom_de_staff, case=c, beneficiary=child)
    principal = c.members.get(is_principal=True)
    with pytest.raises(Conflict):
        services.return_case_remove_member(actor=world.iom_de_staff, case=c, member=principal)
    services.return_case_remove_member(actor=world.iom_de_staff, case=c, member=member)
    assert c.members.count() == 1


def test_case_cannot_include_people_of_another_office(world):
    other = person(world.iom_af, actor=world.iom_af_staff)
    with pytest.raises(ValidationFailed) as exc:
        case(world.iom_de, world.iom_de_staff, principal=other)
    assert exc.value.field == "members"


def test_consultation_between_both_agencies_linked_to_a_case(world):
    c = case(world.iom_de, world.iom_de_staff)
    consultation = platform.consultation_record(
        actor=world.iom_de_manager,
        recorded_by_office=world.iom_de,
        offices=[world.unhcr_de],
        held_on=timezone.localdate(),
        participants="A (IOM)\nB (UNHCR)",
        subject_kind="rejected_asylum_seekers",
        subject="Returns of rejected asylum-seekers",
        outcome="Lists weekly",
        linked=c,
    )
    assert consultation.linked == c
    assert consultation in platform_selectors.consultation_qs_for(principal=world.unhcr_de_staff)
    assert consultation not in platform_selectors.consultation_qs_for(principal=world.unhcr_af_staff)
    with pytest.raises(ValidationFailed) as exc:
        platform.consultation_record(
            actor=world.iom_de_manager,
            recorded_by_office=world.iom_de,
            offices=[world.iom_af],
            held_on=timezone.localdate(),
            participants="x",
            subject_kind="other",
            subject="IOM only",
        )
    assert exc.value.field == "offices"
    assert Consultation.objects.count() == 1


def test_consultation_cannot_link_a_case_the_actor_may_not_see(world):
    hidden = case(world.iom_af, world.iom_af_staff)
    with pytest.raises(ValidationFailed) as exc:
        platform.consultation_record(
            actor=world.iom_de_manager,
            recorded_by_office=world.iom_de,
            offices=[world.unhcr_de],
            held_on=timezone.localdate(),
            participants="x",
            subject_kind="other",
            subject="Probe",
            linked=hidden,
        )
    assert exc.value.field == "linked"
    assert not Consultation.objects.exists()


def test_visit_and_measure_bump_the_case_for_syncing_partners(world):
    from returns.models import AdditionalMeasure

    c = case(world.iom_de, world.iom_de_staff)
    measure = AdditionalMeasure.objects.create(office=world.iom_de, label="UNHCR counselling offered")
    before = (c.version, c.updated_at)
    services.case_measure_record(actor=world.iom_de_staff, case=c, measure=measure, done_on=timezone.localdate())
    c.refresh_from_db()
    assert c.version == before[0] + 1 and c.updated_at > before[1]
