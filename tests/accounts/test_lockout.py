"""Lock-out of repeated failed sign-ins (issue 8, django-axes): SIGNIN_FAILURE_LIMIT wrong passwords for one username
from one address lock that pair for SIGNIN_LOCKOUT_MINUTES, with a clear translated page (429), reset on success."""

from __future__ import annotations

import datetime as dt

import pytest
from axes.models import AccessAttempt
from django.conf import settings
from django.test import Client
from django.urls import reverse
from django.utils import translation

from tests.factories.jointops import PASSWORD, UserFactory

pytestmark = [pytest.mark.real_two_factor, pytest.mark.django_db]


def attempt(client: Client, username: str, password: str, address: str = "203.0.113.7", url: str | None = None):
    return client.post(url or reverse("login"), {"username": username, "password": password}, REMOTE_ADDR=address)


def test_settings_from_the_environment_defaults():
    assert settings.AXES_FAILURE_LIMIT == settings.SIGNIN_FAILURE_LIMIT == 5
    assert (
        settings.AXES_COOLOFF_TIME == dt.timedelta(minutes=settings.SIGNIN_LOCKOUT_MINUTES) == dt.timedelta(minutes=15)
    )
    assert settings.AUTHENTICATION_BACKENDS[0] == "axes.backends.AxesStandaloneBackend"


def test_lockout_after_the_limit_even_with_the_right_password(world):
    client = Client()
    for _ in range(settings.SIGNIN_FAILURE_LIMIT - 1):
        response = attempt(client, "iom_af_staff", "wrong password")
        assert response.status_code == 200 and response.context["form"].errors

    locked = attempt(client, "iom_af_staff", "wrong password")

    assert locked.status_code == 429
    html = locked.content.decode()
    assert 'id="locked-out"' in html and "15 minutes" in html
    response = attempt(client, "iom_af_staff", PASSWORD)
    assert response.status_code == 429
    assert "_auth_user_id" not in client.session
    # Another address, or another username from this address, is not locked.
    assert attempt(Client(), "iom_af_staff", PASSWORD, address="198.51.100.9").status_code == 302
    assert attempt(Client(), "iom_af_manager", PASSWORD).status_code == 302


def test_lockout_page_is_translated():
    with translation.override("fr"):
        client = Client(HTTP_ACCEPT_LANGUAGE="fr")
        for _ in range(settings.SIGNIN_FAILURE_LIMIT):
            response = attempt(client, "nobody", "wrong password")
    assert response.status_code == 429
    assert '<html lang="fr"' in response.content.decode()


def test_lockout_ends_after_the_cool_off(world):
    client = Client()
    for _ in range(settings.SIGNIN_FAILURE_LIMIT):
        attempt(client, "iom_af_staff", "wrong password")
    assert attempt(client, "iom_af_staff", PASSWORD).status_code == 429
    # The cool-off passes (the stored attempts age, as time would age them).
    AccessAttempt.objects.update(attempt_time=dt.datetime.now(dt.UTC) - dt.timedelta(minutes=16))
    assert attempt(client, "iom_af_staff", PASSWORD).status_code == 302


def test_successful_sign_in_resets_the_count(world):
    client = Client()
    for _ in range(settings.SIGNIN_FAILURE_LIMIT - 1):
        attempt(client, "iom_af_staff", "wrong password")
    assert attempt(client, "iom_af_staff", PASSWORD).status_code == 302
    client.post(reverse("logout"))
    for _ in range(settings.SIGNIN_FAILURE_LIMIT - 1):
        assert attempt(client, "iom_af_staff", "wrong password").status_code == 200
    assert attempt(client, "iom_af_staff", PASSWORD).status_code == 302


def test_django_admin_sign_in_is_locked_out_too(world):
    UserFactory(username="root", is_superuser=True, is_staff=True)
    client = Client()
    url = reverse("admin:login")
    for _ in range(settings.SIGNIN_FAILURE_LIMIT):
        response = attempt(client, "root", "wrong password", url=url)
    assert response.status_code == 429
    assert attempt(client, "root", PASSWORD, url=url).status_code == 429


@pytest.mark.parametrize("username", ["x" * 300, "زيد" * 100, "iom\x00staff", "", " "])
def test_bad_usernames_never_a_500(world, username):
    client = Client()
    for _ in range(settings.SIGNIN_FAILURE_LIMIT + 1):
        response = attempt(client, username, "wrong password")
        assert response.status_code in (200, 429)


def test_test_client_login_goes_through_the_lockout(world):
    """tests/conftest.py gives Client.login() the request axes needs: a locked username cannot sign in there either."""
    client = Client()
    for _ in range(settings.SIGNIN_FAILURE_LIMIT):
        attempt(client, "iom_af_staff", "wrong password", address="127.0.0.1")
    assert Client().login(username="iom_af_staff", password=PASSWORD) is False
    assert Client().login(username="iom_af_manager", password=PASSWORD) is True
