"""Browser pages of the dashboards: who may open which (MOU §35: HQ focal points review the joint operation, office
managers their offices), the figures shown are the selector's, bad filters are shown next to their field and never
500, each table exports to CSV and XLSX (written to the access log), and the page holds no inline script."""

from __future__ import annotations

import csv
import datetime as dt
import io
import json
from html.parser import HTMLParser

import pytest
from django.http import QueryDict
from django.test import Client
from django.urls import reverse
from django.utils import timezone

from dashboards import selectors
from dashboards.params import parse_params
from jointops import services as jointops_services
from jointops.models import AccessLog
from notifications import listing
from tests.factories.beneficiaries import person
from tests.factories.jointops import UserFactory
from tests.factories.letters_of_understanding import in_force
from tests.factories.returns import scheduled

TODAY = timezone.localdate()


VOID = {"area", "base", "br", "col", "embed", "hr", "img", "input", "link", "meta", "source", "track", "wbr"}


class Page(HTMLParser):
    """The few things the tests read from a page: elements (and their text) by id, script tags, canvases, links."""

    def __init__(self, html: str):
        super().__init__(convert_charrefs=True)
        self.by_id: dict[str, dict[str, str]] = {}
        self.text_by_id: dict[str, str] = {}
        self.scripts: list[dict[str, str]] = []
        self.script_text: dict[str, str] = {}
        self.canvases: list[dict[str, str]] = []
        self.links: list[str] = []
        self._stack: list[str | None] = []  # the id (or None) of each open element
        self.feed(html)

    def handle_starttag(self, tag, attrs):
        attributes = {name: value or "" for name, value in attrs}
        element_id = attributes.get("id")
        if element_id:
            self.by_id[element_id] = {"tag": tag, **attributes}
            self.text_by_id[element_id] = ""
        if tag == "script":
            self.scripts.append(attributes)
        elif tag == "canvas":
            self.canvases.append(attributes)
        elif tag == "a" and "href" in attributes:
            self.links.append(attributes["href"])
        if tag not in VOID:
            self._stack.append(element_id)

    def handle_endtag(self, tag):
        if tag not in VOID and self._stack:
            self._stack.pop()

    def handle_data(self, data):
        for element_id in filter(None, self._stack):
            self.text_by_id[element_id] += data
        if self._stack and self._stack[-1] and self.by_id[self._stack[-1]]["tag"] == "script":
            self.script_text[self._stack[-1]] = self.text_by_id[self._stack[-1]]


@pytest.fixture
def activity(world):
    """People of both agencies, two departures of IOM-AF-KBL soon (one listed to UNHCR), a Letter of
    Understanding in force, a consultation; and one person at IOM-DE-BER."""
    w = world
    person(w.iom_af, category_code="asylum_seeker")
    person(w.iom_af, category_code="asylum_seeker", nationality="IR")
    person(w.unhcr_af, category_code="refugee")
    person(w.iom_de, category_code="migrant")
    w.soon = scheduled(w.iom_af, w.iom_af_staff, days=5)
    listing.build_lists(actor=None)  # the pre-departure list of IOM-AF-KBL to UNHCR-AF-KBL (Letter)
    w.later = scheduled(w.iom_af, w.iom_af_staff, days=20)
    in_force(w)
    jointops_services.consultation_record(
        actor=w.iom_af_staff,
        recorded_by_office=w.iom_af,
        offices=[w.unhcr_af],
        held_on=TODAY,
        participants="A. Officer (IOM)\nB. Officer (UNHCR)",
        subject_kind="rejected_asylum_seekers",
        subject="Returns from Kabul",
    )
    return w


def _get(user, url: str):
    client = Client()
    client.force_login(user)
    return client.get(url)


def _dashboard(user, query: str = "", office=None):
    return selectors.dashboard_for(principal=user, params=parse_params(QueryDict(query), office=office))


def _shown_figures(page: Page) -> dict[str, str]:
    return {
        key.removeprefix("figure-"): el["data-value"] for key, el in page.by_id.items() if key.startswith("figure-")
    }


