"""Demo return cases for `manage.py seed_demo`: the demo people (beneficiaries/demo.py) on cases at several stages,
opened and moved through the services by the system (actor None: the Berlin offices have no demo users, and the
system leaves the same audit trail), so each case passes the guards of returns/flow.py like real data.

Idempotent: a case whose lead office, kind and principal applicant exist already is left as it is. Departure dates
are counted from the day of seeding, so the pre-departure list (notifications/demo.py) and the dashboards' "next 7
/ 30 days" have something to show.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from typing import Any

from django.utils import timezone

from beneficiaries.models import Beneficiary
from returns import services
from returns.choices import ReturnKind
from returns.models import ReturnCase

# MOU §12: the three conditions for returning people not in need of international protection.
SECTION_12 = {
    "no_conflict_with_humanitarian_concerns": True,
    "best_interests_considered": True,
    "bilateral_matter_recognised": True,
}


@dataclass(frozen=True)
class CaseSpec:
    office: str  # the lead office (returns.services._check_lead_office: the kind's lead agency)
    kind: str
    principal: tuple[str, str, str]  # office where the person is registered, given name, family name
    moves: tuple[tuple[str, dict[str, Any]], ...]  # (move, inputs) in order; "in_days" becomes the departure date
    members: tuple[tuple[str, str, str], ...] = ()
    fields: dict[str, Any] = field(default_factory=dict)


BERLIN_TO_KABUL = {
    "country_of_departure": "DE",
    "country_of_return": "AF",
    "embarkation_point": "Berlin Brandenburg Airport (BER)",
    "travel_details": "Scheduled flight BER-IST-KBL; IOM operational assistance at departure and in transit.",
    "fit_to_travel": True,
}

CASES: tuple[CaseSpec, ...] = (
    # AVR of asylum-seekers before the decision (Letter): a couple, departure in 12 days — within the lead time.
    CaseSpec(
        office="IOM-DE-BER",
        kind=ReturnKind.AVR_ASYLUM_SEEKER,
        principal=("IOM-DE-BER", "Mohammad", "Ahmadi"),
        members=(("IOM-DE-BER", "Fatemeh", "Ahmadi"),),
        fields={**BERLIN_TO_KABUL, "place_of_return": "Herat"},
        moves=(("start_counselling", {}), ("start_preparing", {}), ("schedule_departure", {"in_days": 12})),
    ),
    # AVR of a rejected asylum-seeker (Letter), departure in 4 days: listed later than the 7-day lead time.
    CaseSpec(
        office="IOM-DE-BER",
        kind=ReturnKind.AVR_REJECTED_ASYLUM_SEEKER,
        principal=("IOM-DE-BER", "Hamid", "Karimi"),
        fields={
            **BERLIN_TO_KABUL,
            **SECTION_12,
            "place_of_return": "Kabul",
            # MOU §29: only once all possibilities to stay are exhausted (the date is set when seeding, in the past).
            "possibilities_to_stay_exhausted": True,
        },
        moves=(("start_counselling", {}), ("start_preparing", {}), ("schedule_departure", {"in_days": 4})),
    ),
    # AVR of a migrant (MOU §9) withdrawn: he changed his mind, as he may up to embarkation (Letter).
    CaseSpec(
        office="IOM-DE-BER",
        kind=ReturnKind.AVR_MIGRANT,
        principal=("IOM-DE-BER", "Abdullah", "Rahimi"),
        fields={"country_of_departure": "DE", "country_of_return": "AF", "place_of_return": "Mazar-i-Sharif"},
        moves=(
            ("start_counselling", {}),
            (
                "withdraw",
                {
                    "reason": "He changed his mind after counselling: he wants to stay with his brother in Germany "
                    "for now and may come back to counselling later."
                },
            ),
        ),
    ),
    # Voluntary repatriation of a refugee, led by UNHCR (MOU §30), from Pakistan through Torkham: embarked, arrived.
    CaseSpec(
        office="UNHCR-AF-KBL",
        kind=ReturnKind.VOLUNTARY_REPATRIATION,
        principal=("UNHCR-AF-KBL", "Khalid", "Sultani"),
        fields={
            "country_of_departure": "PK",
            "country_of_return": "AF",
            "place_of_return": "Kabul",
            "embarkation_point": "Voluntary repatriation centre, Peshawar",
            "travel_details": "Through the Torkham crossing; IOM transport to Kabul (MOU §30).",
            "fit_to_travel": True,
        },
        moves=(
            ("start_counselling", {}),
            ("start_preparing", {}),
            ("schedule_departure", {"in_days": 0}),
            ("confirm_embarkation", {}),
            ("confirm_arrival", {}),
        ),
    ),
    # A case at counselling. Gul Noori (IOM-AF-KBL) is a returnee: she has returned already, and the one kind of
    # return for returnees, voluntary repatriation, is led by UNHCR (MOU §13, §30), so IOM opens no case for her.
    # Yusuf Haile, a refugee registered by UNHCR in Berlin, is considering voluntary repatriation instead.
    CaseSpec(
        office="UNHCR-DE-BER",
        kind=ReturnKind.VOLUNTARY_REPATRIATION,
        principal=("UNHCR-DE-BER", "Yusuf", "Haile"),
        fields={"country_of_departure": "DE", "country_of_return": "ER", "place_of_return": "Asmara"},
        moves=(("start_counselling", {}),),
    ),
)


def _person(demo, office_code: str, given: str, family: str) -> Beneficiary | None:
    return (
        Beneficiary.objects.filter(
            office=demo.offices[office_code], given_name=given, family_name=family, merged_into__isnull=True
        )
        .order_by("pk")
        .first()
    )


def _fields(spec: CaseSpec, today: dt.date) -> dict[str, Any]:
    values = dict(spec.fields)
    if values.get("possibilities_to_stay_exhausted"):
        values["final_decision_date"] = today - dt.timedelta(days=75)  # MOU §29
    return values


def _move(case: ReturnCase, name: str, inputs: dict[str, Any], today: dt.date) -> ReturnCase:
    inputs = dict(inputs)
    reason = inputs.pop("reason", "")
    if "in_days" in inputs:
        inputs["expected_departure_date"] = today + dt.timedelta(days=inputs.pop("in_days"))
    return services.return_case_move(actor=None, case=case, transition=name, reason=reason, **inputs)


def seed_return_cases(demo) -> None:
    today = timezone.localdate()
    for spec in CASES:
        if spec.office not in demo.offices:
            continue
        principal = _person(demo, *spec.principal)
        if principal is None:  # the person was renamed or merged since: nothing to attach the case to
            continue
        if ReturnCase.objects.filter(
            lead_office=demo.offices[spec.office],
            kind=spec.kind,
            members__beneficiary=principal,
            members__is_principal=True,
        ).exists():
            continue
        members = [m for m in (_person(demo, *key) for key in spec.members) if m is not None]
        case = services.return_case_open(
            actor=None,
            kind=spec.kind,
            lead_office=demo.offices[spec.office],
            principal=principal,
            members=members,
            **_fields(spec, today),
        )
        for name, inputs in spec.moves:
            case = _move(case, name, inputs, today)
        demo.created += 1


SEEDERS = [seed_return_cases]
