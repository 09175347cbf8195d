"""People in a real browser: field staff registers a person, finds them under another spelling, edits them.

Debian's Chromium driven by Playwright against a live server; skipped without them unless REQUIRE_SERVICES=1.
"""

from __future__ import annotations

import re

import pytest

from tests.browser.test_shell import browser_page  # noqa: F401  (the fixture)
from tests.factories.jointops import PASSWORD

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def test_people_register_find_by_other_spelling_then_edit(live_server, browser_page):  # noqa: F811
    from beneficiaries.models import Beneficiary
    from tests.factories.jointops import build_world

    world = build_world()
    page = browser_page
    failures: list[str] = []
    page.on("response", lambda response: failures.append(response.url) if response.status >= 400 else None)

    page.goto(f"{live_server.url}/accounts/login/")
    page.fill("#id_username", world.iom_af_staff.username)
    page.fill("#id_password", PASSWORD)
    page.click("form[action='/accounts/login/'] button[type=submit]")
    page.wait_for_url(f"{live_server.url}/")

    # Register: from the navigation to the form.
    page.get_by_role("link", name="People", exact=True).first.click()
    page.wait_for_url("**/people/")
    page.get_by_role("link", name="Register a person").click()
    page.wait_for_url("**/people/new/")
    page.fill("#id_given_name", "Mohammad")
    page.fill("#id_family_name", "Karimi")
    page.select_option("#id_sex", "male")
    page.fill("#id_date_of_birth", "1987-03-21")
    page.select_option("#id_nationality", "AF")
    page.select_option("#id_category", label="Asylum-seeker")
    page.check("input[name=specific_needs][value=single_parent]")
    page.get_by_role("button", name="Register", exact=True).click()
    page.wait_for_url(re.compile(r".*/people/\d+/$"))
    assert page.locator("h1").inner_text() == "Mohammad Karimi"
    person = Beneficiary.objects.get(given_name="Mohammad")
    assert person.specific_needs == ["single_parent"]

    # Find: another spelling in the search box; htmx updates the results in place.
    page.goto(f"{live_server.url}/people/")
    page.evaluate("window.__no_reload = true")
    page.fill("#id_q", "Muhammad")
    page.wait_for_url("**/people/?*q=Muhammad*")
    results = page.locator("#results")
    results.get_by_role("link", name="Mohammad Karimi").wait_for()
    assert page.evaluate("window.__no_reload") is True
    results.get_by_role("link", name="Mohammad Karimi").click()
    page.wait_for_url(f"**{person.get_absolute_url()}")

    # Edit: the change is saved and shown.
    page.get_by_role("link", name="Edit", exact=True).click()
    page.wait_for_url("**/edit/")
    page.fill("#id_family_name", "Karimzada")
    page.fill("#id_phone", "+93 700 123 456")
    page.get_by_role("button", name="Save", exact=True).click()
    page.wait_for_url(f"**{person.get_absolute_url()}")
    assert page.locator("h1").inner_text() == "Mohammad Karimzada"
    assert page.get_by_text("+93 700 123 456").is_visible()
    assert page.get_by_role("status").filter(has_text="saved").count() == 1
    person.refresh_from_db()
    assert person.family_name == "Karimzada" and person.version == 2
    assert failures == []
