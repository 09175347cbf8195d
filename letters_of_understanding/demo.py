"""Demo Letters of Understanding for `manage.py seed_demo`: one letter in each state of the lifecycle, between the
demo UNHCR and IOM offices, moved there through the services by the demo users (or by the system, actor None, for
the Berlin offices, which have no demo users). Idempotent: a letter whose title exists already is left as it is.

Dates are counted from the day of seeding, so the reminders (MOU §39, §45, §47) have something to show.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from dataclasses import dataclass, field
from decimal import Decimal

from django.utils import timezone

from beneficiaries.models import BeneficiaryCategory
from letters_of_understanding import content as text
from letters_of_understanding import services
from letters_of_understanding.choices import (
    ActivityKind,
    Agency,
    EvaluationKind,
    HandoverStatus,
    RecipientKind,
    ReviewOutcome,
)
from letters_of_understanding.models import LetterOfUnderstanding

MINISTRY = "Ministry of Refugees and Repatriation (وزارة امور مهاجرين و عودت کنندگان)"


@dataclass
class LetterSpec:
    title: str
    unhcr_office: str
    iom_office: str
    country: str
    operational_situation: str
    start_in_days: int
    end_in_days: int | None
    categories: tuple[str, ...]
    activities: tuple[tuple[str, str, str, str], ...]  # kind, agency, description, indicators
    funding: tuple[tuple[str, str, int | None, str, bool], ...]  # agency, source, amount, currency, joint appeal
    region: str = ""
    other_parties: str = ""
    secondments: tuple[tuple[str, str, int], ...] = ()  # from agency, position, number
    then: list[Callable] = field(default_factory=list)  # the acts after drafting, each (demo, lou) -> None


def _today() -> dt.date:
    return timezone.localdate()


def _ago(days: int) -> dt.date:
    return _today() - dt.timedelta(days=days)


def _user(demo, username: str):
    return demo.users.get(username)


def _sign_both(days_ago: int) -> Callable:
    """Both office managers sign (the letter enters into force at the second signature, MOU §44 by analogy)."""

    def act(demo, lou):
        lou = services.lou_sign(
            actor=_user(demo, "unhcr.manager"),
            lou=lou,
            signatory_name="Karim Manager",
            signatory_title="UNHCR Representative in Afghanistan",
            signed_on=_ago(days_ago + 2),
        )
        services.lou_sign(
            actor=_user(demo, "iom.manager"),
            lou=lou,
            signatory_name="Omar Manager",
            signatory_title="IOM Chief of Mission in Afghanistan",
            signed_on=_ago(days_ago),
        )

    return act


def _sign_unhcr(demo, lou) -> None:
    services.lou_sign(
        actor=_user(demo, "unhcr.manager"),
        lou=lou,
        signatory_name="Karim Manager",
        signatory_title="UNHCR Representative in Afghanistan",
    )


def _review(demo, lou) -> None:
    services.lou_record_review(
        actor=_user(demo, "unhcr.field"),
        lou=lou,
        held_on=_ago(20),
        outcome=ReviewOutcome.CONTINUE,
        participants="UNHCR and IOM Kabul programme teams; Ministry of Refugees and Repatriation",
        summary="Activities on track; protection monitoring coverage extended to two more border crossings.",
    )
    services.evaluation_record(
        actor=_user(demo, "iom.field"),
        lou=lou,
        kind=EvaluationKind.MONITORING,
        title="Quarterly joint monitoring report",
        carried_out_on=_ago(35),
        carried_out_by="Joint monitoring team",
        findings="Reception capacity sufficient; waiting times at the transit centre below 48 hours.",
        corrective_measures="Add a female counsellor at the transit centre.",
    )


def _amend(demo, lou) -> None:
    proposed = text.content_of(lou)
    proposed["activities"].append(
        {
            "kind": ActivityKind.INFORMATION,
            "agency": Agency.IOM,
            "description": "Mass information campaign on return conditions in the provinces of origin",
            "indicators": "Radio spots broadcast; leaflets distributed",
        }
    )
    proposed["funding"][0]["amount"] = "450000.00"
    amendment = services.amendment_propose(
        actor=_user(demo, "unhcr.field"),
        lou=lou,
        content=proposed,
        rationale="Add an information campaign (MOU §34) and raise UNHCR's contribution accordingly.",
    )
    services.amendment_approve(
        actor=_user(demo, "iom.manager"), amendment=amendment, note="Agreed at the coordination meeting."
    )


def _serve_notice(demo, lou) -> None:
    services.lou_serve_notice(
        actor=_user(demo, "iom.manager"),
        lou=lou,
        served_on=_ago(30),
        reason="Funding for the transport component ends; IOM withdraws from the operation (MOU §45).",
    )
    services.obligation_save(
        actor=_user(demo, "iom.field"),
        lou=lou,
        agency=Agency.IOM,
        description="Outstanding invoices of the transport contractor",
        amount=Decimal("18500.00"),
        currency="USD",
        due_on=_today() + dt.timedelta(days=45),
    )


def _plan_draft_iom_only(demo, lou) -> None:
    """A phase-out plan written and agreed by IOM only: not yet the "mutually agreeable plan" of MOU §39."""
    services.phase_out_plan_save(
        actor=_user(demo, "iom.field"), lou=lou, summary="Hand the reception centre over to the provincial department."
    )
    services.phase_out_action_add(
        actor=_user(demo, "iom.field"),
        lou=lou,
        description="Inventory of the reception centre's equipment",
        owner_agency=Agency.IOM,
        owner="IOM logistics unit, Kabul",
        due_on=_today() + dt.timedelta(days=20),
    )
    services.phase_out_plan_agree(actor=_user(demo, "iom.manager"), lou=lou)


def _phase_out(demo, lou) -> None:
    services.phase_out_plan_save(
        actor=_user(demo, "unhcr.field"),
        lou=lou,
        summary="Protection monitoring passes to the national commission; transport ends with the last convoy.",
    )
    for description, agency, owner, days in [
        ("Train the national commission's monitors", Agency.UNHCR, "UNHCR protection unit, Kabul", 30),
        ("Last organised convoy and closure of the transit centre", Agency.IOM, "IOM operations, Kabul", 60),
    ]:
        services.phase_out_action_add(
            actor=_user(demo, "unhcr.field"),
            lou=lou,
            description=description,
            owner_agency=agency,
            owner=owner,
            due_on=_today() + dt.timedelta(days=days),
        )
    services.phase_out_plan_agree(actor=_user(demo, "unhcr.manager"), lou=lou)
    services.phase_out_plan_agree(actor=_user(demo, "iom.manager"), lou=lou)
    services.lou_start_phase_out(actor=_user(demo, "iom.manager"), lou=lou)
    # MOU §40: each agency lists its outstanding obligations and its remaining assets.
    services.obligation_save(
        actor=_user(demo, "unhcr.field"),
        lou=lou,
        agency=Agency.UNHCR,
        description="Final instalment to the partner NGO for protection monitoring",
        amount=Decimal("12000.00"),
        currency="USD",
        due_on=_today() + dt.timedelta(days=40),
    )
    services.lou_confirm_obligations(actor=_user(demo, "unhcr.manager"), lou=lou)
    services.obligation_save(
        actor=_user(demo, "iom.field"),
        lou=lou,
        agency=Agency.IOM,
        description="Fuel supplier's last invoice",
        amount=Decimal("3400.00"),
        currency="USD",
    )
    vehicles = services.handover_item_save(
        actor=_user(demo, "iom.field"),
        lou=lou,
        owner_agency=Agency.IOM,
        description="Minibuses for the transit centre",
        quantity=4,
        value=Decimal("96000.00"),
        currency="USD",
        donor="ECHO",
        donor_restriction="Assets may be transferred to a national authority at the end of the action.",
        donor_permits_handover=True,
    )
    services.handover_item_decide(
        actor=_user(demo, "iom.field"),
        item=vehicles,
        decision=HandoverStatus.HANDED_OVER,
        recipient_kind=RecipientKind.NATIONAL_INSTITUTION,
        recipient_name="Provincial Department of Refugees and Repatriation, Herat",
    )
    services.handover_item_save(
        actor=_user(demo, "unhcr.field"),
        lou=lou,
        owner_agency=Agency.UNHCR,
        description="Satellite phones",
        quantity=6,
        value=Decimal("5400.00"),
        currency="USD",
        donor="US PRM",
        donor_restriction="Equipment remains UNHCR property; no transfer to third parties.",
        donor_permits_handover=False,
    )


AF = dict(unhcr_office="UNHCR-AF-KBL", iom_office="IOM-AF-KBL", country="AF", region="Central region")
AF_ACTIVITIES = (
    (
        ActivityKind.VOLUNTARY_REPATRIATION,
        Agency.UNHCR,
        "Protection monitoring at the border and voluntariness interviews",
        "Returnees interviewed; protection incidents followed up",
    ),
    (
        ActivityKind.REINTEGRATION,
        Agency.IOM,
        "Transport from the border to the province of origin and reception at the transit centre",
        "People transported; average stay at the transit centre",
    ),
)
AF_FUNDING = (
    (Agency.UNHCR, "UNHCR annual programme", 400000, "USD", False),
    (Agency.IOM, "ECHO", 250000, "EUR", True),
)

LETTERS: tuple[LetterSpec, ...] = (
    LetterSpec(
        title="Voluntary return from Germany — coordination of counselling (draft)",
        unhcr_office="UNHCR-DE-BER",
        iom_office="IOM-DE-BER",
        country="DE",
        region="Berlin and Brandenburg",
        operational_situation="Asylum-seekers and rejected asylum-seekers in Germany considering return.",
        start_in_days=30,
        end_in_days=395,
        categories=("asylum_seeker", "rejected_asylum_seeker"),
        activities=(
            (
                ActivityKind.REJECTED_ASYLUM_SEEKERS,
                Agency.IOM,
                "Return counselling and assisted voluntary return for rejected asylum-seekers",
                "People counselled",
            ),
            (
                ActivityKind.INFORMATION,
                Agency.UNHCR,
                "Information on the situation in the countries of origin",
                "",
            ),
        ),
        funding=((Agency.IOM, "Federal programme REAG/GARP", None, "", False),),
    ),
    LetterSpec(
        title="Reception of returnees at Torkham — signed by UNHCR",
        **AF,
        operational_situation="Returns from Pakistan through the Torkham crossing.",
        start_in_days=-10,
        end_in_days=355,
        categories=("returnee", "refugee"),
        activities=AF_ACTIVITIES,
        funding=AF_FUNDING,
        then=[_sign_unhcr],
    ),
    LetterSpec(
        title="Return and reintegration in Kabul province",
        **AF,
        operational_situation="Organised voluntary repatriation of Afghan refugees from Iran and Pakistan.",
        other_parties=MINISTRY,
        start_in_days=-200,
        end_in_days=530,
        categories=("refugee", "returnee"),
        activities=AF_ACTIVITIES,
        funding=AF_FUNDING,
        secondments=((Agency.IOM, "Transport officer seconded to UNHCR's repatriation unit", 1),),
        then=[_sign_both(195), _review],
    ),
    LetterSpec(
        title="Coopération à Hérat : rapatriement et information (amended)",
        **AF,
        operational_situation="Repatriation through Islam Qala to Herat province; returnees' information needs.",
        start_in_days=-300,
        end_in_days=430,
        categories=("returnee",),
        activities=AF_ACTIVITIES,
        funding=AF_FUNDING,
        then=[_sign_both(290), _amend],
    ),
    LetterSpec(
        title="Transit centre at Islam Qala — termination notice served",
        **AF,
        operational_situation="Transit centre for returnees at the Islam Qala crossing.",
        start_in_days=-400,
        end_in_days=330,
        categories=("returnee",),
        activities=AF_ACTIVITIES,
        funding=AF_FUNDING,
        then=[_sign_both(390), _serve_notice],
    ),
    LetterSpec(
        title="Winter assistance to IDPs in Kabul — ending without an agreed phase-out plan",
        **AF,
        operational_situation="Displaced families in informal settlements around Kabul during winter.",
        start_in_days=-320,
        end_in_days=45,
        categories=("idp",),
        activities=(
            (ActivityKind.IDP_COOPERATION, Agency.UNHCR, "Shelter and protection cluster coordination", ""),
            (ActivityKind.IDP_COOPERATION, Agency.IOM, "Camp coordination and winterisation kits", "Kits delivered"),
        ),
        funding=((Agency.UNHCR, "CERF", 150000, "USD", True), (Agency.IOM, "CERF", 150000, "USD", True)),
        then=[_sign_both(310), _plan_draft_iom_only],
    ),
    LetterSpec(
        title="Herat returns operation — phasing out",
        **AF,
        operational_situation="Large-scale returns to Herat province, now winding down.",
        other_parties=MINISTRY,
        start_in_days=-700,
        end_in_days=75,
        categories=("returnee", "refugee"),
        activities=AF_ACTIVITIES,
        funding=AF_FUNDING,
        then=[_sign_both(690), _phase_out],
    ),
)


def _create(demo, spec: LetterSpec) -> LetterOfUnderstanding:
    unhcr_office, iom_office = demo.offices[spec.unhcr_office], demo.offices[spec.iom_office]
    # The Berlin offices have no demo users: the system drafts that letter.
    drafter = _user(demo, "iom.field") if spec.country == "AF" else None
    today = _today()
    lou = services.lou_create(
        actor=drafter,
        unhcr_office=unhcr_office,
        iom_office=iom_office,
        categories=list(BeneficiaryCategory.objects.filter(code__in=spec.categories)),
        title=spec.title,
        operational_situation=spec.operational_situation,
        countries=[spec.country],
        region=spec.region,
        other_parties=spec.other_parties,
        start_date=today + dt.timedelta(days=spec.start_in_days),
        end_date=today + dt.timedelta(days=spec.end_in_days) if spec.end_in_days is not None else None,
        institutional_framework=(
            "A joint coordination committee of the two offices meets monthly and reports to both "
            "representatives; operational focal points are named in each office (MOU §5, §35)."
        ),
        linkages="UNHCR's voluntariness interviews come before IOM's transport; both share the caseload figures.",
        monitoring_procedures="Monthly joint field visits and a quarterly monitoring report (MOU §38).",
        evaluation_arrangements="A joint evaluation at mid-term and at the end, with agreed methodology (MOU §38).",
    )
    for kind, agency, description, indicators in spec.activities:
        services.lou_row_add(
            actor=drafter,
            lou=lou,
            collection="activities",
            kind=kind,
            agency=agency,
            description=description,
            indicators=indicators,
        )
    for agency, source, amount, currency, joint in spec.funding:
        services.lou_row_add(
            actor=drafter,
            lou=lou,
            collection="funding",
            agency=agency,
            source=source,
            amount=Decimal(amount) if amount is not None else None,
            currency=currency,
            joint_appeal=joint,
        )
    for agency, position, number in spec.secondments:
        services.lou_row_add(
            actor=drafter, lou=lou, collection="secondments", from_agency=agency, position=position, number=number
        )
    return lou


def seed_letters_of_understanding(demo) -> None:
    if not {"unhcr.manager", "iom.manager", "unhcr.field", "iom.field"} <= set(demo.users):
        return  # the demo users are seeded first (jointops seed_staff); without them no letter can be signed
    for spec in LETTERS:
        if LetterOfUnderstanding.objects.filter(title=spec.title).exists():
            continue
        lou = _create(demo, spec)
        for act in spec.then:
            lou.refresh_from_db()
            act(demo, lou)
        demo.created += 1


SEEDERS = [seed_letters_of_understanding]
