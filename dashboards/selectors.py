"""Dashboard figures for HQ focal points (MOU §35) and office managers.

Every figure is an aggregate computed by the database — `Count("*")`, filtered counts, grouped queries — never a
loop over records in Python (Python only lays the grouped rows out and fills empty months). The figures are counts,
shares and days, never a name: the dashboards may show both organisations' figures to HQ focal points
(jointops.access.JOINT_RESOURCES) without showing either's records.

Scope: `jointops.access.office_ids(principal, "dashboard")` — the offices whose figures the principal follows —
narrowed by the filters (organisation, country of the office, office). A record counts for an office as follows:
a person for the office that registered them (a record shared with the other agency is not counted twice), a return
case for its lead office, a Letter of Understanding, a pre-departure list or a consultation for any of its offices.
"""

from __future__ import annotations

import datetime as dt
from collections import defaultdict
from typing import Any
from urllib.parse import urlencode

from django.db.models import Count, Exists, F, OuterRef, Q, QuerySet
from django.db.models.functions import TruncMonth
from django.http import Http404
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _
from django_countries import countries

from beneficiaries.models import Beneficiary, BeneficiaryCategory
from dashboards.figures import Column, Dashboard, Figure, Row, Section, Table
from dashboards.params import DashboardParams
from jointops import access
from jointops.exceptions import PermissionRefused
from jointops.models import Consultation, ConsultationSubject, Office
from jointops.selectors import get_or_404
from letters_of_understanding import selectors as lou_selectors
from letters_of_understanding.choices import LouStatus
from letters_of_understanding.models import LetterOfUnderstanding
from notifications.choices import ChangeKind, DeliveryStatus
from notifications.models import Delivery, PreDepartureEntry, PreDepartureList
from returns.choices import ReturnKind, Stage
from returns.models import CaseTransition, ReturnCase, ReturnCaseMember

ACKNOWLEDGE_WITHIN_DAYS = 3  # issue 7: lists acknowledged within 3 days
DEPARTURE_HORIZONS = (7, 30)
TOP_COUNTRIES = 15  # longer country tables end with "Other countries"
UPCOMING_LIMIT = 50


# --- Scope -------------------------------------------------------------------------------------------------------


class Scope:
    """The office ids whose figures are counted (None: every office, for a superuser without filters)."""

    def __init__(self, principal: Any, params: DashboardParams):
        allowed = access.office_ids(principal, "dashboard", access.VIEW)
        if allowed is not access.EVERYTHING and not allowed:
            raise PermissionRefused()
        filtered = params.organisation or params.country or params.office
        if allowed is access.EVERYTHING and not filtered:
            self.ids: set[int] | None = None
            return
        offices = Office.objects.all()
        if allowed is not access.EVERYTHING:
            offices = offices.filter(pk__in=allowed)
        if params.organisation:
            offices = offices.filter(organisation=params.organisation)
        if params.country:
            offices = offices.filter(country=params.country)
        if params.office:
            offices = offices.filter(pk=params.office.pk)
        self.ids = set(offices.values_list("pk", flat=True))

    def q(self, *fields: str) -> Q:
        """Records reachable through any of `fields` (office foreign keys) from an office in scope."""
        if self.ids is None:
            return Q()
        condition = Q(pk__in=[])
        for field in fields:
            condition |= Q(**{f"{field}__in": self.ids})
        return condition


def office_dashboard_office(*, principal: Any, pk: Any) -> Office:
    """The office of an office dashboard: one the principal follows (404 otherwise, like any hidden record)."""
    office = get_or_404(Office.objects.select_related("organisation"), pk)
    if not access.can(principal, access.VIEW, "dashboard", office=office):
        raise Http404
    return office


def dashboard_offices_for(*, principal: Any) -> QuerySet[Office]:
    """Offices whose own dashboard the principal may open (for the office picker)."""
    ids = access.office_ids(principal, "dashboard", access.VIEW)
    offices = Office.objects.select_related("organisation").order_by("organisation__code", "country", "code")
    return offices if ids is access.EVERYTHING else offices.filter(pk__in=ids)


# --- Links to the lists behind the figures -------------------------------------------------------------------------


