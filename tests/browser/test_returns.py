"""Return cases in a real browser: IOM field staff opens an assisted voluntary return for an asylum-seeker, moves it
through counselling and preparation, records fit to travel, schedules departure, then withdraws it because the
person changed their mind (Letter: possible at any time up to voluntary embarkation).

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


def test_returns_open_avr_schedule_departure_then_withdraw(live_server, browser_page):  # noqa: F811
    from returns.choices import Stage
    from returns.models import CaseTransition, ReturnCase
    from tests.factories.beneficiaries import person
    from tests.factories.jointops import build_world

    world = build_world()
    asylum_seeker = person(world.iom_af, actor=world.iom_af_staff, given_name="Farid", family_name="Noori")
    page = browser_page
    failures: list[str] = []
    page.on("response", lambda response: failures.append(response.url) if response.status >= 400 else None)

    page.goto(f"{live_server.url}/accounts/login/")
    page.fill("#id_username", world.iom_af_staff.username)
    page.fill("#id_password", PASSWORD)
    page.click("form[action='/accounts/login/'] button[type=submit]")
    page.wait_for_url(f"{live_server.url}/")

    # Open the case: find the person, choose them as principal, fill the form.
    page.goto(f"{live_server.url}/returns/")
    page.get_by_role("link", name="Open a return case").click()
    page.wait_for_url("**/returns/new/")
    page.fill("#id_q", "Noori")
    page.locator("#find-person button[type=submit]").click()
    page.get_by_role("link", name="Choose").click()
    page.wait_for_url(re.compile(rf".*principal={asylum_seeker.pk}.*"))
    assert page.get_by_text("Principal applicant: Farid Noori").is_visible()
    page.select_option("#id_kind", "avr_asylum_seeker")
    assert page.locator("#id_lead_office").input_value() == str(world.iom_af.pk)  # pre-selected
    page.select_option("#id_country_of_return", "AF")
    page.fill("#id_place_of_return", "Herat")
    page.get_by_role("button", name="Open the case").click()
    page.wait_for_url(re.compile(r".*/returns/\d+/$"))
    c = ReturnCase.objects.get()
    assert page.locator("#case-stage").inner_text() == "Opened"
    assert page.get_by_text("No formal withdrawal of the asylum claim is asked for or required (Letter).").is_visible()

    # Counselling, then preparing: only the moves allowed now are offered.
    page.get_by_role("button", name="Start counselling").click()
    page.wait_for_url(re.compile(r".*/returns/\d+/#timeline$"))
    assert page.locator("#case-stage").inner_text() == "Counselling"
    page.fill("#id_start_preparing_reason", "Travel documents requested")
    page.get_by_role("button", name="Start preparing travel").click()
    page.wait_for_url("**#timeline")
    page.locator("#case-stage", has_text="Preparing").wait_for()

    # Scheduling before fit to travel is recorded is refused with its reason.
    departure = timezone.localdate() + dt.timedelta(days=14)
    page.fill("#id_schedule_departure_expected_departure_date", departure.isoformat())
    page.get_by_role("button", name="Schedule departure").click()
    page.wait_for_url("**/moves/schedule_departure/")
    assert page.get_by_text("Record that the person is fit to travel before scheduling departure.").is_visible()

    # Record fit to travel (yes/no only), then schedule departure.
    page.goto(f"{live_server.url}{c.get_absolute_url()}")
    page.get_by_role("link", name="Edit details").click()
    page.wait_for_url("**/edit/")
    page.select_option("#id_fit_to_travel", "true")
    page.get_by_role("button", name="Save", exact=True).click()
    page.wait_for_url(f"**{c.get_absolute_url()}")
    assert page.locator("#case-fit").inner_text() == "Yes"
    page.fill("#id_schedule_departure_expected_departure_date", departure.isoformat())
    page.get_by_role("button", name="Schedule departure").click()
    page.wait_for_url("**#timeline")
    assert page.locator("#case-stage").inner_text() == "Departure scheduled"

    # The person changes their mind: withdraw, with what they said.
    withdraw = page.locator("#withdraw")
    assert withdraw.get_by_text("The person may change their mind at any time up to voluntary embarkation").is_visible()
    page.fill("#id_withdraw_reason", "Wants to wait for the asylum decision")
    withdraw.get_by_role("button", name="Withdraw (the person changed their mind)").click()
    page.wait_for_url("**#timeline")
    assert page.locator("#case-stage").inner_text() == "Withdrawn (change of mind)"
    timeline = page.locator("#timeline")
    for label in ("Start counselling", "Start preparing travel", "Schedule departure"):
        assert timeline.get_by_text(label, exact=True).is_visible()
    assert timeline.get_by_text("Wants to wait for the asylum decision").is_visible()
    assert timeline.get_by_text("Departure scheduled → Withdrawn (change of mind)").is_visible()
    assert page.locator(".jo-move").count() == 0  # nothing more to offer
    c.refresh_from_db()
    assert c.stage == Stage.WITHDRAWN and c.members.count() == 1
    assert list(CaseTransition.objects.filter(case=c).values_list("transition", flat=True)) == [
        "start_counselling",
        "start_preparing",
        "schedule_departure",
        "withdraw",
    ]
    assert failures == []
