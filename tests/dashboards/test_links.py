"""Every figure of a dashboard links to the filtered list behind it, and the list agrees: over the known world of
test_selectors, for HQ focal points and office managers, each figure's and each row's link is opened as the same
user; where the figure counts the rows of that list, the list's own total (its paginator) is the same number; where
it does not (shares, medians, people departing = members of the cases listed), the list opens with its filters
valid."""

from __future__ import annotations

import datetime as dt

import pytest
from django.test import Client
from django.urls import resolve, reverse

from dashboards.params import parse_params
from dashboards.selectors import dashboard_for
from tests.dashboards.test_selectors import build_dashboard_world, fresh, month_end, month_start

pytestmark = pytest.mark.django_db

# Figures that count the rows of the list they link to.
COUNTED_FIGURES = {
    "people_total",
    "departures_7d_cases",
    "departures_30d_cases",
    "lists_sent",
    "lists_late",
    "lous_in_force",
    "lous_ending_without_plan",
    "lous_resources_flagged",
    "lous_review_overdue",
    "lous_notice_served",
    "lous_handover_pending",
    "lous_amendment_awaiting",
    "consultations_held",
}
# Figures that are not a count of the list's rows: the link must open, with its filters valid.
OTHER_FIGURES = {
    "departures_7d_people",  # members of the cases listed
    "departures_30d_people",
    "departures_told_on_time",  # a share of the entries of the lists listed
    "median_lead_time",
    "lists_acknowledged_in_time",
    "lists_undelivered",  # links to the deliveries page, for administrators only
}
# Tables whose rows count the rows of the list they link to: the value that is the count.
COUNTED_TABLES = {
    "people_by_category": 0,
    "people_by_nationality": 0,
    "people_by_country": 0,
    "cases_by_kind_and_stage": -1,  # the row's total over the stages
    "lous_by_status": 0,
    "consultations_by_subject": 0,
    "overdue_tasks": 0,
}
OTHER_TABLES = {"upcoming_departures"}  # a row links to its case
LIST_VIEWS = {
    "beneficiaries:beneficiary_list",
    "returns:case_list",
    "letters_of_understanding:lou_list",
    "notifications:list_index",
    "consultations:consultation_list",
}

# Disagreements between a figure and its list, reported to the owner of dashboards/selectors.py with the fix
# (issue 7, "every figure links to the filtered list behind it"). Empty each entry once the fix is in.
#  - joint: an HQ focal point's figures of people and cases cover both organisations (MOU §35), the lists only
#    the records the focal point may read (their own organisation's, and those shared with it);
#  - shared: a record the other agency shared with an office is listed by that office, counted for its owner;
#  - country: the LoU, pre-departure list and consultation links do not carry the country of the office;
#  - until: the pre-departure list links carry the start of the period, not its end (built_before);
#  - to_acknowledge: the overdue lists count lists received more than 3 days ago, the link every list of the office
#    not acknowledged (sent or received, due or not).
PEOPLE = {
    "people_total",
    "people_by_category:*",
    "people_by_nationality:*",
    "people_by_country:*",
}
CASES = {"departures_7d_cases", "departures_30d_cases", "cases_by_kind_and_stage:*"}
PENDING_FIX: dict[str, set[str]] = {}
# Figures without a link, besides the deliveries page (administrators only). With the fix, an HQ focal point's joint
# figures of people and cases lose theirs: "iom_hq_joint": JOINT_PEOPLE_AND_CASES.
JOINT_PEOPLE_AND_CASES = {f"departures_{days}d_{what}" for days in (7, 30) for what in ("cases", "people")}
JOINT_PEOPLE_AND_CASES.add("people_total")
WITHOUT_LINK: dict[str, set[str]] = {"iom_hq_joint": JOINT_PEOPLE_AND_CASES}


def _scenarios(w) -> dict:
    """name -> (user, fixed office or None, query string of the dashboard)."""
    period = {"from": w.period_from.isoformat(), "until": w.period_until.isoformat()}
    early = {"from": month_start(w.today, 2).isoformat(), "until": month_end(w.today, 2).isoformat()}
    return {
        "iom_hq_joint": (w.iom_hq_focal, None, period),
        "iom_hq_iom": (w.iom_hq_focal, None, {**period, "organisation": "IOM"}),
        "unhcr_hq_unhcr": (w.unhcr_hq_focal, None, {**period, "organisation": "UNHCR"}),
        "iom_manager": (w.iom_af_manager, None, period),
        "iom_manager_office": (w.iom_af_manager, w.iom_af, period),
        "unhcr_manager_office": (w.unhcr_af_manager, w.unhcr_af, period),
        "iom_hq_germany": (w.iom_hq_focal, None, {**period, "organisation": "IOM", "country": "DE"}),
        "iom_hq_two_months_ago": (w.iom_hq_focal, None, {**early, "organisation": "IOM"}),
    }