def _expected_figures(dashboard) -> dict[str, str]:
    return {f.key: "" if f.value is None else str(f.value) for s in dashboard.sections for f in s.figures}


# --- Who may open what -------------------------------------------------------------------------------------------

# role -> (overview, own office dashboard, other office of the organisation, office of the other agency)
ACCESS = {
    "iom_hq_focal": (200, 200, 200, 200),  # MOU §35: both organisations' offices, figures only
    "unhcr_hq_focal": (200, 200, 200, 200),
    "iom_af_manager": (200, 200, 404, 404),
    "unhcr_af_manager": (200, 200, 404, 404),
    "iom_af_staff": (403, 403, 403, 403),  # no dashboard right (jointops.access.MATRIX["dashboard"])
    "iom_admin": (403, 403, 403, 403),
    "iom_no_role": (403, 403, 403, 403),
}


@pytest.mark.parametrize("actor", sorted(ACCESS))
def test_dashboard_pages_and_exports_answer_per_role(world, actor):
    world.iom_no_role = UserFactory(username="iom_no_role", organisation=world.iom)
    user = getattr(world, actor)
    own_org = world.iom if user.organisation_id == world.iom.pk else world.unhcr
    own, other, agency = (
        (world.iom_af, world.iom_de, world.unhcr_af)
        if own_org == world.iom
        else (world.unhcr_af, world.unhcr_de, world.iom_af)
    )
    urls = [
        reverse("dashboards:overview"),
        *(reverse("dashboards:office", args=[office.pk]) for office in (own, other, agency)),
    ]
    exports = [
        reverse("dashboards:export", args=["people_by_category", "csv"]),
        *(reverse("dashboards:office_export", args=[o.pk, "people_by_category", "xlsx"]) for o in (own, other, agency)),
    ]
    client = Client()
    client.force_login(user)
    assert [client.get(url).status_code for url in urls] == list(ACCESS[actor])
    assert [client.get(url).status_code for url in exports] == list(ACCESS[actor])


def test_dashboard_anonymous_is_sent_to_sign_in(world):
    for url in (
        reverse("dashboards:overview"),
        reverse("dashboards:office", args=[world.iom_af.pk]),
        reverse("dashboards:export", args=["people_by_category", "csv"]),
        reverse("dashboards:office_export", args=[world.iom_af.pk, "people_by_category", "csv"]),
    ):
        response = Client().get(url)
        assert response.status_code == 302
        assert response["Location"].startswith(reverse("login") + "?next=")


def test_dashboard_unknown_office_answers_404(world):
    assert _get(world.iom_hq_focal, "/dashboard/offices/999999/").status_code == 404


# --- The figures shown are the selector's ------------------------------------------------------------------------


def test_dashboard_hq_focal_point_sees_joint_figures_equal_to_the_selector(activity):
    w = activity
    response = _get(w.iom_hq_focal, reverse("dashboards:overview"))
    assert response.status_code == 200
    page = Page(response.content.decode())
    expected = _dashboard(w.iom_hq_focal)
    assert _shown_figures(page) == _expected_figures(expected)
    # Joint (MOU §35): the IOM focal point counts UNHCR's people too, never their names.
    assert _shown_figures(page)["people_total"] == "6"  # the four above and the two cases' principals
    assert _shown_figures(page)["departures_30d_cases"] == "2"
    assert _shown_figures(page)["departures_7d_cases"] == "1"
    assert _shown_figures(page)["lous_in_force"] == "1"
    assert _shown_figures(page)["consultations_held"] == "1"
    # Units: a share in %, the median lead time in days (the departure listed 5 days ahead, Letter).
    assert _shown_figures(page)["median_lead_time"] == "5.0"
    assert "days" in page.text_by_id["figure-median_lead_time"]
    assert "%" in page.text_by_id["figure-departures_told_on_time"]
    html = response.content.decode()
    assert "Given1" not in html and "Family1" not in html
    # Every table is on the page with its rows, every figure with its link.
    for section in expected.sections:
        for figure in section.figures:
            if figure.url:
                assert figure.url in page.links, figure.key
        for table in section.tables:
            assert f"table-{table.key}" in page.by_id
    category = page.text_by_id["table-people_by_category"]
    assert "Asylum" in category


