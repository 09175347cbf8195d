"""Two-factor sign-in in a real browser (issue 8): an HQ focal point signs in with the password, is sent to the set-up
page, scans (here: reads) the key, enters the code of the moment, sees the recovery codes once, lands on the home page.

Skipped when Chromium or Playwright is missing, except under REQUIRE_SERVICES=1 (see tests/conftest.py).
"""

from __future__ import annotations

import base64

import pytest
from django_otp.oath import TOTP
from django_otp.plugins.otp_totp.models import TOTPDevice

from accounts.models import RecoveryCode
from tests.browser.test_shell import browser_page  # noqa: F401  (the fixture)
from tests.factories.jointops import PASSWORD

pytestmark = [pytest.mark.browser, pytest.mark.real_two_factor, pytest.mark.django_db(transaction=True)]


def test_hq_focal_point_sets_up_two_factor_at_first_sign_in(live_server, browser_page):  # noqa: F811
    from tests.factories.jointops import build_world

    world = build_world()
    user = world.iom_hq_focal
    page = browser_page
    failures: list[str] = []
    page.on("response", lambda response: failures.append(response.url) if response.status >= 400 else None)

    page.goto(f"{live_server.url}/")
    page.fill("#id_username", user.username)
    page.fill("#id_password", PASSWORD)
    page.click("form[action='/accounts/login/'] button[type=submit]")

    page.wait_for_url(f"{live_server.url}/accounts/two-factor/setup/**")
    qr = page.locator("img.jo-qr")
    qr.wait_for()
    page.wait_for_function("document.querySelector('img.jo-qr').complete")
    assert page.evaluate("document.querySelector('img.jo-qr').naturalWidth") > 0  # the SVG loads under the CSP
    secret = page.locator("#totp-secret").inner_text().strip()
    code = f"{TOTP(base64.b32decode(secret)).token():06d}"
    page.fill("#id_code", code)
    page.click("form[action='/accounts/two-factor/setup/'] button[type=submit]")

    codes = page.locator("#recovery-codes li")
    codes.first.wait_for()
    assert codes.count() == 10
    shown = [text.strip() for text in codes.all_inner_texts()]
    assert all(len(code) == 19 for code in shown)  # XXXX-XXXX-XXXX-XXXX
    assert RecoveryCode.objects.filter(user=user, used_at__isnull=True).count() == 10
    assert TOTPDevice.objects.get(user=user).confirmed

    page.click("#recovery-codes-done")
    page.wait_for_url(f"{live_server.url}/")
    assert page.locator("h1").inner_text().startswith("Welcome")
    assert failures == []
