"""The return case state machine and its rules, each with its source."""

import datetime as dt

import pytest
from django.utils import timezone

from jointops.exceptions import PermissionRefused, TransitionNotAllowed, ValidationFailed
from returns import flow, services
from returns.choices import BEFORE_EMBARKATION, ReturnKind, Stage
from returns.models import AdditionalMeasure, CaseTransition, ReturnCase
from tests.factories.beneficiaries import person
from tests.factories.returns import case, move, scheduled

IN_10_DAYS = dt.timedelta(days=10)


def test_full_path_records_every_move_with_who_when_why(world):
    actor = world.iom_de_staff
    c = scheduled(
        world.iom_de,
        actor,
        kind=ReturnKind.AVR_MIGRANT,
        no_conflict_with_humanitarian_concerns=True,
        best_interests_considered=True,
        bilateral_matter_recognised=True,
    )
    c = move(c, actor, "confirm_embarkation", "confirm_arrival", "start_reintegration")
    services.reintegration_visit_record(actor=actor, case=c, visited_on=timezone.localdate(), outcome="Settled")
    c = services.return_case_move(actor=actor, case=c, transition="close", closing_reason="reintegrated")
    assert c.stage == Stage.CLOSED and c.embarked_at and c.arrived_at
    moves = list(CaseTransition.objects.filter(case=c).values_list("transition", "from_stage", "to_stage"))
    assert [m[0] for m in moves] == [
        "start_counselling",
        "start_preparing",
        "schedule_departure",
        "confirm_embarkation",
        "confirm_arrival",
        "start_reintegration",
        "close",
    ]
    assert all(t.user == actor and t.at for t in CaseTransition.objects.filter(case=c))


@pytest.mark.parametrize("stage_moves", [[], ["start_counselling"], ["start_counselling", "start_preparing"]])
def test_withdraw_is_available_at_every_stage_before_embarkation(world, stage_moves):
    # Letter: the person may change their mind at any time up to the moment of voluntary embarkation.
    c = move(case(world.iom_de, world.iom_de_staff, fit_to_travel=True), world.iom_de_staff, *stage_moves)
    assert "withdraw" in [m.name for m in services.moves_for(actor=world.iom_de_staff, case=c)]
    c = services.return_case_move(actor=world.iom_de_staff, case=c, transition="withdraw", reason="Changed mind")
    assert c.stage == Stage.WITHDRAWN
    assert ReturnCase.objects.filter(pk=c.pk).exists() and c.members.count() == 1  # nothing deleted


def test_withdraw_from_departure_scheduled_then_never_after_embarkation(world):
    c = scheduled(world.iom_de, world.iom_de_staff)
    assert "withdraw" in [m.name for m in flow.allowed_moves(c)]
    c2 = scheduled(world.iom_de, world.iom_de_staff)
    c2 = services.return_case_move(
        actor=world.iom_de_staff,
        case=c2,
        transition="confirm_embarkation",
        emergency_justification="Flight moved forward by the carrier",
    )
    assert "withdraw" not in [m.name for m in flow.allowed_moves(c2)]
    with pytest.raises(TransitionNotAllowed):
        services.return_case_move(actor=world.iom_de_staff, case=c2, transition="withdraw", reason="Too late")
    assert set(BEFORE_EMBARKATION) == {Stage.OPENED, Stage.COUNSELLING, Stage.PREPARING, Stage.DEPARTURE_SCHEDULED}


def test_withdraw_needs_a_reason(world):
    c = case(world.iom_de, world.iom_de_staff)
    with pytest.raises(ValidationFailed) as exc:
        services.return_case_move(actor=world.iom_de_staff, case=c, transition="withdraw", reason=" ")
    assert exc.value.field == "reason"


def test_no_formal_withdrawal_of_the_asylum_claim_is_asked_for_anywhere(world):
    # Letter: IOM does not require any person still in the asylum system to sign a formal withdrawal of their
    # asylum application. No field, guard or input of the case asks for one.
    names = [f.name for f in ReturnCase._meta.get_fields()]
    assert not [n for n in names if "asylum" in n and "withdraw" in n]
    c = scheduled(world.iom_de, world.iom_de_staff, kind=ReturnKind.AVR_ASYLUM_SEEKER)
    assert c.stage == Stage.DEPARTURE_SCHEDULED  # scheduled without any such document