def test_dashboard_table_cells_and_chart_data_equal_the_table(activity):
    w = activity
    page = Page(_get(w.iom_hq_focal, reverse("dashboards:overview")).content.decode())
    table = _dashboard(w.iom_hq_focal).table("cases_by_kind_and_stage")
    chart = json.loads(page.script_text["chart-data-cases_by_kind_and_stage"])
    assert chart["type"] == "stacked"
    assert chart["labels"] == [str(row.label) for row in table.rows]
    # The "total" column is in the table, not in the stacked chart (it would double every bar).
    assert [d["key"] for d in chart["datasets"]] == [c.key for c in table.columns if c.key != "total"]
    scheduled_index = [c.key for c in table.columns].index("departure_scheduled")
    dataset = next(d for d in chart["datasets"] if d["key"] == "departure_scheduled")
    assert dataset["data"] == [row.values[scheduled_index] for row in table.rows]
    assert sum(dataset["data"]) == 2


def test_dashboard_filter_narrows_the_figures_and_the_exports(activity):
    w = activity
    response = _get(w.iom_hq_focal, reverse("dashboards:overview") + "?organisation=UNHCR")
    assert response.status_code == 200
    page = Page(response.content.decode())
    assert _shown_figures(page) == _expected_figures(_dashboard(w.iom_hq_focal, "organisation=UNHCR"))
    assert _shown_figures(page)["people_total"] == "1"
    assert _shown_figures(page)["departures_30d_cases"] == "0"
    # The export links keep the filters.
    csv_link = next(link for link in page.links if "/export/people_by_category.csv" in link)
    assert "organisation=UNHCR" in csv_link
    rows = list(csv.reader(io.StringIO(_get(w.iom_hq_focal, csv_link).content.decode("utf-8-sig"))))
    refugee = next(row for row in rows if row[0] == "Refugee")
    assert refugee[1] == "1"
    assert sum(int(row[1]) for row in rows[1:]) == 1


def test_dashboard_office_manager_sees_own_office_with_departures_and_tasks(activity):
    w = activity
    url = reverse("dashboards:office", args=[w.iom_af.pk])
    response = _get(w.iom_af_manager, url)
    assert response.status_code == 200
    page = Page(response.content.decode())
    expected = _dashboard(w.iom_af_manager, office=w.iom_af)
    assert _shown_figures(page) == _expected_figures(expected)
    assert _shown_figures(page)["people_total"] == "4"  # IOM-AF-KBL's own people (and beneath it)
    departures = page.text_by_id["table-upcoming_departures"]
    assert w.soon.reference in departures and w.later.reference in departures
    assert "table-overdue_tasks" in page.by_id
    # The office dashboard has only the period filters.
    assert "id_from" in page.by_id and "id_until" in page.by_id
    assert "id_organisation" not in page.by_id and "id_office" not in page.by_id


def test_dashboard_overview_offers_the_offices_the_user_may_open(activity):
    w = activity
    html = _get(w.iom_af_manager, reverse("dashboards:overview")).content.decode()
    assert reverse("dashboards:office", args=[w.iom_af.pk]) in html
    assert reverse("dashboards:office", args=[w.iom_de.pk]) not in html
    html = _get(w.unhcr_hq_focal, reverse("dashboards:overview")).content.decode()
    for office in (w.iom_af, w.iom_de, w.unhcr_af, w.unhcr_de):  # MOU §35: both organisations
        assert reverse("dashboards:office", args=[office.pk]) in html


def test_dashboard_none_is_shown_as_a_dash(world):
    """No departure was listed: the shares and the median have nothing to measure."""
    page = Page(_get(world.iom_hq_focal, reverse("dashboards:overview")).content.decode())
    assert page.by_id["figure-median_lead_time"]["data-value"] == ""
    assert "—" in page.text_by_id["figure-median_lead_time"]
    assert "no data" in page.text_by_id["figure-median_lead_time"]  # what a screen reader says


