"""The dashboards' figures are right: a small known world (people, return cases, pre-departure lists, Letters of
Understanding, consultations across IOM and UNHCR offices) and every figure and table row asserted exactly, for an HQ
focal point (joint figures, MOU §35), office managers (their offices and the offices beneath), each filter and an
office's own dashboard; who may not open a dashboard; bad filters named; aggregates in the database (the number of
queries does not grow with the records)."""

from __future__ import annotations

import datetime as dt
from types import SimpleNamespace

import pytest
from django.db import connection
from django.http import Http404
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from beneficiaries import services as beneficiary_services
from beneficiaries.choices import SharingBasis
from dashboards.params import parse_params
from dashboards.selectors import dashboard_for, office_dashboard_office
from jointops import services as jointops_services
from jointops.choices import Role
from jointops.exceptions import PermissionRefused, ValidationFailed
from jointops.models import ConsultationSubject, User
from letters_of_understanding import services as lou_services
from letters_of_understanding.choices import Agency
from letters_of_understanding.content import content_of
from letters_of_understanding.models import LetterOfUnderstanding
from notifications.choices import ChangeKind, Channel, DeliveryStatus, Trigger
from notifications.models import Delivery, PreDepartureEntry, PreDepartureList
from returns import services as return_services
from returns.choices import ReturnKind, Stage
from returns.models import CaseTransition
from tests.factories import letters_of_understanding as lou_factory
from tests.factories.beneficiaries import person
from tests.factories.jointops import build_world, staff

pytestmark = pytest.mark.django_db

# §12 conditions (MOU §12): AVR of migrants and rejected asylum-seekers is scheduled only with them recorded.
SECTION_12 = {
    "no_conflict_with_humanitarian_concerns": True,
    "best_interests_considered": True,
    "bilateral_matter_recognised": True,
}


# --- Dates of the world ----------------------------------------------------------------------------------------