def test_schedule_rejected_asylum_seeker_needs_final_decision_and_exhaustion(world):
    # MOU §29.
    common = {
        "kind": ReturnKind.AVR_REJECTED_ASYLUM_SEEKER,
        "no_conflict_with_humanitarian_concerns": True,
        "best_interests_considered": True,
        "bilateral_matter_recognised": True,
        "fit_to_travel": True,
    }
    c = move(
        case(world.iom_de, world.iom_de_staff, **common), world.iom_de_staff, "start_counselling", "start_preparing"
    )
    with pytest.raises(TransitionNotAllowed, match="§29"):
        services.return_case_move(
            actor=world.iom_de_staff,
            case=c,
            transition="schedule_departure",
            expected_departure_date=timezone.localdate() + IN_10_DAYS,
        )
    c = services.return_case_update(
        actor=world.iom_de_staff,
        case=c,
        version=c.version,
        final_decision_date=dt.date(2026, 1, 10),
        possibilities_to_stay_exhausted=True,
    )
    c = services.return_case_move(
        actor=world.iom_de_staff,
        case=c,
        transition="schedule_departure",
        expected_departure_date=timezone.localdate() + IN_10_DAYS,
    )
    assert c.stage == Stage.DEPARTURE_SCHEDULED


@pytest.mark.parametrize("kind", [ReturnKind.AVR_REJECTED_ASYLUM_SEEKER, ReturnKind.AVR_MIGRANT])
def test_schedule_not_in_need_of_protection_needs_the_three_section_12_conditions(world, kind):
    c = move(
        case(
            world.iom_de,
            world.iom_de_staff,
            kind=kind,
            fit_to_travel=True,
            final_decision_date=dt.date(2026, 1, 1),
            possibilities_to_stay_exhausted=True,
            best_interests_considered=True,
            bilateral_matter_recognised=True,
        ),
        world.iom_de_staff,
        "start_counselling",
        "start_preparing",
    )
    with pytest.raises(TransitionNotAllowed, match="§12"):
        services.return_case_move(
            actor=world.iom_de_staff,
            case=c,
            transition="schedule_departure",
            expected_departure_date=timezone.localdate() + IN_10_DAYS,
        )
    assert ReturnCase.objects.get(pk=c.pk).stage == Stage.PREPARING


def test_schedule_needs_fit_to_travel_and_a_future_date(world):
    c = move(case(world.iom_de, world.iom_de_staff), world.iom_de_staff, "start_counselling", "start_preparing")
    with pytest.raises(TransitionNotAllowed):
        services.return_case_move(
            actor=world.iom_de_staff,
            case=c,
            transition="schedule_departure",
            expected_departure_date=timezone.localdate() + IN_10_DAYS,
        )
    c = services.return_case_update(actor=world.iom_de_staff, case=c, version=c.version, fit_to_travel=True)
    with pytest.raises(ValidationFailed) as exc:
        services.return_case_move(
            actor=world.iom_de_staff,
            case=c,
            transition="schedule_departure",
            expected_departure_date=timezone.localdate() - IN_10_DAYS,
        )
    assert exc.value.field == "expected_departure_date"


def test_embarkation_of_a_case_unhcr_must_know_needs_the_list_or_an_emergency_justification(world):
    c = scheduled(world.iom_de, world.iom_de_staff, kind=ReturnKind.AVR_ASYLUM_SEEKER)
    with pytest.raises(TransitionNotAllowed, match="pre-departure list"):
        services.return_case_move(actor=world.iom_de_staff, case=c, transition="confirm_embarkation")
    c = services.return_case_move(
        actor=world.iom_de_staff,
        case=c,
        transition="confirm_embarkation",
        emergency_justification="Medical evacuation flight",
    )
    assert c.stage == Stage.EMBARKED and c.emergency_justification == "Medical evacuation flight"
    from returns.selectors import emergency_embarkations_qs_for

    assert list(emergency_embarkations_qs_for(principal=world.iom_hq_focal)) == [c]


