"""`manage.py seed_demo` return cases (returns/demo.py): the demo people on cases at several stages, made through the
services, and a second run adds nothing."""

import datetime as dt
from io import StringIO

import pytest
from django.core.management import call_command
from django.utils import timezone

from returns.choices import ReturnKind, Stage
from returns.models import CaseTransition, ReturnCase, ReturnCaseMember

pytestmark = pytest.mark.django_db


def _seed() -> str:
    out = StringIO()
    call_command("seed_demo", stdout=out)
    return out.getvalue()


def _case_of(given: str, family: str) -> ReturnCase:
    return ReturnCase.objects.select_related("lead_office").get(
        members__is_principal=True, members__beneficiary__given_name=given, members__beneficiary__family_name=family
    )


def _moves(case: ReturnCase) -> list[str]:
    return list(case.transitions.order_by("pk").values_list("transition", flat=True))


def test_seed_demo_berlin_avr_cases_scheduled_12_and_4_days_ahead():
    _seed()
    today = timezone.localdate()

    ahmadi = _case_of("Mohammad", "Ahmadi")
    assert (ahmadi.lead_office.code, ahmadi.kind, ahmadi.stage) == (
        "IOM-DE-BER",
        ReturnKind.AVR_ASYLUM_SEEKER,
        Stage.DEPARTURE_SCHEDULED,
    )
    assert ahmadi.expected_departure_date == today + dt.timedelta(days=12)
    assert set(ahmadi.members.values_list("beneficiary__given_name", flat=True)) == {"Mohammad", "Fatemeh"}
    assert _moves(ahmadi) == ["start_counselling", "start_preparing", "schedule_departure"]

    karimi = _case_of("Hamid", "Karimi")
    assert (karimi.lead_office.code, karimi.kind, karimi.stage) == (
        "IOM-DE-BER",
        ReturnKind.AVR_REJECTED_ASYLUM_SEEKER,
        Stage.DEPARTURE_SCHEDULED,
    )
    assert karimi.expected_departure_date == today + dt.timedelta(days=4)
    # MOU §29 and §12: recorded, so the schedule_departure guards passed.
    assert karimi.final_decision_date < today and karimi.possibilities_to_stay_exhausted
    assert karimi.no_conflict_with_humanitarian_concerns and karimi.best_interests_considered
    assert karimi.bilateral_matter_recognised


def test_seed_demo_migrant_case_withdrawn_with_his_reason():
    _seed()

    rahimi = _case_of("Abdullah", "Rahimi")
    assert (rahimi.lead_office.code, rahimi.kind, rahimi.stage) == (
        "IOM-DE-BER",
        ReturnKind.AVR_MIGRANT,
        Stage.WITHDRAWN,
    )
    withdrawal = rahimi.transitions.get(transition="withdraw")
    assert withdrawal.from_stage == Stage.COUNSELLING and "changed his mind" in withdrawal.reason


def test_seed_demo_voluntary_repatriation_led_by_unhcr_embarked_and_arrived_without_emergency():
    _seed()

    sultani = _case_of("Khalid", "Sultani")
    assert (sultani.lead_office.code, sultani.kind, sultani.stage) == (
        "UNHCR-AF-KBL",
        ReturnKind.VOLUNTARY_REPATRIATION,
        Stage.ARRIVED,
    )
    assert sultani.embarked_at and sultani.arrived_at
    assert sultani.emergency_justification == ""  # UNHCR's own case: no IOM list to wait for (MOU §30)
    assert _moves(sultani)[-2:] == ["confirm_embarkation", "confirm_arrival"]


def test_seed_demo_counselling_case_and_no_iom_case_for_the_returnee():
    _seed()

    haile = _case_of("Yusuf", "Haile")
    assert (haile.lead_office.code, haile.kind, haile.stage) == (
        "UNHCR-DE-BER",
        ReturnKind.VOLUNTARY_REPATRIATION,
        Stage.COUNSELLING,
    )
    # Gul Noori is a returnee: no kind of return IOM leads fits her (MOU §13, §30).
    assert not ReturnCaseMember.objects.filter(beneficiary__given_name="Gul", beneficiary__family_name="Noori").exists()


def test_seed_demo_second_run_adds_no_case_member_move_or_history():
    _seed()

    def counts():
        return (
            list(ReturnCase.objects.order_by("pk").values_list("reference", "stage", "version")),
            ReturnCaseMember.objects.count(),
            CaseTransition.objects.count(),
            ReturnCase.history.count(),
            ReturnCaseMember.history.count(),
        )

    before = counts()
    assert len(before[0]) == 5

    _seed()

    assert counts() == before
