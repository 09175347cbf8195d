"""Test-wide fixtures and the skip/require rule for real services.

A test marked needs_postgres / needs_redis / browser is skipped with a clear reason when that service is
missing, except under REQUIRE_SERVICES=1 (CI), where a missing service fails the run and no test may skip.
"""

import pytest

from tests.services import NEEDS, REQUIRE_SERVICES


def pytest_sessionstart(session):
    if not REQUIRE_SERVICES:
        return
    import django

    django.setup()
    missing = [reason for marker, (available, reason) in NEEDS.items() if not available()]
    if missing:
        pytest.exit("REQUIRE_SERVICES=1 but: " + "; ".join(missing), returncode=3)


def pytest_runtest_setup(item):
    for marker, (available, reason) in NEEDS.items():
        if item.get_closest_marker(marker) and not available():
            if REQUIRE_SERVICES:
                pytest.fail(f"REQUIRE_SERVICES=1: {reason}")
            pytest.skip(reason)


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_makereport(item, call):
    outcome = yield
    report = outcome.get_result()
    if REQUIRE_SERVICES and report.skipped and not hasattr(report, "wasxfail"):
        report.outcome = "failed"
        report.longrepr = f"REQUIRE_SERVICES=1: nothing may skip ({report.longrepr})"


@pytest.fixture(autouse=True)
def _english_and_clean_cache(settings):
    from django.core.cache import cache
    from django.utils import translation

    settings.LANGUAGE_CODE = "en"
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]  # fast; production keeps PBKDF2
    translation.activate("en")
    cache.clear()
    yield
    translation.deactivate()


@pytest.fixture
def world(db):
    """Two countries, each with an IOM and a UNHCR country office (counterparts) and a field office, plus HQs."""
    from tests.factories.jointops import build_world

    return build_world()


@pytest.fixture
def api_client():
    from rest_framework.test import APIClient

    return APIClient()
