"""Two-factor sign-in (issue 8): required for office managers, HQ focal points, administrators and superusers,
optional for everyone else; set-up with a QR code, recovery codes shown once and stored hashed, throttled codes,
enforced on every page, the admin and the API (session), never on partner systems' tokens."""

from __future__ import annotations

import pytest
from django.test import Client
from django.urls import reverse
from django_otp import DEVICE_ID_SESSION_KEY
from django_otp.oath import TOTP
from django_otp.plugins.otp_totp.models import TOTPDevice

from accounts import services
from accounts.models import RecoveryCode, hash_recovery_code
from accounts.views import PENDING_KEY
from jointops import services as jointops_services
from jointops.models import AccessLog
from tests.factories.jointops import PASSWORD, UserFactory

pytestmark = [pytest.mark.real_two_factor, pytest.mark.django_db]


def sign_in(user, client: Client | None = None, **extra) -> Client:
    """Sign in with the password through the real login page (no second factor yet)."""
    client = client or Client()
    response = client.post(reverse("login"), {"username": user.username, "password": PASSWORD}, **extra)
    assert response.status_code == 302, response.content.decode()[:500]
    return client


def code_for(key_hex: str) -> str:
    from binascii import unhexlify

    return f"{TOTP(unhexlify(key_hex)).token():06d}"


def device_for(user) -> TOTPDevice:
    return TOTPDevice.objects.create(user=user, name="phone", confirmed=True)


@pytest.mark.parametrize("who", ["iom_af_manager", "iom_hq_focal", "iom_admin", "superuser"])
def test_required_role_without_device_is_sent_to_setup_everywhere(world, who):
    user = UserFactory(username="root", is_superuser=True, is_staff=True) if who == "superuser" else getattr(world, who)
    client = sign_in(user)

    for path in ("/", "/offices/", "/admin/", reverse("accounts:security"), reverse("accounts:two_factor_verify")):
        response = client.get(path)
        assert response.status_code == 302, path
        assert response["Location"].startswith(reverse("accounts:two_factor_setup")), path
    assert client.get(reverse("accounts:two_factor_setup")).status_code == 200
    assert client.post(reverse("logout")).status_code == 302  # signing out stays open
    assert client.get("/").status_code == 302 and client.get("/")["Location"].startswith(reverse("login"))


def test_field_staff_without_device_is_not_asked(world):
    client = sign_in(world.iom_af_staff)
    assert client.get("/").status_code == 200
    assert client.get(reverse("accounts:security")).status_code == 200


def test_setup_shows_secret_and_serves_qr_svg_from_the_pending_secret(world):
    client = sign_in(world.iom_hq_focal)
    assert client.get(reverse("accounts:two_factor_qr")).status_code == 404  # nothing pending yet
    page = client.get(reverse("accounts:two_factor_setup"))
    key = client.session[PENDING_KEY]
    secret = services.totp_key_base32(key)
    html = page.content.decode()
    assert secret in html
    assert f'src="{reverse("accounts:two_factor_qr")}"' in html
    assert "<script>" not in html and "style=" not in html and "data:image" not in html  # strict CSP holds

    qr = client.get(reverse("accounts:two_factor_qr"))
    assert qr.status_code == 200 and qr["Content-Type"] == "image/svg+xml"
    assert qr.content.startswith(b"<svg") and b"<script" not in qr.content
    # The QR code carries the same secret across requests until confirmed.
    client.get(reverse("accounts:two_factor_setup"))
    assert client.session[PENDING_KEY] == key
    assert services.totp_config_url(user=world.iom_hq_focal, key=key).startswith("otpauth://totp/jointops")
    assert f"secret={secret}" in services.totp_config_url(user=world.iom_hq_focal, key=key)


def test_setup_confirm_shows_ten_recovery_codes_once_stored_hashed_then_home(world):
    user = world.iom_admin
    client = sign_in(user)
    client.get(reverse("accounts:two_factor_setup"))
    key = client.session[PENDING_KEY]

    response = client.post(reverse("accounts:two_factor_setup"), {"code": code_for(key), "next": "/offices/"})

    assert response.status_code == 200
    codes = response.context["codes"]
    assert len(codes) == 10 and len(set(codes)) == 10
    html = response.content.decode()
    assert all(code in html for code in codes)
    stored = list(RecoveryCode.objects.filter(user=user).values_list("code_hash", flat=True))
    assert sorted(stored) == sorted(hash_recovery_code(code) for code in codes)
    assert not any(code in h or code.replace("-", "") in h for code in codes for h in stored)
    device = TOTPDevice.objects.get(user=user)
    assert device.confirmed and device.key == key
    assert PENDING_KEY not in client.session
    assert client.session[DEVICE_ID_SESSION_KEY] == device.persistent_id
    assert 'href="/offices/"' in html
    assert client.get("/offices/").status_code == 200
    # Shown once: no page shows them again.
    assert not any(code in client.get(reverse("accounts:security")).content.decode() for code in codes)
    assert AccessLog.objects.filter(action="two_factor_enrol", user=user, object_ids=[str(user.pk)]).exists()


