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
def pytest_runtest_teardown(item, nextitem):
    """After a transactional test's flush, put back the reference data the data migrations load."""
    yield
    if nextitem is None:  # the session's fixtures (the test database) are gone already
        return
    marker = item.get_closest_marker("django_db")
    fixtures = getattr(item, "fixturenames", ())
    if (marker and marker.kwargs.get("transaction")) or "transactional_db" in fixtures or "live_server" in fixtures:
        from pytest_django.plugin import blocking_manager_key

        from tests.reference_data import reseed

        with item.config.stash[blocking_manager_key].unblock():
            reseed()


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


@pytest.fixture(autouse=True)
def _second_factor_passed(request):
    """Issue 8: office managers, HQ focal points and administrators must pass two-factor sign-in, and the middleware
    enforcing it stays on in every test. A test's sign-ins (client.force_login, client.login, the login form in
    browser tests) stand for "this user has passed the second factor": the user gets a confirmed TOTP device and the
    session is marked verified (django_otp.login). Tests marked `real_two_factor` go through the real flow instead."""
    if request.node.get_closest_marker("real_two_factor"):
        yield
        return
    from django.contrib.auth.signals import user_logged_in

    def passed(sender, request, user, **kwargs):
        import django_otp
        from django_otp.plugins.otp_totp.models import TOTPDevice

        device = TOTPDevice.objects.filter(user=user, confirmed=True).first()
        if device is None:
            device = TOTPDevice.objects.create(user=user, name="test", confirmed=True)
        if not hasattr(request, "user"):  # the test client's force_login() builds a bare request
            request.user = user
        django_otp.login(request, device)

    # weak=False: `passed` is a local function, which a weak reference would let the garbage collector drop mid-run.
    user_logged_in.connect(passed, dispatch_uid="tests_second_factor_passed", weak=False)
    yield
    user_logged_in.disconnect(dispatch_uid="tests_second_factor_passed")


@pytest.fixture(autouse=True)
def _password_sign_in_with_a_request(monkeypatch):
    """django-axes checks every password sign-in against its lock-out, which needs the request (the login page always
    gives one). The test client's login() calls authenticate() without one; give it the request a browser's POST to
    the login page would make, so password sign-ins in tests go through the lock-out check like real ones."""
    from django.test import Client, RequestFactory

    original = Client.login

    def login(self, **credentials):
        credentials.setdefault("request", RequestFactory().post("/accounts/login/"))
        return original(self, **credentials)

    monkeypatch.setattr(Client, "login", login)


@pytest.fixture
def world(db):
    """Two countries, each with an IOM and a UNHCR country office (counterparts) and a field office, plus HQs."""
    from tests.factories.jointops import build_world

    return build_world()


@pytest.fixture
def api_client():
    from rest_framework.test import APIClient

    return APIClient()


@pytest.fixture(scope="session", autouse=True)
def _close_stray_connections(django_db_setup, django_db_blocker):
    """Before the test database is dropped, end connections other threads left open (the live server's request
    threads keep theirs for CONN_MAX_AGE), so PostgreSQL can drop it."""
    yield
    from django.db import connection

    if connection.vendor != "postgresql":
        return
    with django_db_blocker.unblock(), connection.cursor() as cursor:
        cursor.execute(
            "SELECT pg_terminate_backend(pid) FROM pg_stat_activity "
            "WHERE datname = current_database() AND pid <> pg_backend_pid()"
        )
