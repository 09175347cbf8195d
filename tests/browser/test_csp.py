"""Issue 8: the app works in a real browser under its Content-Security-Policy, and the browser refuses nothing.

Several roles sign in through the login form and open the main pages (home, people, a person, cases, a case, LoUs,
an LoU, notifications, a pre-departure list, the dashboard, staff, the API documentation). On every page: no
`securitypolicyviolation` event and no console error about the Content Security Policy, while the interactive parts
still work (Bootstrap's dropdown, an htmx filter updating a list in place, the dashboard's charts, Swagger UI).

Debian's Chromium driven by Playwright against a live server; skipped without them unless REQUIRE_SERVICES=1.
"""

from __future__ import annotations

import pytest

from tests.browser.test_shell import browser_page  # noqa: F401  (the fixture)
from tests.factories.jointops import PASSWORD

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

# Runs before any script of the page (Playwright injects it through the DevTools protocol, outside the policy).
RECORD_VIOLATIONS = """
window.__cspViolations = [];
document.addEventListener("securitypolicyviolation", (event) => {
  window.__cspViolations.push(`${event.violatedDirective} ${event.blockedURI} ${event.sourceFile}:${event.lineNumber}`);
});
"""
ALL_DRAWN = """() => {
  const canvases = Array.from(document.querySelectorAll("canvas[data-chart]"));
  return window.Chart !== undefined && canvases.length > 0 && canvases.every((c) => Chart.getChart(c) !== undefined);
}"""


class Visit:
    def __init__(self, page, live_server):
        self.page, self.base = page, live_server.url
        self.console: list[str] = []
        self.violations: list[str] = []
        self.policies: list[str] = []
        page.add_init_script(RECORD_VIOLATIONS)
        page.on("console", self._on_console)
        page.on(
            "response",
            lambda response: (
                self.policies.append(response.headers.get("content-security-policy", ""))
                if response.request.resource_type == "document"
                else None
            ),
        )

    def _on_console(self, message) -> None:
        text = message.text
        if message.type == "error" and ("Content Security Policy" in text or "Content-Security-Policy" in text):
            self.console.append(f"{self.page.url}: {text}")

    def sign_in(self, user) -> None:
        page = self.page
        page.context.clear_cookies()
        page.goto(f"{self.base}/accounts/login/")
        page.fill("#id_username", user.username)
        page.fill("#id_password", PASSWORD)
        page.click("form[action='/accounts/login/'] button[type=submit]")
        page.wait_for_url(f"{self.base}/")
        self.collect()

    def open(self, path: str) -> None:
        response = self.page.goto(f"{self.base}{path}")
        assert response.status == 200, f"{path}: {response.status}"
        self.page.wait_for_load_state("load")
        self.collect()

    def collect(self) -> None:
        found = self.page.evaluate("window.__cspViolations || []")
        self.violations.extend(f"{self.page.url}: {violation}" for violation in found)
        self.page.evaluate("window.__cspViolations = []")


def test_csp_main_pages_for_several_roles_raise_no_violation_and_still_work(live_server, browser_page):  # noqa: F811
    from tests.factories.jointops import build_world
    from tests.jointops.test_csrf import build_objects

    world = build_world()
    o = build_objects(world)
    page = browser_page
    visit = Visit(page, live_server)

    # Field staff: the shell, people, a person, cases, LoUs, an LoU, notifications, an htmx filter, the API docs.
    visit.sign_in(world.iom_af_staff)
    page.click("#language-menu")  # Bootstrap's dropdown: its script runs under the policy
    page.locator("button[name=language][value=fr]").wait_for(state="visible")
    for path in (
        "/people/",
        f"/people/{o.person.pk}/",
        "/returns/",
        "/letters/",
        f"/letters/{o.lou.pk}/",
        "/notifications/",
        "/offices/",
    ):
        visit.open(path)

    # htmx: the office filter updates the results in place (no full page load).
    page.evaluate("window.__no_reload = true")
    page.fill("#id_country", "DE")
    page.click(".jo-filters button[type=submit]")
    page.wait_for_url("**/offices/?*country=DE*")
    page.wait_for_function("!document.querySelector('#results').textContent.includes('IOM-AF-KBL')")
    assert page.evaluate("window.__no_reload") is True
    visit.collect()

    # The API documentation: Swagger UI loads its script and the schema from our origin and lists the operations.
    visit.open("/api/v1/docs/")
    page.locator(".swagger-ui .opblock").first.wait_for(state="visible")
    assert page.locator(".swagger-ui .opblock").count() > 20
    visit.collect()

    # A case, for the staff of its office.
    visit.sign_in(world.iom_de_staff)
    visit.open(f"/returns/{o.case.pk}/")

    # UNHCR: the inbox and a pre-departure list.
    visit.sign_in(world.unhcr_af_staff)
    visit.open("/notifications/")
    visit.open(f"/notifications/lists/{o.pdl.pk}/")

    # An HQ focal point: the dashboard draws every chart (Chart.js from static files, data from JSON blocks).
    visit.sign_in(world.iom_hq_focal)
    visit.open("/dashboard/")
    page.wait_for_function(ALL_DRAWN)
    visit.open(f"/dashboard/offices/{world.iom_af.pk}/")
    page.wait_for_function(ALL_DRAWN)
    visit.collect()

    # An administrator: staff, partner systems, the access log, deliveries.
    visit.sign_in(world.iom_admin)
    for path in ("/staff/", f"/staff/{world.iom_af_staff.pk}/", "/api-clients/", "/access-log/"):
        visit.open(path)

    assert visit.violations == []
    assert visit.console == []
    assert visit.policies and all("script-src 'self'" in policy for policy in visit.policies)
    assert not any("unsafe-inline" in policy or "unsafe-eval" in policy for policy in visit.policies)


def test_csp_the_browser_enforces_the_policy(live_server, browser_page):  # noqa: F811
    """The control: an inline script slipped into a page of ours is refused, reported, and does not run."""
    from tests.factories.jointops import build_world

    world = build_world()
    page = browser_page
    visit = Visit(page, live_server)
    visit.sign_in(world.iom_af_staff)

    page.evaluate(
        """() => {
          const script = document.createElement("script");
          script.textContent = "window.__injected = true;";
          document.body.appendChild(script);
        }"""
    )
    page.wait_for_function("window.__cspViolations.length > 0")
    visit.collect()

    assert page.evaluate("window.__injected === undefined")
    assert any("script-src" in violation for violation in visit.violations)