@pytest.mark.parametrize("code", ["000000", "12345", "abcdef", "", "1" * 40, "12\x003456"])
def test_setup_wrong_code_refused_naming_the_field_nothing_written(world, code):
    client = sign_in(world.iom_af_manager)
    client.get(reverse("accounts:two_factor_setup"))
    key = client.session[PENDING_KEY]
    if code == "000000" and code_for(key) == "000000":
        code = "000001"
    response = client.post(reverse("accounts:two_factor_setup"), {"code": code})
    assert response.status_code == 200
    assert "code" in response.context["form"].errors
    assert not TOTPDevice.objects.exists() and not RecoveryCode.objects.exists()
    assert client.get("/").status_code == 302


def test_user_with_device_must_verify_with_a_code_then_goes_on(world):
    user = world.iom_af_manager
    device = device_for(user)
    client = sign_in(user)

    response = client.get("/offices/?country=AF")
    assert response.status_code == 302
    assert response["Location"] == reverse("accounts:two_factor_verify") + "?next=%2Foffices%2F%3Fcountry%3DAF"
    for path in ("/", "/admin/", reverse("accounts:two_factor_setup"), reverse("accounts:two_factor_qr")):
        assert client.get(path)["Location"].startswith(reverse("accounts:two_factor_verify")), path
    assert client.get("/healthz").status_code in (200, 503)  # never redirected
    assert client.get(reverse("accounts:two_factor_verify")).status_code == 200

    response = client.post(
        reverse("accounts:two_factor_verify"), {"code": code_for(device.key), "next": "/offices/?country=AF"}
    )

    assert response.status_code == 302 and response["Location"] == "/offices/?country=AF"
    assert client.get("/offices/").status_code == 200
    assert client.get("/").status_code == 200


def test_verify_refuses_an_outside_next_address(world):
    device = device_for(world.iom_af_manager)
    client = sign_in(world.iom_af_manager)
    response = client.post(
        reverse("accounts:two_factor_verify"), {"code": code_for(device.key), "next": "https://evil.example/"}
    )
    assert response["Location"] == reverse("home")


def test_optional_user_with_device_must_verify_too(world):
    device = device_for(world.iom_af_staff)
    client = sign_in(world.iom_af_staff)
    assert client.get("/")["Location"].startswith(reverse("accounts:two_factor_verify"))
    client.post(reverse("accounts:two_factor_verify"), {"code": code_for(device.key)})
    assert client.get("/").status_code == 200


def test_wrong_code_refused_and_session_stays_unverified(world):
    device = device_for(world.iom_af_manager)
    client = sign_in(world.iom_af_manager)
    wrong = "000000" if code_for(device.key) != "000000" else "000001"
    response = client.post(reverse("accounts:two_factor_verify"), {"code": wrong})
    assert response.status_code == 200 and "code" in response.context["form"].errors
    assert DEVICE_ID_SESSION_KEY not in client.session
    assert client.get("/").status_code == 302


def test_wrong_codes_throttle_even_the_right_code(world, settings):
    # django-otp's back-off: after n wrong codes the next try waits factor * 2^(n-1) seconds. A large factor makes the
    # wait certain to be running when the right code comes (no timing in the test).
    settings.OTP_TOTP_THROTTLE_FACTOR = 3600
    device = device_for(world.iom_af_manager)
    client = sign_in(world.iom_af_manager)
    wrong = "000000" if code_for(device.key) != "000000" else "000001"

    assert client.post(reverse("accounts:two_factor_verify"), {"code": wrong}).status_code == 200
    device.refresh_from_db()
    assert device.throttling_failure_count == 1

    response = client.post(reverse("accounts:two_factor_verify"), {"code": code_for(device.key)})

    assert response.status_code == 429
    assert "Too many wrong codes" in response.content.decode()
    assert DEVICE_ID_SESSION_KEY not in client.session
    device.refresh_from_db()
    assert device.throttling_failure_count == 1  # a refused try is not even checked
    # The back-off lives on the device, not the session: another sign-in waits just the same.
    other = sign_in(world.iom_af_manager)
    assert other.post(reverse("accounts:two_factor_verify"), {"code": code_for(device.key)}).status_code == 429


