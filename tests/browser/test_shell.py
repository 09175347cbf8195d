"""The shell in a real browser: Debian's Chromium driven by Playwright against a live server.

Skipped when Chromium or Playwright is missing, except under REQUIRE_SERVICES=1 (see tests/conftest.py).
Never runs `playwright install`: it launches the system's /usr/bin/chromium.
"""

from __future__ import annotations

from urllib.parse import urlparse

import pytest

from tests.factories.jointops import PASSWORD
from tests.services import CHROMIUM

CHROMIUM_ARGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking"]

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


@pytest.fixture
def browser_page(monkeypatch):
    # Playwright's sync API runs an event loop in this thread; Django would refuse database calls from it.
    monkeypatch.setenv("DJANGO_ALLOW_ASYNC_UNSAFE", "true")
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        try:
            page = browser.new_page(viewport={"width": 1280, "height": 900})
            page.set_default_timeout(15_000)
            yield page
        finally:
            browser.close()


def test_shell_field_staff_signs_in_and_switches_to_arabic_rtl(live_server, browser_page):
    from tests.factories.jointops import build_world

    world = build_world()
    page = browser_page
    requests: list[str] = []
    failures: list[str] = []
    page.on("request", lambda request: requests.append(request.url))
    page.on("response", lambda response: failures.append(response.url) if response.status >= 400 else None)

    page.goto(f"{live_server.url}/")
    assert page.url.startswith(f"{live_server.url}/accounts/login/")
    page.fill("#id_username", world.iom_af_staff.username)
    page.fill("#id_password", PASSWORD)
    page.click("form[action='/accounts/login/'] button[type=submit]")
    page.wait_for_url(f"{live_server.url}/")
    assert page.locator("h1").inner_text().startswith("Welcome")
    assert page.locator("html").get_attribute("dir") == "ltr"
    assert page.get_by_text("IOM-AF-KBL").first.is_visible()

    page.click("#language-menu")  # Bootstrap's dropdown: proves the vendored JavaScript loaded
    with page.expect_navigation():
        page.click("button[name=language][value=ar]")

    assert page.locator("html").get_attribute("dir") == "rtl"
    assert page.locator("html").get_attribute("lang") == "ar"
    assert page.get_by_role("heading", name="مكتبك").is_visible()  # "Your office"
    assert page.get_by_role("link", name="الرئيسية").is_visible()  # "Home"
    stylesheets = page.eval_on_selector_all("link[rel=stylesheet]", "links => links.map(l => l.href)")
    assert any(href.endswith("bootstrap.rtl.min.css") for href in stylesheets)
    # The RTL stylesheet really applies: the brand sits on the right-hand side of the navigation bar.
    brand = page.locator(".navbar-brand").bounding_box()
    assert brand["x"] > 1280 / 2

    # htmx: the office filter updates the results in place (no full page load) and the address follows.
    page.goto(f"{live_server.url}/offices/")
    page.evaluate("window.__no_reload = true")
    page.fill("#id_country", "DE")
    page.click(".jo-filters button[type=submit]")
    page.wait_for_url("**/offices/?*country=DE*")
    page.wait_for_function("!document.querySelector('#results').textContent.includes('IOM-AF-KBL')")
    assert page.evaluate("window.__no_reload") is True
    assert page.locator("#results").get_by_role("link", name="IOM-DE-BER", exact=True).is_visible()

    live = urlparse(live_server.url)
    foreign = [
        url for url in requests if urlparse(url).scheme not in ("data", "blob") and urlparse(url).netloc != live.netloc
    ]
    assert foreign == []  # no CDN, no outside request of any kind
    assert any("/static/vendor/bootstrap-5.3.9/" in url for url in requests)
    assert failures == []