def month_start(today: dt.date, back: int) -> dt.date:
    """The first day of the month `back` months before today's."""
    index = today.year * 12 + today.month - 1 - back
    return dt.date(index // 12, index % 12 + 1, 1)


def month_end(today: dt.date, back: int) -> dt.date:
    return month_start(today, back - 1) - dt.timedelta(days=1)


def at(day: dt.date, hour: int = 12) -> dt.datetime:
    return dt.datetime.combine(day, dt.time(hour), tzinfo=timezone.get_current_timezone())


def month_key(value: dt.date | dt.datetime) -> str:
    if isinstance(value, dt.datetime):
        value = timezone.localtime(value).date()
    return value.strftime("%Y-%m")


# --- The world -------------------------------------------------------------------------------------------------


def _case(office, actor, principal, *, kind, members=(), stage="opened", days=None, **fields):
    """A case opened through the services and moved to `stage` ("opened", "counselling" or "scheduled")."""
    c = return_services.return_case_open(
        actor=actor,
        kind=kind,
        lead_office=office,
        principal=principal,
        members=list(members),
        country_of_departure=office.country,
        country_of_return="AF",
        fit_to_travel=True,
        **fields,
    )
    if stage == "opened":
        return c
    c = return_services.return_case_move(actor=actor, case=c, transition="start_counselling", reason="ok")
    if stage == "counselling":
        return c
    c = return_services.return_case_move(actor=actor, case=c, transition="start_preparing", reason="ok")
    return return_services.return_case_move(
        actor=actor,
        case=c,
        transition="schedule_departure",
        reason="ok",
        expected_departure_date=timezone.localdate() + dt.timedelta(days=days),
    )


def _move_at(c, actor, transition: str, when: dt.datetime):
    """Move a case, then date the move (CaseTransition.at is set on creation)."""
    c = return_services.return_case_move(actor=actor, case=c, transition=transition, reason="changed their mind")
    CaseTransition.objects.filter(case=c, transition=transition).update(at=when)
    return c


def _list(w, iom_office, unhcr_office, *, created, acknowledged=None, entries=()):
    """A pre-departure list as the build writes it, with known entries: (change, days before departure, late)."""
    pdl = PreDepartureList.objects.create(
        reference=f"PDL-T-{PreDepartureList.objects.count() + 1}",
        iom_office=iom_office,
        unhcr_office=unhcr_office,
        trigger=Trigger.SCHEDULE,
        horizon_days=30,
        lead_time_days=7,
    )
    PreDepartureList.objects.filter(pk=pdl.pk).update(created_at=created, acknowledged_at=acknowledged)
    for case, change, days, late in entries:
        member = case.members.get(is_principal=True).beneficiary
        PreDepartureEntry.objects.create(
            list=pdl,
            case=case,
            beneficiary=member,
            change=change,
            given_name=member.given_name,
            family_name=member.family_name,
            expected_departure_date=timezone.localdate() + dt.timedelta(days=days or 0),
            iom_case_reference=case.reference,
            days_before_departure=days,
            is_late=late,
        )
    pdl.refresh_from_db()
    return pdl


def _consultation(actor, office, other, held_on, subject_kind):
    return jointops_services.consultation_record(
        actor=actor,
        recorded_by_office=office,
        offices=[other],
        held_on=held_on,
        participants="Head of office\nProtection officer",
        subject_kind=subject_kind,
        subject="Coordination",
    )


def build_dashboard_world() -> SimpleNamespace:
    """The known world of the figures below (offices and staff: tests.factories.jointops.build_world; IOM-AF-HRT is
    a field office under IOM-AF-KBL)."""
    w = build_world()
    today = timezone.localdate()
    w.today = today
    w.period_from, w.period_until = month_start(today, 2), today
    w.unhcr_de_manager = staff(w.unhcr_de, Role.OFFICE_MANAGER, username="unhcr_de_manager")
    kbl, hrt, ber = w.iom_af, w.iom_af_field, w.iom_de
    ukbl, uber = w.unhcr_af, w.unhcr_de

    # People (office, category, nationality, country of residence). 15 counted.
    def p(office, category, nationality, residence, actor=None, **fields):
        return person(
            office,
            actor=actor,
            category_code=category,
            nationality=nationality,
            country_of_residence=residence,
            **fields,
        )

    w.a1 = p(kbl, "asylum_seeker", "AF", "PK")
    w.a2 = p(kbl, "asylum_seeker", "AF", "PK")
    w.a3 = p(kbl, "rejected_asylum_seeker", "AF", "IR")
    w.a4 = p(kbl, "migrant", "PK", "AF")
    w.h1 = p(hrt, "migrant", "AF", "AF")
    w.h2 = p(hrt, "returnee", "AF", "AF")
    w.d1 = p(ber, "asylum_seeker", "SY", "DE")
    w.d2 = p(ber, "rejected_asylum_seeker", "AF", "DE")
    w.d3 = p(ber, "migrant", "IQ", "DE")
    w.u1 = p(ukbl, "refugee", "AF", "PK")
    w.u2 = p(ukbl, "refugee", "AF", "IR")
    # Shared with IOM-AF-KBL on the person's consent: still UNHCR-AF-KBL's record, counted once, there.
    w.u3 = p(ukbl, "returnee", "AF", "AF", sharing_basis=SharingBasis.CONSENT, consent_date=today)
    beneficiary_services.beneficiary_share(actor=w.unhcr_af_staff, beneficiary=w.u3, office=kbl)
    w.u4 = p(ukbl, "idp", "AF", "AF")
    w.ud1 = p(uber, "refugee", "SY", "DE")
    w.ud2 = p(uber, "asylum_seeker", "SY", "DE")
    # A duplicate merged into a1: not counted.
    w.m1 = p(kbl, "asylum_seeker", "AF", "PK")
    beneficiary_services.beneficiary_merge(actor=w.iom_af_staff, survivor=w.a1, duplicate=w.m1)

    # Return cases.
    avr_as, avr_rej = ReturnKind.AVR_ASYLUM_SEEKER, ReturnKind.AVR_REJECTED_ASYLUM_SEEKER
    avr_mig, volrep = ReturnKind.AVR_MIGRANT, ReturnKind.VOLUNTARY_REPATRIATION
    w.c1 = _case(kbl, w.iom_af_staff, w.a1, kind=avr_as, members=[w.a2], stage="scheduled", days=3)
    w.c2 = _case(kbl, w.iom_af_staff, w.a4, kind=avr_mig, stage="scheduled", days=20, **SECTION_12)
    w.c3 = _case(kbl, w.iom_af_staff, w.a3, kind=avr_rej)
    w.c4 = _case(hrt, w.iom_field_staff, w.h1, kind=avr_mig, members=[w.h2], stage="scheduled", days=45, **SECTION_12)
    w.c5 = _case(ber, w.iom_de_staff, w.d1, kind=avr_as, stage="scheduled", days=10)
    type(w.c5).objects.filter(pk=w.c5.pk).update(expected_departure_date=today - dt.timedelta(days=2))
    w.c6 = _case(ber, w.iom_de_staff, w.d2, kind=avr_rej)
    w.c7 = _case(ber, w.iom_de_staff, w.d3, kind=avr_mig, stage="scheduled", days=10, **SECTION_12)
    w.c8 = _case(ukbl, w.unhcr_af_staff, w.u1, kind=volrep, members=[w.u2], stage="scheduled", days=5)
    w.c9 = _case(ukbl, w.unhcr_af_staff, w.u4, kind=volrep)
    w.c10 = _case(uber, w.unhcr_de_staff, w.ud2, kind=volrep)
    w.c11 = _case(uber, w.unhcr_de_staff, w.ud1, kind=volrep, stage="counselling")
    # Changes of mind and an embarkation, in the two months before this one; one before the period.
    w.at_two_months_ago = at(month_start(today, 2) + dt.timedelta(days=9))  # the 10th, two months ago
    w.at_last_month = at(month_start(today, 1) + dt.timedelta(days=14))  # the 15th, last month
    _move_at(w.c3, w.iom_af_staff, "withdraw", w.at_two_months_ago)
    _move_at(w.c7, w.iom_de_staff, "confirm_embarkation", w.at_two_months_ago)
    _move_at(w.c6, w.iom_de_staff, "withdraw", w.at_last_month)
    _move_at(w.c9, w.unhcr_af_staff, "withdraw", w.at_last_month)
    _move_at(w.c10, w.unhcr_de_staff, "withdraw", at(w.period_from - dt.timedelta(days=5)))

    # Pre-departure lists (lead time 7 days: fewer days ahead is late).
    now = timezone.now()
    new, changed = ChangeKind.NEW, ChangeKind.DATE_CHANGED
    l1_at = at(month_start(today, 1) + dt.timedelta(days=7))  # the 8th, last month: acknowledged within 3 days
    w.l1 = _list(
        w,
        kbl,
        ukbl,
        created=l1_at,
        acknowledged=l1_at + dt.timedelta(days=2),
        entries=[(w.c4, new, 10, False), (w.c4, new, 8, False), (w.c3, ChangeKind.WITHDRAWN, None, False)],
    )
    l2_at = at(month_start(today, 2) + dt.timedelta(days=17))  # the 18th, two months ago: acknowledged after 5 days
    w.l2 = _list(
        w,
        kbl,
        ukbl,
        created=l2_at,
        acknowledged=l2_at + dt.timedelta(days=5),
        entries=[(w.c4, new, 3, True), (w.c4, changed, 12, False)],
    )
    w.l3 = _list(w, ber, uber, created=now - dt.timedelta(days=4), entries=[(w.c5, new, 5, True)])  # not answered
    w.l4 = _list(  # built now: not due yet
        w, kbl, ukbl, created=now, entries=[(w.c1, new, 30, False), (w.c7, ChangeKind.EMBARKED, None, False)]
    )
    l5_at = at(w.period_from - dt.timedelta(days=3))  # before the period
    w.l5 = _list(
        w, ber, uber, created=l5_at, acknowledged=l5_at + dt.timedelta(hours=5), entries=[(w.c5, new, 1, True)]
    )
    Delivery.objects.create(
        channel=Channel.EMAIL,
        pre_departure_list=w.l3,
        status=DeliveryStatus.FAILED,
        attempts=8,
        max_attempts=8,
        next_attempt_at=now,
        recipients="protection@unhcr.invalid",
    )

    # Letters of Understanding: nine between UNHCR-AF-KBL and IOM-AF-KBL, one in Germany.
    w.lou_ending = lou_factory.in_force(w, end_date=today + dt.timedelta(days=60))  # MOU §39, no plan
    w.lou_planned = lou_factory.in_force(w, end_date=today + dt.timedelta(days=60))
    lou_factory.agreed_plan(w, w.lou_planned)  # ends within 90 days, plan agreed: not flagged
    w.lou_review = lou_factory.in_force(w)
    LetterOfUnderstanding.objects.filter(pk=w.lou_review.pk).update(review_due_on=today - dt.timedelta(days=10))
    w.lou_notice = lou_factory.in_force(w)
    lou_services.lou_serve_notice(actor=w.unhcr_af_manager, lou=w.lou_notice, reason="Funding ends")
    w.lou_handover = lou_factory.in_force(w)
    lou_services.handover_item_save(
        actor=w.iom_af_staff, lou=w.lou_handover, owner_agency=Agency.IOM, description="Land cruiser"
    )
    w.lou_amend = lou_factory.in_force(w)
    lou_services.amendment_propose(
        actor=w.iom_af_staff,
        lou=w.lou_amend,
        content=content_of(w.lou_amend) | {"linkages": "Joint transport desk"},
        rationale="Transport moves to a joint desk",
    )
    w.lou_flagged = lou_factory.in_force(w)
    lou_services.lou_flag_resources(actor=w.iom_af_staff, lou=w.lou_flagged, note="Funding halved")
    w.lou_draft = lou_factory.draft(w)
    w.lou_partly = lou_factory.draft(w)
    lou_services.lou_sign(actor=w.unhcr_af_manager, lou=w.lou_partly, signatory_name="UNHCR Representative")
    w.lou_de = lou_services.lou_create(
        actor=w.iom_de_staff,
        unhcr_office=uber,
        iom_office=ber,
        title="Returns from Germany",
        operational_situation="Assisted voluntary return",
        countries=["DE"],
        start_date=today,
        end_date=today + dt.timedelta(days=365),
    )

    # Consultations (MOU §22, §28, §29).
    w.k1 = _consultation(
        w.iom_af_staff,
        kbl,
        ukbl,
        month_start(today, 1) + dt.timedelta(days=4),
        ConsultationSubject.CONTINGENCY_PLANNING,
    )
    w.k2 = _consultation(
        w.iom_af_staff,
        kbl,
        ukbl,
        month_start(today, 2) + dt.timedelta(days=19),
        ConsultationSubject.REJECTED_ASYLUM_SEEKERS,
    )
    w.k3 = _consultation(w.iom_de_staff, ber, uber, month_start(today, 0), ConsultationSubject.DIRECT_DEPARTURE)
    w.k4 = _consultation(w.iom_af_staff, kbl, ukbl, w.period_from - dt.timedelta(days=10), ConsultationSubject.OTHER)
    w.k5 = _consultation(
        w.iom_field_staff, hrt, ukbl, month_start(today, 1) + dt.timedelta(days=11), ConsultationSubject.OTHER
    )
    return w


@pytest.fixture
def dw(db):
    return build_dashboard_world()


# --- Reading a dashboard ---------------------------------------------------------------------------------------


def fresh(user) -> User:
    """The user as a new request would load it (no cached grants)."""
    return User.objects.get(pk=user.pk)


def board(user, fixed=None, **query):
    """The dashboard `user` sees for the query string `query` (`fixed`: an office dashboard's office)."""
    data = {key: value.isoformat() if isinstance(value, dt.date) else value for key, value in query.items()}
    return dashboard_for(principal=fresh(user), params=parse_params(data, office=fixed))


def figures(dashboard) -> dict:
    return {f.key: f.value for s in dashboard.sections for f in s.figures}


def rows(dashboard, table: str) -> dict:
    return {r.key: r.values for r in dashboard.table(table).rows}


def period(w) -> dict:
    return {"from": w.period_from, "until": w.period_until}


def months(w, values: dict) -> dict:
    """The monthly rows of the period: every month present, zeros where nothing happened."""
    keys = [month_key(month_start(w.today, back)) for back in (2, 1, 0)]
    return {key: values.get(key, [0, 0]) for key in keys}


# --- The HQ dashboard: both organisations (MOU §35) ------------------------------------------------------------


def test_hq_focal_point_sees_joint_figures_of_both_organisations(dw):
    w = dw
    d = board(w.iom_hq_focal, **period(w))
    assert [s.key for s in d.sections] == [
        "people",
        "returns",
        "notification_compliance",
        "letters_of_understanding",
        "consultations",
    ]
    assert figures(d) == {
        "people_total": 15,
        "departures_7d_cases": 2,  # c1 (+3), c8 (+5)
        "departures_7d_people": 4,
        "departures_30d_cases": 3,  # and c2 (+20); c4 (+45) and c5 (date passed) are not counted
        "departures_30d_people": 5,
        "lists_sent": 4,  # l5 was built before the period
        "departures_told_on_time": 66.7,  # 4 of 6 departures listed (withdrawals, embarkations aside)
        "median_lead_time": 9.0,  # 3 5 8 | 10 12 30
        "lists_acknowledged_in_time": 33.3,  # l1 in 2 days; l2 in 5; l3 not at all; l4 not due yet
        "lists_late": 2,
        "lists_undelivered": 1,
        "lous_in_force": 7,
        "lous_ending_without_plan": 1,
        "lous_resources_flagged": 1,
        "lous_review_overdue": 1,
        "lous_notice_served": 1,
        "lous_handover_pending": 1,
        "lous_amendment_awaiting": 1,
        "consultations_held": 4,  # k4 before the period
    }
    assert rows(d, "people_by_category") == {
        "refugee": [3],
        "migrant": [3],
        "asylum_seeker": [4],
        "rejected_asylum_seeker": [2],
        "returnee": [2],
        "idp": [1],
        "affected_local_population": [0],
    }
    assert list(rows(d, "people_by_nationality").items()) == [("AF", [10]), ("SY", [3]), ("IQ", [1]), ("PK", [1])]
    assert list(rows(d, "people_by_country").items()) == [("AF", [5]), ("DE", [5]), ("PK", [3]), ("IR", [2])]
    stages = [s.value for s in Stage]

    def by_stage(**counts):
        values = [counts.get(s, 0) for s in stages]
        return [*values, sum(values)]

    assert rows(d, "cases_by_kind_and_stage") == {
        "voluntary_repatriation": by_stage(departure_scheduled=1, withdrawn=2, counselling=1),
        "avr_rejected": by_stage(withdrawn=2),
        "avr_asylum_seeker": by_stage(departure_scheduled=2),
        "agreement_return": by_stage(),
        "avr_migrant": by_stage(departure_scheduled=2, embarked=1),
    }
    assert rows(d, "withdrawals_by_month") == months(
        w, {month_key(w.at_two_months_ago): [1, 1], month_key(w.at_last_month): [2, 0]}
    )  # [withdrawn, embarked]
    listed: dict[str, list[int]] = {}
    for created, on_time, late in ((w.l1, 2, 0), (w.l2, 1, 1), (w.l3, 0, 1), (w.l4, 1, 0)):
        counts = listed.setdefault(month_key(created.created_at), [0, 0])
        counts[0], counts[1] = counts[0] + on_time, counts[1] + late
    assert rows(d, "departures_listed_by_month") == months(w, listed)  # [on time, late]
    assert rows(d, "lous_by_status") == {
        "draft": [2],
        "partly_signed": [1],
        "in_force": [7],
        "phasing_out": [0],
        "concluded": [0],
        "terminated": [0],
        "abandoned": [0],
    }
    assert rows(d, "consultations_by_subject") == {
        "contingency_planning": [1],
        "idp_operation": [0],
        "direct_departure": [1],
        "rejected_asylum_seekers": [1],
        "resources": [0],
        "other": [1],
    }
    # The other organisation's HQ focal point sees the same joint figures.
    assert figures(board(w.unhcr_hq_focal, **period(w))) == figures(d)


def test_dashboard_shows_figures_never_names(dw):
    w = dw
    d = board(w.iom_hq_focal, fixed=w.iom_af, **period(w))
    text = repr(d.as_dict())
    for p in (w.a1, w.a2, w.a4, w.u3):
        assert p.given_name not in text and p.family_name not in text
    assert w.c1.reference in text  # the office's upcoming departures are listed by case reference


# --- Office managers: their offices and the offices beneath -----------------------------------------------------


def test_office_manager_sees_own_office_and_the_field_office_beneath(dw):
    w = dw
    d = board(w.iom_af_manager, **period(w))
    assert figures(d) == {
        "people_total": 6,  # a1-a4 at IOM-AF-KBL, h1-h2 at IOM-AF-HRT; u3 (shared with KBL) stays UNHCR's
        "departures_7d_cases": 1,
        "departures_7d_people": 2,
        "departures_30d_cases": 2,
        "departures_30d_people": 3,
        "lists_sent": 3,
        "departures_told_on_time": 80.0,
        "median_lead_time": 10.0,  # 3 8 10 12 30
        "lists_acknowledged_in_time": 50.0,
        "lists_late": 1,
        "lists_undelivered": 0,
        "lous_in_force": 7,
        "lous_ending_without_plan": 1,
        "lous_resources_flagged": 1,
        "lous_review_overdue": 1,
        "lous_notice_served": 1,
        "lous_handover_pending": 1,
        "lous_amendment_awaiting": 1,
        "consultations_held": 3,
    }
    assert {k: v for k, v in rows(d, "people_by_category").items() if v != [0]} == {
        "migrant": [2],
        "asylum_seeker": [2],
        "rejected_asylum_seeker": [1],
        "returnee": [1],
    }
    assert rows(d, "lous_by_status")["draft"] == [1]  # the German draft is not theirs
    assert rows(d, "withdrawals_by_month") == months(w, {month_key(w.at_two_months_ago): [1, 0]})
    # Another office's manager: that office only.
    de = board(w.iom_de_manager, **period(w))
    assert figures(de)["people_total"] == 3
    assert figures(de)["lists_sent"] == 1 and figures(de)["lists_undelivered"] == 1
    assert figures(de)["median_lead_time"] == 5.0
    assert figures(de)["lous_in_force"] == 0 and rows(de, "lous_by_status")["draft"] == [1]
    assert figures(de)["consultations_held"] == 1
    assert rows(de, "withdrawals_by_month") == months(
        w, {month_key(w.at_two_months_ago): [0, 1], month_key(w.at_last_month): [1, 0]}
    )


def test_office_manager_filtering_outside_their_offices_counts_nothing(dw):
    w = dw
    d = board(w.iom_af_manager, office="IOM-DE-BER", **period(w))
    assert figures(d)["people_total"] == 0 and figures(d)["lists_sent"] == 0
    assert figures(d)["median_lead_time"] is None and figures(d)["departures_told_on_time"] is None
    d = board(w.iom_af_manager, organisation="UNHCR", **period(w))
    assert figures(d)["people_total"] == 0 and figures(d)["consultations_held"] == 0


# --- Filters -------------------------------------------------------------------------------------------------


def test_filters_narrow_the_figures(dw):
    w = dw
    unhcr = board(w.iom_hq_focal, organisation="UNHCR", **period(w))
    assert figures(unhcr)["people_total"] == 6
    assert rows(unhcr, "people_by_category")["refugee"] == [3]
    assert figures(unhcr)["departures_7d_cases"] == 1 and figures(unhcr)["departures_7d_people"] == 2
    assert {k: v[-1] for k, v in rows(unhcr, "cases_by_kind_and_stage").items()} == {
        "voluntary_repatriation": 4,
        "avr_rejected": 0,
        "avr_asylum_seeker": 0,
        "agreement_return": 0,
        "avr_migrant": 0,
    }
    assert figures(unhcr)["lists_sent"] == 4  # every list goes to a UNHCR office
    assert figures(unhcr)["consultations_held"] == 4  # every consultation has a UNHCR office

    germany = board(w.iom_hq_focal, country="DE", **period(w))
    f = figures(germany)
    assert f["people_total"] == 5
    assert f["departures_30d_cases"] == 0
    assert f["lists_sent"] == 1 and f["lists_late"] == 1 and f["lists_undelivered"] == 1
    assert f["median_lead_time"] == 5.0 and f["departures_told_on_time"] == 0.0
    assert f["lists_acknowledged_in_time"] == 0.0
    assert f["lous_in_force"] == 0 and rows(germany, "lous_by_status")["draft"] == [1]
    assert f["consultations_held"] == 1
    assert list(rows(germany, "people_by_nationality").items()) == [("SY", [3]), ("AF", [1]), ("IQ", [1])]

    herat = board(w.iom_hq_focal, office="iom-af-hrt", **period(w))  # office codes in any case
    f = figures(herat)
    assert f["people_total"] == 2 and f["departures_30d_cases"] == 0 and f["consultations_held"] == 1
    assert f["lists_sent"] == 0 and f["median_lead_time"] is None and f["lists_acknowledged_in_time"] is None
    assert rows(herat, "cases_by_kind_and_stage")["avr_migrant"][-1] == 1
    assert herat.filters["office"] == "IOM-AF-HRT"

    # The period: two months ago only.
    early = board(w.iom_hq_focal, **{"from": month_start(w.today, 2), "until": month_end(w.today, 2)})
    f = figures(early)
    assert f["lists_sent"] == 1 and f["median_lead_time"] == 7.5 and f["departures_told_on_time"] == 50.0
    assert f["lists_acknowledged_in_time"] == 0.0 and f["lists_late"] == 1
    assert f["consultations_held"] == 1 and rows(early, "consultations_by_subject")["rejected_asylum_seekers"] == [1]
    assert rows(early, "withdrawals_by_month") == {month_key(w.at_two_months_ago): [1, 1]}
    assert f["people_total"] == 15  # people and cases are counted as they stand today
    # Last month only.
    last = board(w.iom_hq_focal, **{"from": month_start(w.today, 1), "until": month_end(w.today, 1)})
    assert figures(last)["consultations_held"] == 2
    assert rows(last, "withdrawals_by_month") == {month_key(w.at_last_month): [2, 0]}


def test_default_period_is_the_last_twelve_months(dw):
    d = board(dw.iom_hq_focal)
    assert d.filters["until"] == dw.today.isoformat()
    assert d.filters["from"] == month_start(dw.today, 11).isoformat()
    assert len(d.table("withdrawals_by_month").rows) == 12
    assert figures(d)["consultations_held"] == 5  # k4, ten days before the short period, is within the year


# --- An office's dashboard -------------------------------------------------------------------------------------


def test_office_dashboard_lists_upcoming_departures_by_reference_and_overdue_tasks(dw):
    w = dw
    office = office_dashboard_office(principal=fresh(w.iom_af_manager), pk=w.iom_af.pk)
    d = board(w.iom_af_manager, fixed=office, **period(w))
    assert d.sections[0].key == "office"
    assert figures(d)["people_total"] == 4  # IOM-AF-KBL alone, not the field office beneath
    upcoming = d.table("upcoming_departures")
    assert [(r.key, r.label, r.values) for r in upcoming.rows] == [
        (
            w.c1.reference,
            w.c1.reference,
            [str(ReturnKind.AVR_ASYLUM_SEEKER.label), (w.today + dt.timedelta(days=3)).isoformat(), 2, "yes"],
        ),
        (
            w.c2.reference,
            w.c2.reference,
            [str(ReturnKind.AVR_MIGRANT.label), (w.today + dt.timedelta(days=20)).isoformat(), 1, "no"],
        ),
    ]
    assert upcoming.rows[0].url == reverse("returns:case_detail", args=[w.c1.pk])
    assert rows(d, "overdue_tasks") == {
        "departures_past_date": [0],
        "lists_to_acknowledge": [0],
        "lous_review_overdue": [1],
        "lous_ending_without_plan": [1],
        "lous_amendment_awaiting": [1],
        "lous_handover_pending": [1],
    }
    # IOM-DE-BER: a departure whose date passed; UNHCR-DE-BER: the list not answered after 4 days.
    de = board(w.iom_de_manager, fixed=w.iom_de, **period(w))
    assert rows(de, "upcoming_departures") == {}
    assert rows(de, "overdue_tasks")["departures_past_date"] == [1]
    assert rows(de, "overdue_tasks")["lous_review_overdue"] == [0]
    unhcr_de = board(w.unhcr_de_manager, fixed=w.unhcr_de, **period(w))
    assert rows(unhcr_de, "overdue_tasks")["lists_to_acknowledge"] == [1]
    # UNHCR-AF-KBL: l4 arrived today (not due), l1 and l2 were answered.
    unhcr_af = board(w.unhcr_af_manager, fixed=w.unhcr_af, **period(w))
    assert rows(unhcr_af, "overdue_tasks")["lists_to_acknowledge"] == [0]
    assert [r.key for r in unhcr_af.table("upcoming_departures").rows] == [w.c8.reference]
    # The field office beneath, by its country office's manager.
    herat = office_dashboard_office(principal=fresh(w.iom_af_manager), pk=w.iom_af_field.pk)
    d = board(w.iom_af_manager, fixed=herat, **period(w))
    assert figures(d)["people_total"] == 2 and rows(d, "upcoming_departures") == {}  # c4 leaves in 45 days


def test_office_dashboard_outside_scope_is_not_found(dw):
    w = dw
    manager = fresh(w.iom_af_manager)
    for pk in (w.iom_de.pk, w.unhcr_af.pk, w.iom_hq.pk, 10**9, "abc", None):
        with pytest.raises(Http404):
            office_dashboard_office(principal=manager, pk=pk)
    # HQ focal points follow every office of both organisations (MOU §35).
    assert office_dashboard_office(principal=fresh(w.iom_hq_focal), pk=w.unhcr_de.pk) == w.unhcr_de
    with pytest.raises(Http404):
        office_dashboard_office(principal=fresh(w.iom_af_staff), pk=w.iom_af.pk)


def test_field_staff_and_administrators_have_no_dashboard(dw):
    w = dw
    for user in (w.iom_af_staff, w.iom_field_staff, w.unhcr_af_staff, w.iom_admin, w.unhcr_admin):
        with pytest.raises(PermissionRefused):
            board(user, **period(w))


# --- Bad filters ------------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("query", "field"),
    [
        ({"from": "2024-13-01"}, "from"),
        ({"until": "yesterday"}, "until"),
        ({"from": "2024-05-10", "until": "2024-05-01"}, "until"),
        ({"from": "2015-01-01", "until": "2024-01-01"}, "from"),  # more than five years
        ({"office": "NO-SUCH-OFFICE"}, "office"),
        ({"organisation": "WHO"}, "organisation"),
        ({"country": "ZZ"}, "country"),
        ({"country": "Afghanistan"}, "country"),
    ],
)
def test_parse_params_names_the_field_at_fault(world, query, field):
    with pytest.raises(ValidationFailed) as error:
        parse_params(query)
    assert error.value.field == field and str(error.value.message)