def test_wrong_recovery_codes_count_against_the_same_throttle(world):
    device = device_for(world.iom_af_manager)
    assert services.two_factor_verify(user=world.iom_af_manager, code="AAAA-BBBB-CCCC-DDDD") is None
    device.refresh_from_db()
    assert device.throttling_failure_count == 1
    with pytest.raises(services.TooManyAttempts):
        services.two_factor_verify(user=world.iom_af_manager, code=code_for(device.key))


def test_code_used_at_setup_cannot_be_replayed(world):
    user = world.iom_af_manager
    client = sign_in(user)
    client.get(reverse("accounts:two_factor_setup"))
    key = client.session[PENDING_KEY]
    code = code_for(key)
    client.post(reverse("accounts:two_factor_setup"), {"code": code})
    other = sign_in(user)
    response = other.post(reverse("accounts:two_factor_verify"), {"code": code})
    assert response.status_code == 200 and "code" in response.context["form"].errors
    assert other.get("/").status_code == 302


def test_recovery_code_signs_in_once_only(world):
    user = world.iom_hq_focal
    device = device_for(user)
    codes = services.recovery_codes_regenerate(actor=user)
    client = sign_in(user)

    response = client.post(reverse("accounts:two_factor_verify"), {"code": codes[0].lower().replace("-", " ")})

    assert response.status_code == 302
    assert client.get("/").status_code == 200
    assert RecoveryCode.objects.filter(user=user, used_at__isnull=False).count() == 1
    device.refresh_from_db()
    assert device.throttling_failure_count == 0
    again = sign_in(user)
    response = again.post(reverse("accounts:two_factor_verify"), {"code": codes[0]})
    assert response.status_code == 200 and "code" in response.context["form"].errors
    assert again.get("/").status_code == 302


def test_regenerating_recovery_codes_invalidates_the_old_ones_and_shows_the_new_once(world):
    user = world.iom_af_manager
    device_for(user)
    old = services.recovery_codes_regenerate(actor=user)
    client = Client()
    client.force_login(user)
    session = client.session
    session[DEVICE_ID_SESSION_KEY] = TOTPDevice.objects.get(user=user).persistent_id
    session.save()

    response = client.post(reverse("accounts:recovery_codes_regenerate"))

    assert response.status_code == 200
    new = response.context["codes"]
    assert len(new) == 10 and not set(new) & set(old)
    assert services.two_factor_verify(user=user, code=old[0]) is None
    TOTPDevice.objects.filter(user=user).update(throttling_failure_count=0, throttling_failure_timestamp=None)
    assert services.two_factor_verify(user=user, code=new[0]) is not None
    assert AccessLog.objects.filter(action="recovery_codes_regenerate", user=user).count() == 2


def _verified_client(user) -> Client:
    device = TOTPDevice.objects.filter(user=user, confirmed=True).first() or device_for(user)
    client = Client()
    client.force_login(user)
    session = client.session
    session[DEVICE_ID_SESSION_KEY] = device.persistent_id
    session.save()
    return client


def test_optional_user_enrols_from_the_security_page_and_may_switch_off(world):
    user = world.iom_af_staff
    client = sign_in(user)
    assert "Set up two-factor sign-in" in client.get(reverse("accounts:security")).content.decode()
    client.get(reverse("accounts:two_factor_setup"))
    client.post(reverse("accounts:two_factor_setup"), {"code": code_for(client.session[PENDING_KEY])})
    assert TOTPDevice.objects.filter(user=user, confirmed=True).exists()
    assert "Switch off" in client.get(reverse("accounts:security")).content.decode()
    # Next sign-in asks for the code.
    assert sign_in(user).get("/")["Location"].startswith(reverse("accounts:two_factor_verify"))

    response = client.post(reverse("accounts:two_factor_disable"))

    assert response.status_code == 302
    assert not TOTPDevice.objects.filter(user=user).exists() and not RecoveryCode.objects.filter(user=user).exists()
    assert client.get("/").status_code == 200
    assert AccessLog.objects.filter(action="two_factor_disable", user=user).exists()


def test_required_user_cannot_switch_two_factor_off(world):
    user = world.iom_af_manager
    client = _verified_client(user)
    assert "Switch off" not in client.get(reverse("accounts:security")).content.decode()
    response = client.post(reverse("accounts:two_factor_disable"), follow=True)
    assert "cannot be switched off" in response.content.decode()
    assert TOTPDevice.objects.filter(user=user).exists()