# --- Bad filters -------------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("query", "field", "message"),
    [
        ("from=notadate", "from", "Enter a valid date."),
        ("from=2025-05-01&until=2025-04-01", "until", "The end of the period is before its start."),
        ("office=NOPE", "office", "No office has the code NOPE."),
        ("country=XX", "country", "Select a valid choice."),
        ("organisation=NASA", "organisation", "Select a valid choice."),
        ("from=2010-01-01&until=2024-01-01", "from", "The period may span at most five years."),
    ],
)
def test_dashboard_bad_filter_is_shown_next_to_its_field_and_nothing_is_computed(activity, query, field, message):
    w = activity
    response = _get(w.iom_hq_focal, reverse("dashboards:overview") + "?" + query)
    assert response.status_code == 400
    page = Page(response.content.decode())
    assert message in page.text_by_id[f"id_{field}_error"]
    assert page.by_id[f"id_{field}"].get("aria-invalid") == "true"
    assert _shown_figures(page) == {}
    assert not page.canvases
    assert "dashboard-not-computed" in page.by_id
    # The export refuses the same filters, naming the field.
    export = _get(w.iom_hq_focal, reverse("dashboards:export", args=["people_by_category", "csv"]) + "?" + query)
    assert export.status_code == 400
    assert message in export.content.decode()
    assert not AccessLog.objects.filter(resource="dashboard").exists()


def test_dashboard_office_bad_period_is_shown(activity):
    w = activity
    response = _get(w.iom_af_manager, reverse("dashboards:office", args=[w.iom_af.pk]) + "?until=31/12/2025")
    assert response.status_code == 400
    assert "Enter a valid date." in Page(response.content.decode()).text_by_id["id_until_error"]


# --- Exports -----------------------------------------------------------------------------------------------------


def test_dashboard_csv_export_holds_the_table_rows_and_is_logged(activity):
    w = activity
    url = reverse("dashboards:export", args=["people_by_category", "csv"]) + f"?from={TODAY.replace(day=1)}"
    response = _get(w.iom_hq_focal, url)
    assert response.status_code == 200
    assert response["Content-Type"].startswith("text/csv")
    assert f'filename="people_by_category-{TODAY.isoformat()}.csv"' in response["Content-Disposition"]
    assert response.content.startswith("\ufeff".encode())  # UTF-8 with a BOM, like the people export
    rows = list(csv.reader(io.StringIO(response.content.decode("utf-8-sig"))))
    table = _dashboard(w.iom_hq_focal).table("people_by_category")
    expected = [[str(cell) for cell in row] for row in table.as_matrix()]
    assert rows == expected
    assert {row[0]: row[1] for row in rows[1:]}["Asylum-seeker"] == "4"  # two registered, two cases' principals
    entry = AccessLog.objects.get(resource="dashboard")
    assert (entry.user, entry.action, entry.record_count) == (w.iom_hq_focal, "export", len(table.rows))
    assert entry.path.startswith(reverse("dashboards:export", args=["people_by_category", "csv"]))


def test_dashboard_xlsx_export_holds_numbers_as_numbers(activity):
    from openpyxl import load_workbook

    w = activity
    response = _get(w.unhcr_hq_focal, reverse("dashboards:export", args=["cases_by_kind_and_stage", "xlsx"]))
    assert response.status_code == 200
    assert f"cases_by_kind_and_stage-{TODAY.isoformat()}.xlsx" in response["Content-Disposition"]
    sheet = load_workbook(io.BytesIO(response.content)).active
    rows = [list(row) for row in sheet.iter_rows(values_only=True)]
    table = _dashboard(w.unhcr_hq_focal).table("cases_by_kind_and_stage")
    matrix = table.as_matrix()
    assert rows[0][1:] == matrix[0][1:]
    assert [row[1:] for row in rows[1:]] == [row[1:] for row in matrix[1:]]
    assert all(isinstance(value, int) for row in rows[1:] for value in row[1:])
    assert sheet["B1"].font.bold
    assert AccessLog.objects.filter(resource="dashboard", action="export", user=w.unhcr_hq_focal).count() == 1