def test_embarkation_once_listed_needs_no_justification(world, monkeypatch):
    c = scheduled(world.iom_de, world.iom_de_staff, kind=ReturnKind.AVR_ASYLUM_SEEKER)
    monkeypatch.setattr(flow, "LISTED_CHECK", lambda case: case.pk == c.pk)  # the notifications app's hook
    c = services.return_case_move(actor=world.iom_de_staff, case=c, transition="confirm_embarkation")
    assert c.stage == Stage.EMBARKED and c.emergency_justification == ""


def test_voluntary_repatriation_led_by_unhcr_embarks_without_an_iom_list(world):
    # MOU §30: UNHCR leads voluntary repatriation; the Letter's list goes from IOM to UNHCR about IOM's returns, so a
    # refugee of concern to UNHCR on UNHCR's own case is not an emergency embarkation flagged to HQ.
    refugee = person(world.unhcr_af, category_code="refugee", of_concern_to_unhcr=True)
    c = scheduled(world.unhcr_af, world.unhcr_af_staff, kind=ReturnKind.VOLUNTARY_REPATRIATION, principal=refugee)
    assert flow.unhcr_must_be_informed(c) is False
    c = services.return_case_move(actor=world.unhcr_af_staff, case=c, transition="confirm_embarkation")
    assert c.stage == Stage.EMBARKED and c.emergency_justification == ""
    from returns.selectors import emergency_embarkations_qs_for

    assert not emergency_embarkations_qs_for(principal=world.unhcr_hq_focal).exists()


def test_person_of_concern_needs_the_offices_additional_measures_before_embarkation(world):
    # Letter: additional measures for persons of concern to UNHCR.
    measure = AdditionalMeasure.objects.create(office=world.iom_de, label="UNHCR counselling offered")
    principal = person(world.iom_de, actor=world.iom_de_staff, of_concern_to_unhcr=True)
    c = scheduled(
        world.iom_de,
        world.iom_de_staff,
        kind=ReturnKind.AVR_MIGRANT,
        principal=principal,
        no_conflict_with_humanitarian_concerns=True,
        best_interests_considered=True,
        bilateral_matter_recognised=True,
    )
    with pytest.raises(TransitionNotAllowed, match="UNHCR counselling offered"):
        services.return_case_move(
            actor=world.iom_de_staff, case=c, transition="confirm_embarkation", emergency_justification="x"
        )
    services.case_measure_record(actor=world.iom_de_staff, case=c, measure=measure, done_on=timezone.localdate())
    assert flow.unhcr_must_be_informed(c)  # of concern: UNHCR must be told as well
    c = services.return_case_move(
        actor=world.iom_de_staff,
        case=c,
        transition="confirm_embarkation",
        emergency_justification="Carrier moved the flight",
    )
    assert c.stage == Stage.EMBARKED


def test_move_refused_for_hq_focal_point_and_other_offices(world):
    c = case(world.iom_de, world.iom_de_staff)
    for actor in (world.iom_hq_focal, world.iom_af_staff, world.unhcr_de_staff):
        with pytest.raises(PermissionRefused):
            services.return_case_move(actor=actor, case=c, transition="start_counselling")
    assert ReturnCase.objects.get(pk=c.pk).stage == Stage.OPENED


def test_move_with_stale_version_is_refused(world):
    from jointops.exceptions import StaleVersion

    c = case(world.iom_de, world.iom_de_staff)
    services.return_case_move(actor=world.iom_de_staff, case=c, transition="start_counselling", version=c.version)
    with pytest.raises(StaleVersion):
        services.return_case_move(
            actor=world.iom_de_manager, case=c, transition="withdraw", reason="x", version=c.version
        )


def test_voluntary_repatriation_is_opened_by_unhcr_only(world):
    # MOU §30: UNHCR's lead role in voluntary repatriation.
    with pytest.raises(ValidationFailed) as exc:
        case(world.iom_de, world.iom_de_staff, kind=ReturnKind.VOLUNTARY_REPATRIATION)
    assert exc.value.field == "lead_office"
    c = case(world.unhcr_de, world.unhcr_de_staff, kind=ReturnKind.VOLUNTARY_REPATRIATION)
    assert c.lead_office == world.unhcr_de