def test_promoted_user_is_asked_to_set_up_at_the_next_request(world):
    client = sign_in(world.iom_af_staff)
    assert client.get("/").status_code == 200
    jointops_services.membership_set(
        actor=world.iom_admin, user=world.iom_af_staff, office=world.iom_af, role="office_manager"
    )
    assert client.get("/")["Location"].startswith(reverse("accounts:two_factor_setup"))


# --- API -------------------------------------------------------------------------------------------------------------


def test_api_session_without_second_factor_403_error_body(world):
    client = sign_in(world.iom_admin)
    response = client.get("/api/v1/me/")
    assert response.status_code == 403
    assert response.json() == {
        "detail": response.json()["detail"],
        "code": "two_factor_required",
        "errors": [],
    }
    device_for(world.iom_af_manager)
    response = sign_in(world.iom_af_manager).get("/api/v1/offices/")
    assert response.status_code == 403 and response.json()["code"] == "two_factor_required"


def test_api_token_clients_are_not_concerned(world, api_client):
    _client, token = jointops_services.api_client_create(
        actor=world.iom_admin, name="Partner", office=world.iom_af, scopes=["offices:read"]
    )
    api_client.credentials(HTTP_AUTHORIZATION=f"Token {token}")
    assert api_client.get("/api/v1/me/").status_code == 200


def test_api_session_after_second_factor_works(world):
    assert _verified_client(world.iom_admin).get("/api/v1/me/").status_code == 200


# --- Administrators: reset a lost phone, sign a user out everywhere -------------------------------------------------


def test_admin_resets_two_factor_of_staff_of_own_organisation(world):
    target = world.iom_af_manager
    device_for(target)
    services.recovery_codes_regenerate(actor=target)
    victim_session = _verified_client(target)
    admin = _verified_client(world.iom_admin)
    page = admin.get(target.get_absolute_url()).content.decode()
    assert reverse("accounts:staff_two_factor_reset", args=[target.pk]) in page

    response = admin.post(reverse("accounts:staff_two_factor_reset", args=[target.pk]))

    assert response.status_code == 302 and response["Location"] == target.get_absolute_url()
    assert not TOTPDevice.objects.filter(user=target).exists()
    assert not RecoveryCode.objects.filter(user=target).exists()
    log = AccessLog.objects.get(action="two_factor_reset")
    assert log.user == world.iom_admin and log.object_ids == [str(target.pk)] and log.resource == "user"
    assert victim_session.get("/")["Location"].startswith(reverse("login"))  # signed out everywhere
    # At the next sign-in the manager sets it up again.
    assert sign_in(target).get("/")["Location"].startswith(reverse("accounts:two_factor_setup"))


def test_two_factor_reset_refused_to_others(world):
    target = world.iom_af_manager
    device_for(target)
    url = reverse("accounts:staff_two_factor_reset", args=[target.pk])
    manager = _verified_client(world.iom_de_manager)
    other_admin = _verified_client(world.unhcr_admin)
    assert other_admin.post(url).status_code == 404  # another organisation's staff: not even visible
    assert _verified_client(world.iom_af_manager).post(url).status_code == 403  # not an administrator
    assert manager.post(url).status_code in (403, 404)
    assert TOTPDevice.objects.filter(user=target).exists()
    page = _verified_client(world.iom_af_manager).get(world.iom_af_staff.get_absolute_url()).content.decode()
    assert reverse("accounts:staff_two_factor_reset", args=[world.iom_af_staff.pk]) not in page
    assert not AccessLog.objects.filter(action="two_factor_reset").exists()


def test_reset_of_a_superuser_needs_a_superuser(world):
    root = UserFactory(username="root", is_superuser=True, organisation=world.iom)
    device_for(root)
    with pytest.raises(services.PermissionRefused):
        services.two_factor_reset(actor=world.iom_admin, user=root)
    assert TOTPDevice.objects.filter(user=root).exists()


def test_verified_session_loses_verification_when_the_device_is_removed(world):
    client = _verified_client(world.iom_af_manager)
    assert client.get("/").status_code == 200
    services.two_factor_reset(actor=world.iom_admin, user=world.iom_af_manager)
    assert client.get("/")["Location"].startswith(reverse("login"))


def test_administrator_cannot_reset_their_own_two_factor_here(world):
    device_for(world.iom_admin)
    with pytest.raises(services.ValidationFailed) as exc:
        services.two_factor_reset(actor=world.iom_admin, user=world.iom_admin)
    assert exc.value.field == "user"
    assert TOTPDevice.objects.filter(user=world.iom_admin).exists()
    assert not AccessLog.objects.filter(action="two_factor_reset").exists()