class Links:
    """URLs of the filtered lists behind each figure, carrying the dashboard's own filters where the list has them.

    A list shows the records its user may read; a figure may count more (an HQ focal point's joint figures, MOU §35):
    such a figure gets no link. People and cases are linked with the organisation of the offices counted, so that a
    record the other agency shared with one of them (counted for its owner office) is not listed."""

    def __init__(self, params: DashboardParams, *, principal: Any = None, scope: Scope | None = None):
        self.params, self.principal, self.scope = params, principal, scope
        start, end = _period_bounds(params)
        self.built = {"built_since": start.isoformat(), "built_before": end.isoformat()}

    def _url(self, name: str, scope: dict[str, str], **query: Any) -> str:
        query = {**scope, **{k: v for k, v in query.items() if v not in (None, "")}}
        return reverse(name) + ("?" + urlencode(query) if query else "")

    def _office_scope(self, *, organisation: bool = True) -> dict[str, str]:
        p, scope = self.params, {}
        if p.office:
            scope["office"] = p.office.code
        if organisation and p.organisation:
            scope["organisation"] = p.organisation.code
        if p.country:
            scope["office_country"] = p.country
        return scope

    def _owned_scope(self, resource: str) -> dict[str, str] | None:
        """The filters of a list of records owned by one office (people, cases), or None when the list cannot show
        every record counted."""
        scope = self._office_scope()
        if self.principal is None or self.scope is None:
            return scope
        allowed = access.office_ids(self.principal, resource, access.VIEW)
        if allowed is access.EVERYTHING:
            return scope
        if self.scope.ids is None or not self.scope.ids <= allowed:
            return None
        if "organisation" not in scope and getattr(self.principal, "organisation", None) is not None:
            scope["organisation"] = self.principal.organisation.code  # leaves out records shared with the offices
        return scope

    def people(self, **query) -> str:
        scope = self._owned_scope("beneficiary")
        return "" if scope is None else self._url("beneficiaries:beneficiary_list", scope, **query)

    def cases(self, **query) -> str:
        scope = self._owned_scope("return_case")
        return "" if scope is None else self._url("returns:case_list", scope, **query)

    def lous(self, **query) -> str:
        return self._url("letters_of_understanding:lou_list", self._office_scope(organisation=False), **query)

    def lists(self, **query) -> str:
        return self._url("notifications:list_index", self._office_scope(organisation=False), **query)

    def consultations(self, **query) -> str:
        p = self.params
        return self._url(
            "consultations:consultation_list",
            self._office_scope(organisation=False),
            held_from=p.date_from.isoformat(),
            held_until=p.date_until.isoformat(),
            **query,
        )


# --- Helpers -------------------------------------------------------------------------------------------------------


def _share(part: int, whole: int) -> float | None:
    return round(100.0 * part / whole, 1) if whole else None