def test_parse_params_accepts_the_filters(world):
    params = parse_params(
        {"organisation": "IOM", "country": "AF", "office": "iom-af-kbl", "from": "2024-01-01", "until": "2024-06-30"}
    )
    assert params.organisation == world.iom and params.country == "AF" and params.office == world.iom_af
    assert (params.date_from, params.date_until) == (dt.date(2024, 1, 1), dt.date(2024, 6, 30))
    assert params.as_query() == {
        "from": "2024-01-01",
        "until": "2024-06-30",
        "organisation": "IOM",
        "country": "AF",
        "office": "IOM-AF-KBL",
    }


# --- Aggregates in the database --------------------------------------------------------------------------------


def _add_records(w, n: int) -> None:
    """`n` more of each kind of record at IOM-AF-KBL / UNHCR-AF-KBL: people, cases with members at several stages
    (departures within 7 and 30 days, a change of mind), lists with entries and failed deliveries, LoUs in force and
    consultations."""
    today = timezone.localdate()
    for i in range(n):
        principal = person(w.iom_af, category_code=["asylum_seeker", "migrant"][i % 2], nationality=["AF", "IR"][i % 2])
        other = person(w.iom_af, country_of_residence=["PK", "IR", "TR"][i % 3])
        c = _case(
            w.iom_af,
            w.iom_af_staff,
            principal,
            kind=ReturnKind.AVR_ASYLUM_SEEKER,
            members=[other],
            stage="scheduled",
            days=[2, 15, 25][i % 3],
        )
        if i % 2:
            _move_at(c, w.iom_af_staff, "withdraw", at(today - dt.timedelta(days=30 * (i % 3))))
        pdl = _list(
            w,
            w.iom_af,
            w.unhcr_af,
            created=timezone.now() - dt.timedelta(days=i),
            acknowledged=timezone.now() if i % 2 else None,
            entries=[(c, ChangeKind.NEW, 10 + i, False), (c, ChangeKind.NEW, 2, True)],
        )
        if i % 2 == 0:
            Delivery.objects.create(
                channel=Channel.EMAIL,
                pre_departure_list=pdl,
                status=DeliveryStatus.FAILED,
                max_attempts=8,
                next_attempt_at=timezone.now(),
            )
        lou = lou_factory.in_force(w, end_date=today + dt.timedelta(days=30 + 100 * (i % 2)))
        if i % 3 == 0:
            lou_services.lou_flag_resources(actor=w.iom_af_staff, lou=lou, note="Short")
        _consultation(w.iom_af_staff, w.iom_af, w.unhcr_af, today - dt.timedelta(days=i), ConsultationSubject.OTHER)


def _queries(user, office=None) -> int:
    principal = fresh(user)
    params = parse_params({}, office=office)
    with CaptureQueriesContext(connection) as captured:
        dashboard_for(principal=principal, params=params)
    return len(captured)


def test_dashboard_queries_do_not_grow_with_the_records(world):
    w = world
    _add_records(w, 2)
    small = {
        "hq": _queries(w.iom_hq_focal),
        "manager": _queries(w.iom_af_manager),
        "office": _queries(w.iom_af_manager, office=w.iom_af),
    }
    _add_records(w, 18)
    large = {
        "hq": _queries(w.iom_hq_focal),
        "manager": _queries(w.iom_af_manager),
        "office": _queries(w.iom_af_manager, office=w.iom_af),
    }
    assert large == small
    assert figures(board(w.iom_af_manager, fixed=w.iom_af))["departures_30d_cases"] == 20 - 10  # 10 withdrawn