def test_dashboard_office_export_logs_the_case_references(activity):
    w = activity
    url = reverse("dashboards:office_export", args=[w.iom_af.pk, "upcoming_departures", "csv"])
    response = _get(w.iom_af_manager, url)
    assert response.status_code == 200
    rows = list(csv.reader(io.StringIO(response.content.decode("utf-8-sig"))))
    assert [row[0] for row in rows[1:]] == [w.soon.reference, w.later.reference]
    assert rows[1][2] == (TODAY + dt.timedelta(days=5)).isoformat()
    entry = AccessLog.objects.get(resource="dashboard")
    assert entry.object_ids == [w.soon.reference, w.later.reference]


@pytest.mark.parametrize(
    ("name", "key", "fmt"),
    [
        ("export", "no_such_table", "csv"),
        ("export", "people_by_category", "pdf"),
        ("export", "upcoming_departures", "csv"),  # an office table: not on the joint dashboard
        ("office_export", "no_such_table", "xlsx"),
    ],
)
def test_dashboard_export_unknown_table_or_format_is_404(activity, name, key, fmt):
    w = activity
    args = [key, fmt] if name == "export" else [w.iom_af.pk, key, fmt]
    assert _get(w.iom_hq_focal, reverse(f"dashboards:{name}", args=args)).status_code == 404
    assert not AccessLog.objects.filter(resource="dashboard").exists()


# --- The page: no inline script, charts wired, navigation -------------------------------------------------------


def test_dashboard_page_has_no_inline_script_and_each_chart_has_its_data(activity):
    w = activity
    page = Page(_get(w.iom_hq_focal, reverse("dashboards:overview")).content.decode())
    for script in page.scripts:
        assert script.get("src") or script.get("type") == "application/json", script
    sources = [s["src"] for s in page.scripts if s.get("src")]
    assert any("vendor/chartjs-" in src and src.endswith("chart.umd.min.js") for src in sources)
    assert any(src.endswith("js/dashboard.js") for src in sources)
    assert all("://" not in src for src in sources)  # no CDN
    charted = [t for s in _dashboard(w.iom_hq_focal).sections for t in s.tables if t.chart and t.rows]
    assert len(page.canvases) == len(charted) > 0
    for canvas in page.canvases:
        assert canvas["data-chart"] in page.script_text
        assert page.by_id[canvas["data-chart"]]["type"] == "application/json"
        assert canvas["role"] == "img" and canvas["aria-label"]


def test_dashboard_tables_are_accessible(activity):
    w = activity
    html = _get(w.iom_hq_focal, reverse("dashboards:overview")).content.decode()
    assert html.count("<caption") == html.count("<table")
    assert '<th scope="col" class="text-end">People</th>' in html
    assert '<th scope="row"' in html
    assert 'class="text-end font-monospace"' in html


def test_navigation_offers_the_dashboard_to_who_may_view_it(activity):
    w = activity
    overview = reverse("dashboards:overview")
    for user, shown in (
        (w.iom_hq_focal, True),
        (w.iom_af_manager, True),
        (w.iom_af_staff, False),
        (w.iom_admin, False),
    ):
        html = _get(user, reverse("home")).content.decode()
        assert (f'href="{overview}"' in html) is shown, user.username
    html = _get(w.iom_hq_focal, overview).content.decode()
    assert f'aria-current="page" href="{overview}"' in html


def test_home_links_to_the_dashboards(activity):
    w = activity
    assert reverse("dashboards:office", args=[w.iom_af.pk]) in _get(w.iom_af_manager, reverse("home")).content.decode()
    html = _get(w.unhcr_hq_focal, reverse("home")).content.decode()
    assert "Dashboard of the joint operation" in html