def _median(values: QuerySet, count: int) -> float | None:
    """The median of an ordered one-column queryset of `count` rows, read from the database (one or two rows)."""
    if not count:
        return None
    middle = list(values[(count - 1) // 2 : count // 2 + 1])
    return round(sum(middle) / len(middle), 1)


def _months(start: dt.date, end: dt.date) -> list[dt.date]:
    months, current = [], start.replace(day=1)
    while current <= end:
        months.append(current)
        current = (current + dt.timedelta(days=32)).replace(day=1)
    return months


def _month_key(value: Any) -> dt.date:
    if isinstance(value, dt.datetime):
        value = timezone.localtime(value) if timezone.is_aware(value) else value
        return value.date().replace(day=1)
    return value.replace(day=1)


def _month_rows(grouped: Any, columns: list[str], params: DashboardParams) -> list[Row]:
    """One row per month of the period (empty months too) from rows grouped by a `month` truncation."""
    by_month = {_month_key(m["month"]): m for m in grouped}
    return [
        Row(
            key=month.strftime("%Y-%m"),
            label=month.strftime("%Y-%m"),
            values=[by_month.get(month, {}).get(column, 0) for column in columns],
        )
        for month in _months(params.date_from, params.date_until)
    ]


def _period_bounds(params: DashboardParams) -> tuple[dt.datetime, dt.datetime]:
    """The period as aware datetimes: from the start of its first day to the end of its last."""
    tz = timezone.get_current_timezone()
    start = dt.datetime.combine(params.date_from, dt.time.min, tzinfo=tz)
    end = dt.datetime.combine(params.date_until + dt.timedelta(days=1), dt.time.min, tzinfo=tz)
    return start, end


def _country_rows(grouped: list[dict], field: str, link) -> list[Row]:
    """Rows of a country table, largest first, the tail summed into "Other countries"."""
    grouped = sorted(grouped, key=lambda g: (-g["n"], g[field] or "~"))
    rows = [
        Row(
            key=g[field] or "-",
            label=str(countries.name(g[field])) if g[field] else _("Not recorded"),
            values=[g["n"]],
            url=link(g[field]) if g[field] else "",
        )
        for g in grouped[:TOP_COUNTRIES]
    ]
    rest = sum(g["n"] for g in grouped[TOP_COUNTRIES:])
    if rest:
        rows.append(Row(key="other", label=_("Other countries"), values=[rest]))
    return rows


# --- Sections ------------------------------------------------------------------------------------------------------


def _people(scope: Scope, links: Links) -> Section:
    people = Beneficiary.objects.filter(scope.q("office"), merged_into__isnull=True)
    # One scan of the people table, grouped by the three dimensions at once (three GROUP BYs would read a million
    # rows three times); the groups — a few hundred, never one per person — are then summed per dimension.
    groups = list(
        people.values_list("category_id", "nationality", "country_of_residence").annotate(n=Count("*")).order_by()
    )
    by_category: dict[int, int] = defaultdict(int)
    by_nationality: dict[str, int] = defaultdict(int)
    by_residence: dict[str, int] = defaultdict(int)
    for category_id, nationality_code, residence_code, n in groups:
        by_category[category_id] += n
        by_nationality[nationality_code] += n
        by_residence[residence_code] += n
    categories = list(BeneficiaryCategory.objects.order_by("order", "pk"))
    count = [Column("people", _("People"))]
    category_rows = [
        Row(key=c.code, label=str(c.name), values=[by_category.get(c.pk, 0)], url=links.people(category=c.code))
        for c in categories
    ]
    nationality = [{"nationality": code, "n": n} for code, n in by_nationality.items()]
    residence = [{"country_of_residence": code, "n": n} for code, n in by_residence.items()]
    total = sum(by_category.values())
    return Section(
        key="people",
        title=_("People"),
        figures=[Figure("people_total", _("People registered"), total, url=links.people())],
        tables=[
            Table(
                "people_by_category",
                _("People by category"),
                count,
                category_rows,
                chart="doughnut",
                source=_("MOU §4–§19: the categories of people and the agencies' mandates"),
            ),
            Table(
                "people_by_nationality",
                _("People by nationality"),
                count,
                _country_rows(nationality, "nationality", lambda code: links.people(nationality=code)),
                chart="bar",
            ),
            Table(
                "people_by_country",
                _("People by country of residence or asylum"),
                count,
                _country_rows(residence, "country_of_residence", lambda code: links.people(country_of_residence=code)),
                chart="bar",
            ),
        ],
    )


def _returns(scope: Scope, links: Links, params: DashboardParams) -> Section:
    cases = ReturnCase.objects.filter(scope.q("lead_office"))
    grouped = {(k, s): n for k, s, n in cases.values_list("kind", "stage").annotate(n=Count("*")).order_by()}
    stages = list(Stage)
    columns = [Column(s.value, str(s.label)) for s in stages] + [Column("total", _("Total"))]
    kind_rows = []
    for kind in ReturnKind:
        values = [grouped.get((kind.value, s.value), 0) for s in stages]
        kind_rows.append(
            Row(
                key=kind.value,
                label=str(kind.label),
                values=[*values, sum(values)],
                url=links.cases(kind=kind.value),
            )
        )

    today, horizon = params.today, max(DEPARTURE_HORIZONS)
    upcoming = cases.filter(
        stage=Stage.DEPARTURE_SCHEDULED, expected_departure_date__range=(today, today + dt.timedelta(days=horizon))
    )
    windows = {
        f"in{days}": Count("pk", filter=Q(expected_departure_date__lte=today + dt.timedelta(days=days)))
        for days in DEPARTURE_HORIZONS
    }
    departing_cases = upcoming.aggregate(**windows)
    member_windows = {
        f"in{days}": Count("pk", filter=Q(case__expected_departure_date__lte=today + dt.timedelta(days=days)))
        for days in DEPARTURE_HORIZONS
    }
    departing_people = ReturnCaseMember.objects.filter(case__in=upcoming.values("pk")).aggregate(**member_windows)
    figures = []
    for days in DEPARTURE_HORIZONS:
        until = (today + dt.timedelta(days=days)).isoformat()
        url = links.cases(stage=Stage.DEPARTURE_SCHEDULED, departure_from=today.isoformat(), departure_until=until)
        figures += [
            Figure(
                f"departures_{days}d_cases",
                _("Cases departing in the next %(days)s days") % {"days": days},
                departing_cases[f"in{days}"],
                url=url,
            ),
            Figure(
                f"departures_{days}d_people",
                _("People departing in the next %(days)s days") % {"days": days},
                departing_people[f"in{days}"],
                url=url,
            ),
        ]

    start, end = _period_bounds(params)
    moves = (
        CaseTransition.objects.filter(
            case__in=cases.values("pk"), to_stage__in=[Stage.WITHDRAWN, Stage.EMBARKED], at__gte=start, at__lt=end
        )
        .annotate(month=TruncMonth("at"))
        .values("month")
        .annotate(
            withdrawn=Count("pk", filter=Q(to_stage=Stage.WITHDRAWN)),
            embarked=Count("pk", filter=Q(to_stage=Stage.EMBARKED)),
        )
        .order_by()
    )
    month_rows = _month_rows(moves, ["withdrawn", "embarked"], params)
    return Section(
        key="returns",
        title=_("Return cases"),
        figures=figures,
        tables=[
            Table("cases_by_kind_and_stage", _("Return cases by kind and stage"), columns, kind_rows, chart="stacked"),
            Table(
                "withdrawals_by_month",
                _("Changes of mind and embarkations by month"),
                [Column("withdrawn", _("Withdrawn (changed their mind)")), Column("embarked", _("Embarked"))],
                month_rows,
                chart="line",
                source=_("Letter: the person may change their mind up to the moment of voluntary embarkation"),
            ),
        ],
    )


def _compliance(scope: Scope, links: Links, params: DashboardParams, principal: Any) -> Section:
    start, end = _period_bounds(params)
    lists = PreDepartureList.objects.filter(
        scope.q("iom_office", "unhcr_office"), created_at__gte=start, created_at__lt=end
    )
    departures = PreDepartureEntry.objects.filter(
        list__in=lists.values("pk"),
        change__in=[ChangeKind.NEW, ChangeKind.DATE_CHANGED],
        days_before_departure__isnull=False,
    )
    told = departures.aggregate(total=Count("*"), on_time=Count("pk", filter=Q(is_late=False)))
    median = _median(
        departures.order_by("days_before_departure").values_list("days_before_departure", flat=True), told["total"]
    )
    cutoff = timezone.now() - dt.timedelta(days=ACKNOWLEDGE_WITHIN_DAYS)
    late_entries = PreDepartureEntry.objects.filter(list=OuterRef("pk"), is_late=True)
    failed = Delivery.objects.filter(pre_departure_list=OuterRef("pk"), status=DeliveryStatus.FAILED)
    due = Q(created_at__lte=cutoff) | Q(acknowledged_at__isnull=False)
    acknowledged_in_time = Q(acknowledged_at__lte=F("created_at") + dt.timedelta(days=ACKNOWLEDGE_WITHIN_DAYS))
    counted = lists.aggregate(
        total=Count("*"),
        due=Count("pk", filter=due),
        acknowledged=Count("pk", filter=due & acknowledged_in_time),
        late=Count("pk", filter=Q(Exists(late_entries))),
        undelivered=Count("pk", filter=Q(Exists(failed))),
    )
    built = links.built
    failed_url = ""
    if access.can(principal, access.VIEW, "delivery"):
        failed_url = reverse("notifications:delivery_list") + "?" + urlencode({"status": DeliveryStatus.FAILED})
    figures = [
        Figure(
            "lists_sent",
            _("Pre-departure lists sent"),
            counted["total"],
            url=links.lists(**built),
            source=_("Letter: IOM sends UNHCR the names and dates of departure"),
        ),
        Figure(
            "departures_told_on_time",
            _("Departures UNHCR was told of at least the lead time before"),
            _share(told["on_time"], told["total"]),
            unit="percent",
            url=links.lists(**built),
            source=_("Letter; lead time agreed per office pair"),
        ),
        Figure(
            "median_lead_time",
            _("Median lead time of the departures listed"),
            median,
            unit="days",
            url=links.lists(**built),
        ),
        Figure(
            "lists_acknowledged_in_time",
            _("Lists acknowledged within %(days)s days") % {"days": ACKNOWLEDGE_WITHIN_DAYS},
            _share(counted["acknowledged"], counted["due"]),
            unit="percent",
            url=links.lists(**built, acknowledged="false"),
        ),
        Figure(
            "lists_late",
            _("Lists with a late departure"),
            counted["late"],
            url=links.lists(**built, late="true"),
        ),
        Figure(
            "lists_undelivered",
            _("Lists not delivered (failed after the last try)"),
            counted["undelivered"],
            url=failed_url,
        ),
    ]
    by_month = (
        departures.annotate(month=TruncMonth("list__created_at"))
        .values("month")
        .annotate(on_time=Count("pk", filter=Q(is_late=False)), late=Count("pk", filter=Q(is_late=True)))
        .order_by()
    )
    rows = _month_rows(by_month, ["on_time", "late"], params)
    return Section(
        key="notification_compliance",
        title=_("Notification compliance"),
        figures=figures,
        tables=[
            Table(
                "departures_listed_by_month",
                _("Departures listed to UNHCR by month: on time and late"),
                [Column("on_time", _("On time")), Column("late", _("Late"))],
                rows,
                chart="stacked",
            )
        ],
    )


def _letters(scope: Scope, links: Links, params: DashboardParams) -> Section:
    lous = LetterOfUnderstanding.objects.filter(scope.q("unhcr_office", "iom_office"))
    by_status = dict(lous.values_list("status").annotate(n=Count("*")).order_by())
    status_rows = [
        Row(key=s.value, label=str(s.label), values=[by_status.get(s.value, 0)], url=links.lous(status=s.value))
        for s in LouStatus
    ]
    today = params.today
    attention = [
        ("lous_ending_without_plan", _("Ending within 90 days without an agreed phase-out plan"), "MOU §39",
         lou_selectors.ending_without_agreed_plan(lous, today=today), "ending_without_plan"),
        ("lous_resources_flagged", _("Resources flagged insufficient without an agreed plan"), "MOU §39",
         lou_selectors.flagged_without_agreed_plan(lous), "resources_flagged"),
        ("lous_review_overdue", _("Reviews overdue"), "MOU §47",
         lou_selectors.review_overdue(lous, today=today), "review_overdue"),
        ("lous_notice_served", _("Termination notices served"), "MOU §45",
         lou_selectors.notice_served(lous), "notice_served"),
        ("lous_handover_pending", _("Handovers pending"), "MOU §40",
         lou_selectors.handovers_pending(lous), "handover_pending"),
        ("lous_amendment_awaiting", _("Amendments awaiting a decision"), "MOU §46",
         lou_selectors.amendments_awaiting(lous), "amendment_awaiting"),
    ]  # fmt: skip
    figures = [
        Figure(
            "lous_in_force",
            _("Letters in force"),
            by_status.get(LouStatus.IN_FORCE.value, 0),
            url=links.lous(status=LouStatus.IN_FORCE.value),
            source=_("MOU §44 by analogy: in force from the second signature"),
        )
    ] + [
        Figure(key, label, qs.count(), url=links.lous(attention=code), source=source)
        for key, label, source, qs, code in attention
    ]
    return Section(
        key="letters_of_understanding",
        title=_("Letters of Understanding"),
        figures=figures,
        tables=[
            Table(
                "lous_by_status",
                _("Letters of Understanding by status"),
                [Column("letters", _("Letters"))],
                status_rows,
                chart="doughnut",
                source="MOU §5",
            )
        ],
    )


def _consultations(scope: Scope, links: Links, params: DashboardParams) -> Section:
    held = Consultation.objects.filter(held_on__range=(params.date_from, params.date_until))
    if scope.ids is not None:
        through = Consultation.offices.through.objects.filter(office_id__in=scope.ids)
        held = held.filter(pk__in=through.values("consultation_id"))
    by_subject = dict(held.values_list("subject_kind").annotate(n=Count("*")).order_by())
    rows = [
        Row(
            key=s.value,
            label=str(s.label),
            values=[by_subject.get(s.value, 0)],
            url=links.consultations(subject_kind=s.value),
        )
        for s in ConsultationSubject
    ]
    return Section(
        key="consultations",
        title=_("Consultations"),
        figures=[
            Figure(
                "consultations_held",
                _("Consultations held in the period"),
                sum(by_subject.values()),
                url=links.consultations(),
                source=_("MOU §22, §25, §28, §29, §35"),
            )
        ],
        tables=[
            Table(
                "consultations_by_subject",
                _("Consultations by subject"),
                [Column("consultations", _("Consultations"))],
                rows,
                chart="bar",
            )
        ],
    )


def _office_tasks(scope: Scope, links: Links, params: DashboardParams, letters: Section) -> Section:
    """An office's own work: its next departures (case references, never names) and what is overdue."""
    today = params.today
    cases = ReturnCase.objects.filter(scope.q("lead_office"))
    listed = PreDepartureEntry.objects.filter(case=OuterRef("pk"), change__in=[ChangeKind.NEW, ChangeKind.DATE_CHANGED])
    upcoming = (
        cases.filter(
            stage=Stage.DEPARTURE_SCHEDULED,
            expected_departure_date__range=(today, today + dt.timedelta(days=max(DEPARTURE_HORIZONS))),
        )
        .annotate(people=Count("members"), listed=Exists(listed))
        .order_by("expected_departure_date", "pk")
        .values("pk", "reference", "kind", "expected_departure_date", "people", "listed")[:UPCOMING_LIMIT]
    )
    kinds = dict(ReturnKind.choices)
    upcoming_rows = [
        Row(
            key=c["reference"],
            label=c["reference"],
            values=[
                str(kinds.get(c["kind"], c["kind"])),
                c["expected_departure_date"].isoformat(),
                c["people"],
                _("yes") if c["listed"] else _("no"),
            ],
            url=reverse("returns:case_detail", args=[c["pk"]]),
        )
        for c in upcoming
    ]
    yesterday = (today - dt.timedelta(days=1)).isoformat()
    overdue_departures = cases.filter(stage=Stage.DEPARTURE_SCHEDULED, expected_departure_date__lt=today).count()
    # Whole days, so that the link names the same lists: built before the day ACKNOWLEDGE_WITHIN_DAYS days ago.
    overdue_before = dt.datetime.combine(
        today - dt.timedelta(days=ACKNOWLEDGE_WITHIN_DAYS), dt.time.min, tzinfo=timezone.get_current_timezone()
    )
    unacknowledged = PreDepartureList.objects.filter(
        scope.q("iom_office", "unhcr_office"), acknowledged_at__isnull=True, created_at__lt=overdue_before
    ).count()
    lou_figures = {f.key: f for f in letters.figures}
    tasks = [
        Row(
            "departures_past_date",
            _("Scheduled departures whose date has passed, not embarked"),
            [overdue_departures],
            links.cases(stage=Stage.DEPARTURE_SCHEDULED, departure_until=yesterday),
        ),
        Row(
            "lists_to_acknowledge",
            _("Lists sent or received more than 3 days ago, not acknowledged"),
            [unacknowledged],
            links.lists(acknowledged="false", built_before=overdue_before.isoformat()),
        ),
    ] + [
        Row(key, str(lou_figures[key].label), [lou_figures[key].value], lou_figures[key].url)
        for key in (
            "lous_review_overdue",
            "lous_ending_without_plan",
            "lous_amendment_awaiting",
            "lous_handover_pending",
        )
    ]
    return Section(
        key="office",
        title=_("This office's work"),
        tables=[
            Table(
                "upcoming_departures",
                _("Departures in the next %(days)s days") % {"days": max(DEPARTURE_HORIZONS)},
                [
                    Column("kind", _("Kind of return")),
                    Column("departure", _("Expected departure")),
                    Column("people", _("People")),
                    Column("listed", _("On a pre-departure list")),
                ],
                upcoming_rows,
            ),
            Table("overdue_tasks", _("Overdue"), [Column("count", _("Number"))], tasks),
        ],
    )


# --- The dashboard -------------------------------------------------------------------------------------------------


def dashboard_for(*, principal: Any, params: DashboardParams) -> Dashboard:
    """The HQ dashboard (every office the principal follows, narrowed by the filters) or, with `params.office`,
    one office's dashboard with its upcoming departures and overdue tasks."""
    scope = Scope(principal, params)
    links = Links(params, principal=principal, scope=scope)
    letters = _letters(scope, links, params)
    sections = [
        _people(scope, links),
        _returns(scope, links, params),
        _compliance(scope, links, params, principal),
        letters,
        _consultations(scope, links, params),
    ]
    if params.office is not None:
        sections.insert(0, _office_tasks(scope, links, params, letters))
        title = _("Dashboard of %(office)s") % {"office": params.office.name}
    else:
        title = _("Dashboard of the joint operation")
    return Dashboard(title=title, generated_at=timezone.now(), filters=params.as_query(), sections=sections)
