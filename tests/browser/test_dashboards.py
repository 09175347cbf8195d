"""The dashboard in a real browser: an HQ focal point (MOU §35) opens the joint dashboard, the vendored Chart.js draws
every chart from the page's JSON blocks (no inline script), a filter reloads the page with it, a figure opens the
filtered list behind it, and a table downloads as CSV.

Debian's Chromium driven by Playwright against a live server; skipped without them unless REQUIRE_SERVICES=1.
"""

from __future__ import annotations

import pytest

from tests.browser.test_shell import browser_page  # noqa: F401  (the fixture)
from tests.factories.jointops import PASSWORD

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

ALL_DRAWN = """() => {
  const canvases = Array.from(document.querySelectorAll("canvas[data-chart]"));
  return window.Chart !== undefined && canvases.length > 0 && canvases.every((c) => Chart.getChart(c) !== undefined);
}"""


def _sign_in(page, live_server, user) -> None:
    page.context.clear_cookies()
    page.goto(f"{live_server.url}/accounts/login/")
    page.fill("#id_username", user.username)
    page.fill("#id_password", PASSWORD)
    page.click("form[action='/accounts/login/'] button[type=submit]")
    page.wait_for_url(f"{live_server.url}/")


def test_dashboard_charts_drawn_filter_reloads_and_figure_opens_the_list(live_server, browser_page):  # noqa: F811
    from tests.factories.beneficiaries import person
    from tests.factories.jointops import build_world
    from tests.factories.returns import scheduled

    world = build_world()
    person(world.iom_af)
    person(world.unhcr_af, category_code="refugee")
    person(world.iom_de, category_code="migrant")
    person(world.unhcr_de, category_code="refugee")
    scheduled(world.iom_af, world.iom_af_staff, days=5)  # and its principal: a fifth person, in AF

    page = browser_page
    failures: list[str] = []
    errors: list[str] = []
    page.on("response", lambda response: failures.append(response.url) if response.status >= 400 else None)
    page.on("pageerror", lambda error: errors.append(str(error)))

    _sign_in(page, live_server, world.iom_hq_focal)
    page.get_by_role("link", name="Dashboard", exact=True).click()
    page.wait_for_url(f"{live_server.url}/dashboard/")
    page.wait_for_function(ALL_DRAWN)

    # Each chart is the table beside it: the doughnut of categories holds the table's numbers.
    chart = page.evaluate(
        """() => {
          const chart = Chart.getChart(document.querySelector("#chart-people_by_category"));
          return {type: chart.config.type, labels: chart.data.labels, data: chart.data.datasets[0].data};
        }"""
    )
    rows = page.eval_on_selector_all(
        "#table-people_by_category tbody tr",
        "rows => rows.map(r => [r.querySelector('th').innerText.trim(), Number(r.querySelector('td').innerText)])",
    )
    assert chart["type"] == "doughnut"
    assert list(zip(chart["labels"], chart["data"], strict=True)) == [tuple(row) for row in rows]
    assert dict(rows)["Refugee"] == 2
    assert (
        page.evaluate("Chart.getChart(document.querySelector('#chart-cases_by_kind_and_stage')).config.type") == "bar"
    )
    assert page.locator("#figure-people_total").get_attribute("data-value") == "5"  # both organisations (MOU §35)

    # A filter reloads the page with it; the charts are drawn again from the new numbers.
    page.select_option("#id_country", "DE")
    page.get_by_role("button", name="Show").click()
    page.wait_for_url("**/dashboard/?*country=DE*")
    page.wait_for_function(ALL_DRAWN)
    assert page.locator("#figure-people_total").get_attribute("data-value") == "2"
    assert page.locator("#id_country").input_value() == "DE"
    refugees = page.evaluate(
        """() => {
          const chart = Chart.getChart(document.querySelector("#chart-people_by_category"));
          return chart.data.datasets[0].data[chart.data.labels.indexOf("Refugee")];
        }"""
    )
    assert refugees == 1

    # Each table downloads with the filters kept.
    with page.expect_download() as download:
        page.locator("#card-people_by_category").get_by_role("link", name="CSV").click()
    assert download.value.suggested_filename.startswith("people_by_category-")
    assert "country=DE" in download.value.url

    # The joint count includes UNHCR's people, whom an IOM focal point cannot list: no link. On IOM's own offices the
    # figure opens the filtered list behind it.
    assert page.locator("#figure-people_total").get_by_role("link").count() == 0
    page.select_option("#id_organisation", "IOM")
    page.get_by_role("button", name="Show").click()
    page.wait_for_url("**/dashboard/?*organisation=IOM*")
    page.wait_for_function(ALL_DRAWN)
    assert page.locator("#figure-people_total").get_attribute("data-value") == "1"
    page.locator("#figure-people_total").get_by_role("link").click()
    page.wait_for_url("**/people/?*office_country=DE*")
    assert page.locator("h1").first.inner_text() == "People"

    assert failures == []
    assert errors == []
