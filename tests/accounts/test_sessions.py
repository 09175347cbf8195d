"""Sessions (issue 8): sign out everywhere, idle expiry, absolute lifetime, strong passwords."""

from __future__ import annotations

import datetime as dt

import pytest
from django.conf import settings
from django.contrib.auth.password_validation import validate_password
from django.contrib.sessions.models import Session
from django.core.exceptions import ValidationError
from django.test import Client
from django.urls import reverse
from django.utils import timezone

from accounts import services
from accounts.middleware import SIGNED_IN_AT
from jointops.exceptions import PermissionRefused
from jointops.models import AccessLog, User
from tests.accounts.test_two_factor import sign_in

pytestmark = [pytest.mark.real_two_factor, pytest.mark.django_db]


def signed_out(client: Client) -> bool:
    response = client.get("/")
    return response.status_code == 302 and response["Location"].startswith(reverse("login"))


# --- Sign out everywhere --------------------------------------------------------------------------------------------


def test_sign_out_everywhere_ends_the_other_session_keeps_this_one_on_a_new_key(world):
    user = world.iom_af_staff
    laptop, phone = sign_in(user), sign_in(user)
    old_key = laptop.session.session_key
    assert laptop.get("/").status_code == 200 and phone.get("/").status_code == 200

    response = laptop.post(reverse("accounts:sign_out_everywhere"))

    assert response.status_code == 302
    assert signed_out(phone)
    assert laptop.get("/").status_code == 200
    assert laptop.session.session_key != old_key  # a copied cookie of this browser is useless too
    assert User.objects.get(pk=user.pk).session_generation == 1
    assert AccessLog.objects.filter(action="sign_out_everywhere", user=user, object_ids=[str(user.pk)]).exists()


def test_sign_out_everywhere_then_sign_in_again_works(world):
    user = world.iom_af_staff
    laptop, phone = sign_in(user), sign_in(user)
    laptop.post(reverse("accounts:sign_out_everywhere"))
    assert signed_out(phone)
    sign_in(user, phone)
    assert phone.get("/").status_code == 200


def test_administrator_signs_a_user_out_everywhere(world):
    target = world.iom_af_staff
    first, second = sign_in(target), sign_in(target)
    admin = Client()
    admin.force_login(world.iom_admin)
    from django_otp.plugins.otp_totp.models import TOTPDevice

    device = TOTPDevice.objects.create(user=world.iom_admin, name="phone", confirmed=True)
    session = admin.session
    session["otp_device_id"] = device.persistent_id
    session.save()
    assert (
        reverse("accounts:staff_sign_out_everywhere", args=[target.pk])
        in admin.get(target.get_absolute_url()).content.decode()
    )

    response = admin.post(reverse("accounts:staff_sign_out_everywhere", args=[target.pk]))

    assert response.status_code == 302
    assert signed_out(first) and signed_out(second)
    assert admin.get("/").status_code == 200
    log = AccessLog.objects.get(action="sign_out_everywhere")
    assert log.user == world.iom_admin and log.object_ids == [str(target.pk)]


def test_sign_out_everywhere_of_someone_else_needs_their_administrator(world):
    for actor in (world.iom_af_manager, world.unhcr_admin, world.iom_de_staff):
        with pytest.raises(PermissionRefused):
            services.user_sign_out_everywhere(actor=actor, user=world.iom_af_staff)
    assert User.objects.get(pk=world.iom_af_staff.pk).session_generation == 0


def test_deactivating_an_account_signs_it_out_everywhere(world):
    target = world.iom_af_staff
    browser = sign_in(target)
    admin = Client()
    admin.force_login(world.iom_admin)
    from django_otp.plugins.otp_totp.models import TOTPDevice

    device = TOTPDevice.objects.create(user=world.iom_admin, name="phone", confirmed=True)
    session = admin.session
    session["otp_device_id"] = device.persistent_id
    session.save()

    response = admin.post(reverse("jointops:user_deactivate", args=[target.pk]))

    assert response.status_code == 302
    assert User.objects.get(pk=target.pk).session_generation == 1
    assert signed_out(browser)


# --- Idle expiry and absolute lifetime ----------------------------------------------------------------------------


def test_idle_session_past_its_age_is_signed_out(world):
    assert settings.SESSION_COOKIE_AGE == 30 * 60 and settings.SESSION_SAVE_EVERY_REQUEST
    client = sign_in(world.iom_af_staff)
    before = timezone.now()
    assert client.get("/").status_code == 200
    session = Session.objects.get(session_key=client.session.session_key)
    # Every request pushes the end of the session SESSION_COOKIE_AGE ahead (idle expiry, not absolute).
    assert before + dt.timedelta(seconds=settings.SESSION_COOKIE_AGE) <= session.expire_date
    assert session.expire_date <= timezone.now() + dt.timedelta(seconds=settings.SESSION_COOKIE_AGE)

    # The person leaves the browser idle past the age: the stored session has expired.
    Session.objects.filter(pk=session.pk).update(expire_date=timezone.now() - dt.timedelta(seconds=1))

    assert signed_out(client)


def test_session_older_than_max_hours_is_signed_out_however_active(world):
    assert settings.SESSION_MAX_HOURS == 12
    client = sign_in(world.iom_af_staff)
    assert isinstance(client.session[SIGNED_IN_AT], float)
    session = client.session
    session[SIGNED_IN_AT] = (timezone.now() - dt.timedelta(hours=11, minutes=59)).timestamp()
    session.save()
    assert client.get("/").status_code == 200
    session = client.session
    session[SIGNED_IN_AT] = (timezone.now() - dt.timedelta(hours=12, minutes=1)).timestamp()
    session.save()

    response = client.get("/offices/")

    assert response.status_code == 302 and response["Location"].startswith(reverse("login"))
    assert "_auth_user_id" not in client.session
    assert signed_out(client)
    api = sign_in(world.iom_af_staff)
    session = api.session
    session[SIGNED_IN_AT] = (timezone.now() - dt.timedelta(hours=13)).timestamp()
    session.save()
    assert api.get("/api/v1/me/").status_code == 401


# --- Strong passwords (one test per validator) -------------------------------------------------------------------


@pytest.mark.parametrize(
    ("password", "code"),
    [
        ("Xq7#vLp2!aZ", "password_too_short"),  # 11 characters: the minimum is 12
        ("qwerty123456", "password_too_common"),  # on Django's list of common passwords
        ("830571946205", "password_entirely_numeric"),
        ("iom_af_staff_2026", "password_too_similar"),  # close to the username
    ],
)
def test_password_validators_refuse_weak_passwords(world, password, code):
    with pytest.raises(ValidationError) as exc:
        validate_password(password, user=world.iom_af_staff)
    assert code in [error.code for error in exc.value.error_list]


def test_password_validators_accept_a_strong_password(world):
    validate_password("violet-harbour-quietly-47", user=world.iom_af_staff)


def test_password_change_page_refuses_a_short_password(world):
    client = sign_in(world.iom_af_staff)
    response = client.post(
        reverse("password_change"),
        {
            "old_password": "correct horse battery staple",
            "new_password1": "Xq7#vLp2!aZ",
            "new_password2": "Xq7#vLp2!aZ",
        },
    )
    assert response.status_code == 200 and "new_password2" in response.context["form"].errors
