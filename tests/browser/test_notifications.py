"""Pre-departure name lists in a real browser (Letter of 16 January 2003): IOM field staff schedules the departure of
an asylum-seeker's assisted voluntary return and builds the list now; the counterpart UNHCR office's staff sees the
unread count in the navigation, opens the list from the inbox, reads the name and the date of expected departure, and
acknowledges it.

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


def _sign_in(page, base: str, username: str) -> None:
    page.goto(f"{base}/accounts/login/")
    page.fill("#id_username", username)
    page.fill("#id_password", PASSWORD)
    page.click("form[action='/accounts/login/'] button[type=submit]")
    page.wait_for_url(f"{base}/")


def _sign_out(page, base: str) -> None:
    page.click("#user-menu")
    page.get_by_role("button", name="Sign out").click()
    page.wait_for_url(re.compile(rf"{re.escape(base)}/accounts/(login|logout)/.*"))


def test_iom_schedules_and_builds_the_list_then_unhcr_acknowledges_it(live_server, browser_page):  # noqa: F811
    from notifications.choices import Trigger
    from notifications.models import PreDepartureList
    from returns.choices import Stage
    from returns.models import ReturnCase
    from tests.factories.beneficiaries import person
    from tests.factories.jointops import build_world
    from tests.factories.returns import case, move

    world = build_world()
    farid = person(world.iom_af, actor=world.iom_af_staff, given_name="Farid", family_name="Noori")
    # The case up to "preparing travel", fit to travel (the returns browser test walks these steps in the page).
    c = move(
        case(world.iom_af, world.iom_af_staff, principal=farid, fit_to_travel=True),
        world.iom_af_staff,
        "start_counselling",
        "start_preparing",
    )
    departure = timezone.localdate() + dt.timedelta(days=14)
    base = live_server.url
    page = browser_page
    failures: list[str] = []
    page.on("response", lambda response: failures.append(response.url) if response.status >= 400 else None)

    # IOM: schedule the departure in the case page.
    _sign_in(page, base, world.iom_af_staff.username)
    page.goto(f"{base}{c.get_absolute_url()}")
    page.fill("#id_schedule_departure_expected_departure_date", departure.isoformat())
    page.get_by_role("button", name="Schedule departure").click()
    page.wait_for_url("**#timeline")
    assert page.locator("#case-stage").inner_text() == "Departure scheduled"
    assert ReturnCase.objects.get(pk=c.pk).stage == Stage.DEPARTURE_SCHEDULED

    # IOM: build the list now, from the lists page.
    page.get_by_role("link", name="Pre-departure lists").first.click()
    page.wait_for_url("**/notifications/lists/")
    assert page.get_by_text("a list of names and dates of expected departure", exact=False).is_visible()
    page.locator("#build").get_by_role("button", name="Build the list now").click()
    page.wait_for_url("**/notifications/lists/")
    pdl = PreDepartureList.objects.get()
    assert (pdl.trigger, pdl.iom_office, pdl.unhcr_office) == (Trigger.BROWSER, world.iom_af, world.unhcr_af)
    assert (
        page.locator(".jo-messages")
        .get_by_text(f"1 list built and sent to UNHCR: {pdl.reference} (1 entry).")
        .is_visible()
    )
    assert page.locator("#lists").get_by_role("link", name=pdl.reference).is_visible()
    _sign_out(page, base)

    # UNHCR: the bell shows one unread notice; the inbox leads to the list.
    _sign_in(page, base, world.unhcr_af_staff.username)
    assert page.locator("#nav-unread").inner_text().startswith("1")
    page.click("#nav-inbox")
    page.wait_for_url("**/notifications/")
    notice = page.locator("#inbox").get_by_role("button", name=re.compile(re.escape(pdl.reference)))
    notice.click()
    page.wait_for_url(f"**{pdl.get_absolute_url()}")
    assert page.locator("#nav-unread").count() == 0  # opening the notice read it

    # The name and the date of expected departure — and the list awaits acknowledgement.
    row = page.locator("#entries tbody tr").first
    assert row.locator("[data-field=given_name]").inner_text() == "Farid"
    assert row.locator("[data-field=family_name]").inner_text() == "Noori"
    assert row.locator(f"[data-field=expected_departure_date] time[datetime='{departure.isoformat()}']").count() == 1
    assert row.locator("[data-field=iom_case_reference]").inner_text() == c.reference
    assert page.locator("#list-awaiting").is_visible()

    page.get_by_role("button", name="Acknowledge").click()
    page.wait_for_url(f"**{pdl.get_absolute_url()}")
    assert page.locator("#list-acknowledged").is_visible()
    assert page.get_by_text(f"List {pdl.reference} acknowledged.").is_visible()
    assert page.get_by_role("button", name="Acknowledge").count() == 0  # once
    pdl.refresh_from_db()
    assert pdl.acknowledged_by == world.unhcr_af_staff and pdl.acknowledged_at is not None
    assert failures == []