def _links(dashboard, without_link: set[str]) -> list[tuple[str, str, object, bool]]:
    """(key, url, value, counted) for every figure and every table row with a link (rows of a count table with
    something to count: an empty category shows 0 and its list nothing, which the lists of the others prove)."""
    links = []
    for section in dashboard.sections:
        for figure in section.figures:
            assert figure.key in COUNTED_FIGURES | OTHER_FIGURES, figure.key
            # Only the deliveries page is closed to these users (administrators only).
            assert bool(figure.url) != (figure.key in without_link | {"lists_undelivered"}), figure.key
            if figure.url:
                links.append((figure.key, figure.url, figure.value, figure.key in COUNTED_FIGURES))
        for table in section.tables:
            for row in table.rows:
                if not row.url:
                    continue
                if table.key in COUNTED_TABLES:
                    value = row.values[COUNTED_TABLES[table.key]]
                    if value or table.key == "overdue_tasks":  # empty categories, statuses...: the figures agree
                        links.append((f"{table.key}:{row.key}", row.url, value, True))
                else:
                    assert table.key in OTHER_TABLES, table.key
                    links.append((f"{table.key}:{row.key}", row.url, None, False))
    return links


def _pending(name: str, key: str) -> bool:
    pending = PENDING_FIX.get(name, set())
    return key in pending or f"{key.split(':')[0]}:*" in pending


def _open(client, url):
    response = client.get(url)
    assert response.status_code == 200, (url, response.status_code)
    return response


def _listed(client, url: str, seen: dict) -> int | None:
    """The total of the list page at `url` (None: not a list page), each address opened once."""
    if url not in seen:
        response = _open(client, url)
        if resolve(url.split("?")[0]).view_name not in LIST_VIEWS:
            seen[url] = None  # a case's page, from the office's upcoming departures
        else:
            form = response.context["filter_form"]
            assert not form.errors, (url, form.errors)  # the list understood every filter
            seen[url] = response.context["paginator"].count
    return seen[url]


@pytest.fixture
def dw(db):
    return build_dashboard_world()


def test_every_figure_links_to_the_list_behind_it_and_the_list_agrees(dw):
    w = dw
    checked, disagreements = 0, {}
    for name, (user, fixed, query) in _scenarios(w).items():
        dashboard = dashboard_for(principal=fresh(user), params=parse_params(query, office=fixed))
        client = Client()
        client.force_login(user)
        found, seen = set(), {}
        for key, url, value, counted in _links(dashboard, WITHOUT_LINK.get(name, set())):
            listed = _listed(client, url, seen)
            if listed is None:
                assert not counted, (name, key, url)
                continue
            if not counted:
                continue
            checked += 1
            if listed != value:
                found.add(key)
                if not _pending(name, key):
                    disagreements[(name, key)] = (url, value, listed)
        # Every pending disagreement still exists (once fixed, remove it from PENDING_FIX).
        for pending in PENDING_FIX.get(name, set()):
            if pending.endswith(":*"):
                assert any(k.startswith(pending[:-1]) for k in found), (name, pending, "agrees now")
            else:
                assert pending in found, (name, pending, "agrees now")
    assert disagreements == {}, "\n".join(f"{k}: {v}" for k, v in disagreements.items())
    assert checked > 150


def test_figures_link_with_the_dashboards_filters(dw):
    w = dw
    query = {"organisation": "UNHCR", "country": "AF", "from": "2026-01-01", "until": "2026-03-31"}
    dashboard = dashboard_for(principal=fresh(w.unhcr_hq_focal), params=parse_params(query, today=w.today))
    urls = {f.key: f.url for s in dashboard.sections for f in s.figures}
    for key in ("people_total", "departures_7d_cases"):
        assert "organisation=UNHCR" in urls[key] and "office_country=AF" in urls[key], urls[key]
    departure_until = (w.today + dt.timedelta(days=7)).isoformat()
    assert f"departure_until={departure_until}" in urls["departures_7d_cases"]
    assert (
        "held_from=2026-01-01" in urls["consultations_held"] and "held_until=2026-03-31" in urls["consultations_held"]
    )
    assert "late=true" in urls["lists_late"] and "acknowledged=false" in urls["lists_acknowledged_in_time"]
    assert urls["lists_undelivered"] == ""  # the deliveries page is the administrators'


def test_office_manager_follows_a_figure_to_the_people_of_the_office_only(dw):
    """The link of an office's dashboard carries the office: the list leaves out the records shared with it."""
    w = dw
    dashboard = dashboard_for(principal=fresh(w.iom_af_manager), params=parse_params({}, office=w.iom_af))
    figure = next(f for s in dashboard.sections for f in s.figures if f.key == "people_total")
    client = Client()
    client.force_login(w.iom_af_manager)
    response = _open(client, figure.url)
    assert figure.value == response.context["paginator"].count == 4
    assert w.u3.pk not in {p.pk for p in response.context["object_list"]}
    everyone = _open(client, reverse("beneficiaries:beneficiary_list")).context["object_list"]
    assert w.u3.pk in {p.pk for p in everyone}  # the record UNHCR-AF-KBL shared with the office
