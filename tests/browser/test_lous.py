"""A Letter of Understanding in a real browser: IOM field staff drafts it (an activity of each agency and a funding
line, MOU §5), the UNHCR and IOM office managers sign it (in force from the second signature, MOU §44 by analogy),
IOM field staff proposes an amendment, UNHCR's office manager approves it (version 2, MOU §46) and then serves
termination notice (at least 90 days, MOU §45).

Debian's Chromium driven by Playwright against a live server; skipped without them unless REQUIRE_SERVICES=1.
"""

from __future__ import annotations

import datetime as dt
import re

import pytest
from django.utils import timezone

from tests.browser.test_shell import browser_page  # noqa: F401  (the fixture)
from tests.factories.jointops import PASSWORD

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def _sign_in(page, live_server, user) -> None:
    page.context.clear_cookies()
    page.goto(f"{live_server.url}/accounts/login/")
    page.fill("#id_username", user.username)
    page.fill("#id_password", PASSWORD)
    page.click("form[action='/accounts/login/'] button[type=submit]")
    page.wait_for_url(f"{live_server.url}/")


def _add_row(page, link: str, fields: dict[str, str], selects: dict[str, str]) -> None:
    page.get_by_role("link", name=link).click()
    page.wait_for_url("**/add/")
    for selector, value in selects.items():
        page.select_option(selector, value)
    for selector, value in fields.items():
        page.fill(selector, value)
    page.get_by_role("button", name=link).click()
    page.wait_for_url("**#text")


def test_lou_draft_sign_amend_approve_then_serve_notice(live_server, browser_page):  # noqa: F811
    from letters_of_understanding.choices import AmendmentStatus, LouStatus
    from letters_of_understanding.models import LetterOfUnderstanding
    from tests.factories.jointops import build_world

    world = build_world()
    page = browser_page
    failures: list[str] = []
    page.on("response", lambda response: failures.append(response.url) if response.status >= 400 else None)

    # IOM field staff drafts the letter: its own office and the counterpart are the parties already chosen.
    _sign_in(page, live_server, world.iom_af_staff)
    page.goto(f"{live_server.url}/letters/")
    page.get_by_role("link", name="Draft a letter").click()
    page.wait_for_url("**/letters/new/")
    assert page.locator("#id_iom_office").input_value() == str(world.iom_af.pk)
    assert page.locator("#id_unhcr_office").input_value() == str(world.unhcr_af.pk)
    page.fill("#id_title", "Return and reintegration, Herat")
    page.fill("#id_operational_situation", "Returns from Iran and Pakistan to western Afghanistan")
    page.fill("#id_institutional_framework", "A joint steering committee meets monthly in Herat")
    page.fill("#id_linkages", "IOM transport follows UNHCR's voluntariness interviews")
    page.get_by_role("button", name="Create the draft").click()
    page.wait_for_url(re.compile(r".*/letters/\d+/$"))
    lou = LetterOfUnderstanding.objects.get()
    detail = f"{live_server.url}{lou.get_absolute_url()}"
    assert page.locator("#lou-status").inner_text() == "Draft"

    _add_row(
        page,
        "Add an activity",
        {"#id_description": "Voluntariness interviews and protection monitoring"},
        {"#id_kind": "voluntary_repatriation", "#id_agency": "UNHCR"},
    )
    _add_row(
        page,
        "Add an activity",
        {"#id_description": "Transport, reception and reintegration grants"},
        {"#id_kind": "reintegration", "#id_agency": "IOM"},
    )
    _add_row(
        page,
        "Add a funding arrangement",
        {"#id_source": "ECHO", "#id_amount": "250000", "#id_currency": "EUR"},
        {"#id_agency": "IOM"},
    )
    activities = page.locator("#activities")
    assert activities.get_by_text("Voluntariness interviews and protection monitoring").is_visible()
    assert activities.get_by_text("Transport, reception and reintegration grants").is_visible()
    assert page.locator("#funding").get_by_text("250000.00 EUR").is_visible()
    assert page.locator("#acts .jo-act[data-act=sign]").count() == 0  # field staff does not sign

    # The UNHCR office manager signs, then the IOM office manager: in force from the second signature.
    for manager, status in ((world.unhcr_af_manager, "Signed by one party"), (world.iom_af_manager, "In force")):
        _sign_in(page, live_server, manager)
        page.goto(detail)
        page.get_by_role("link", name="Sign for your party").click()
        page.wait_for_url("**/acts/sign/")
        assert len(page.locator("#sign-hash").inner_text()) == 64
        page.fill("#id_signatory_name", f"{manager.username} for the office")
        page.get_by_role("button", name="Sign for your party").click()
        page.wait_for_url("**#signatures")
        assert page.locator("#lou-status").inner_text() == status
    assert page.locator("#lou-text-version").inner_text() == "1"
    assert page.locator("#signatures .jo-hash").count() == 2

    # IOM field staff proposes an amendment: the form holds the text in force; only the title changes.
    _sign_in(page, live_server, world.iom_af_staff)
    page.goto(detail)
    page.get_by_role("link", name="Propose an amendment").click()
    page.wait_for_url("**/amendments/new/")
    assert page.locator("#id_title").input_value() == "Return and reintegration, Herat"
    assert page.locator("#id_activities-1-description").input_value() == "Transport, reception and reintegration grants"
    page.fill("#id_title", "Return and reintegration, Herat and Farah")
    page.fill("#id_rationale", "Farah province joins the programme")
    page.get_by_role("button", name="Propose the amendment").click()
    page.wait_for_url(re.compile(r".*/amendments/\d+/$"))
    assert page.locator("#amendment-status").inner_text() == "Proposed"
    assert page.locator("tr.jo-changed[data-field=title]").is_visible()

    # The UNHCR office manager approves it: version 2 of the text is in force.
    _sign_in(page, live_server, world.unhcr_af_manager)
    page.goto(detail)
    assert page.locator("#lou-pending").is_visible()
    page.get_by_role("link", name="Approve the amendment").click()
    page.wait_for_url("**#decide-approve")
    page.fill("#id_approve_note", "Agreed at the steering committee")
    page.get_by_role("button", name="Approve the amendment").click()
    page.wait_for_url("**#amendments")
    assert page.locator("#lou-text-version").inner_text() == "2"
    assert page.locator("#lou-title").inner_text() == "Return and reintegration, Herat and Farah"
    assert page.locator("#versions .jo-version").count() == 2

    # ...and serves termination notice: 90 days later by default (MOU §45).
    page.get_by_role("link", name="Serve termination notice").click()
    page.wait_for_url("**/acts/serve_notice/")
    effective = timezone.localdate() + dt.timedelta(days=90)
    assert page.locator("#id_effective_on").input_value() == effective.isoformat()
    page.fill("#id_reason", "The repatriation operation ends")
    page.get_by_role("button", name="Serve termination notice").click()
    page.wait_for_url(detail)
    assert page.locator("#lou-notice").is_visible()
    assert page.locator("#lou-notice-effective").get_attribute("data-date") == effective.isoformat()
    assert page.locator("#lou-notice").get_by_text("The repatriation operation ends").is_visible()

    lou.refresh_from_db()
    assert (lou.status, lou.text_version, lou.termination_effective_on) == (LouStatus.IN_FORCE, 2, effective)
    assert lou.amendments.get().status == AmendmentStatus.APPROVED
    assert failures == []
