"""Browser views of the platform: every URL as every role, refusals, bad input, CSRF, password reset, languages."""

from __future__ import annotations

import re
from types import SimpleNamespace

import pytest
from django.core import mail
from django.core.management import call_command
from django.db import transaction
from django.test import Client
from django.urls import URLPattern, URLResolver, reverse
from django.utils import timezone

from jointops import access, services, web_urls
from jointops.choices import Role
from jointops.models import ApiClient, Membership, Office, User
from tests.factories.jointops import PASSWORD, UserFactory

# --- The world as seen from each side ------------------------------------------------------------------
#
# Each actor is checked against three targets: a record of the office the field staff and manager work at
# ("own"), of another office of the same organisation ("other"), and of the other agency ("agency").

ACTORS = {
    # key: (world attribute, role letter in the table below)
    "iom_field_staff": ("iom_af_staff", "F"),
    "iom_manager": ("iom_af_manager", "M"),
    "iom_hq_focal_point": ("iom_hq_focal", "H"),
    "iom_administrator": ("iom_admin", "A"),
    "unhcr_field_staff": ("unhcr_af_staff", "F"),
    "unhcr_manager": ("unhcr_af_manager", "M"),
    "unhcr_hq_focal_point": ("unhcr_hq_focal", "H"),
    "unhcr_administrator": ("unhcr_admin", "A"),
    "iom_no_role": ("iom_no_role", "N"),
}


def _targets(world, side: str) -> dict[str, SimpleNamespace]:
    """own / other / agency records for an actor of `side` ("iom" or "unhcr")."""
    iom = SimpleNamespace(
        office=world.iom_af,
        user=world.iom_af_staff,
        client=world.iom_af_client,
    )
    iom_other = SimpleNamespace(office=world.iom_de, user=world.iom_de_staff, client=world.iom_de_client)
    unhcr = SimpleNamespace(office=world.unhcr_af, user=world.unhcr_af_staff, client=world.unhcr_af_client)
    unhcr_other = SimpleNamespace(office=world.unhcr_de, user=world.unhcr_de_staff, client=world.unhcr_de_client)
    for target in (iom, iom_other, unhcr, unhcr_other):
        target.membership = Membership.objects.get(user=target.user, office=target.office)
    if side == "iom":
        return {"own": iom, "other": iom_other, "agency": unhcr}
    return {"own": unhcr, "other": unhcr_other, "agency": iom}


@pytest.fixture
def full_world(world):
    """build_world() plus one API client per office of interest and a user without any role."""
    for attr, admin, office in (
        ("iom_af_client", world.iom_admin, world.iom_af),
        ("iom_de_client", world.iom_admin, world.iom_de),
        ("unhcr_af_client", world.unhcr_admin, world.unhcr_af),
        ("unhcr_de_client", world.unhcr_admin, world.unhcr_de),
    ):
        client, _token = services.api_client_create(actor=admin, name=attr, office=office, scopes=["offices:read"])
        setattr(world, attr, client)
    world.iom_no_role = UserFactory(username="iom_no_role", organisation=world.iom)
    return world


# --- The table: URL × role × target -> status, per jointops.access.MATRIX ---------------------------------
#
# Codes: 2 = 200 page, 3 = 302 done (redirect), 4 = 403 refused (the record is visible, the action is not
# allowed), N = 404 (the record is hidden). Targetless URLs have one code per role; others have three
# (own office, other office of the same organisation, the other agency). Roles: F field staff, M office
# manager, H HQ focal point, A administrator, N no role at all.

TABLE = {
    # name: (method, target kind, {role: codes})
    "home": ("get", None, {"F": "2", "M": "2", "H": "2", "A": "2", "N": "2"}),
    # office: view by every role (the directory), add/change by administrators of the organisation
    "jointops:office_list": ("get", None, {"F": "2", "M": "2", "H": "2", "A": "2", "N": "4"}),
    "jointops:office_create": ("get", None, {"F": "4", "M": "4", "H": "4", "A": "2", "N": "4"}),
    "jointops:office_detail": ("get", "office", {"F": "222", "M": "222", "H": "222", "A": "222", "N": "NNN"}),
    "jointops:office_update": ("get", "office", {"F": "444", "M": "444", "H": "444", "A": "224", "N": "NNN"}),
    # user: view by managers (their offices) and administrators (their organisation); change by administrators
    "jointops:user_list": ("get", None, {"F": "4", "M": "2", "H": "4", "A": "2", "N": "4"}),
    "jointops:user_create": ("get", None, {"F": "4", "M": "4", "H": "4", "A": "2", "N": "4"}),
    "jointops:user_detail": ("get", "user", {"F": "NNN", "M": "2NN", "H": "NNN", "A": "22N", "N": "NNN"}),
    "jointops:user_activate": ("post", "user", {"F": "NNN", "M": "4NN", "H": "NNN", "A": "33N", "N": "NNN"}),
    "jointops:user_deactivate": ("post", "user", {"F": "NNN", "M": "4NN", "H": "NNN", "A": "33N", "N": "NNN"}),
    "jointops:membership_set": ("get", "user", {"F": "NNN", "M": "4NN", "H": "NNN", "A": "22N", "N": "NNN"}),
    "jointops:membership_remove": (
        "post",
        "membership",
        {"F": "NNN", "M": "4NN", "H": "NNN", "A": "33N", "N": "NNN"},
    ),
    # api_client: administrators of the client's organisation only
    "jointops:api_client_list": ("get", None, {"F": "4", "M": "4", "H": "4", "A": "2", "N": "4"}),
    "jointops:api_client_create": ("get", None, {"F": "4", "M": "4", "H": "4", "A": "2", "N": "4"}),
    "jointops:api_client_detail": ("get", "client", {"F": "NNN", "M": "NNN", "H": "NNN", "A": "22N", "N": "NNN"}),
    "jointops:api_client_revoke": ("get", "client", {"F": "NNN", "M": "NNN", "H": "NNN", "A": "22N", "N": "NNN"}),
    "jointops:api_client_revoke:post": (
        "post",
        "client",
        {"F": "NNN", "M": "NNN", "H": "NNN", "A": "33N", "N": "NNN"},
    ),
    # access_log: HQ focal points and administrators
    "jointops:access_log_list": ("get", None, {"F": "4", "M": "4", "H": "2", "A": "2", "N": "4"}),
}

CODES = {"2": 200, "3": 302, "4": 403, "N": 404}


def _url(name: str, target: SimpleNamespace | None, kind: str | None) -> str:
    name = name.removesuffix(":post")
    if kind is None:
        return reverse(name)
    if kind == "membership":
        return reverse(name, args=[target.user.pk, target.membership.pk])
    return reverse(name, args=[getattr(target, kind).pk])


def _web_url_names() -> set[str]:
    names = set()

    def walk(patterns, namespace=""):
        for pattern in patterns:
            if isinstance(pattern, URLResolver):
                walk(pattern.url_patterns, pattern.namespace or namespace)
            elif isinstance(pattern, URLPattern) and pattern.name:
                names.add(f"{namespace}:{pattern.name}" if namespace else pattern.name)

    walk(web_urls.urlpatterns)
    return names


AUTH_URL_NAMES = {
    "login",
    "logout",
    "password_change",
    "password_change_done",
    "password_reset",
    "password_reset_done",
    "password_reset_confirm",
    "password_reset_complete",
}


def test_table_covers_every_url_of_web_urls():
    table_names = {name.removesuffix(":post") for name in TABLE}
    assert _web_url_names() == table_names | AUTH_URL_NAMES


def test_table_agrees_with_access_matrix():
    """The table restates MATRIX: a role MATRIX allows succeeds on its own office's record; others never do."""
    letters = {"F": Role.FIELD_STAFF, "M": Role.OFFICE_MANAGER, "H": Role.HQ_FOCAL_POINT, "A": Role.ADMINISTRATOR}
    resources = {"office": "office", "user": "user", "membership": "user", "api_client": "api_client"}
    resources["access_log"] = "access_log"
    checked = 0
    for name, (_method, _kind, rows) in TABLE.items():
        stem = name.removesuffix(":post").removeprefix("jointops:")
        resource = next((r for prefix, r in resources.items() if stem.startswith(prefix)), None)
        if resource is None:
            continue
        if stem.endswith(("_list", "_detail")):
            action = access.VIEW
        elif stem.endswith("_create"):
            action = access.ADD
        else:
            action = access.CHANGE
        for letter, role in letters.items():
            allowed = role in access.MATRIX[resource].get(action, ())
            assert (rows[letter][0] in "23") == allowed, (name, letter)
            checked += 1
    assert checked == 4 * (len(TABLE) - 1)


@pytest.mark.parametrize("name", sorted(TABLE))
def test_web_url_every_role_and_target_answers_per_matrix(full_world, name):
    method, kind, rows = TABLE[name]
    mismatches = []
    for actor_key, (attr, letter) in ACTORS.items():
        actor = getattr(full_world, attr)
        side = actor_key.split("_")[0]
        targets = _targets(full_world, side)
        client = Client()
        client.force_login(actor)
        codes = rows[letter]
        places = ["own"] if kind is None else ["own", "other", "agency"]
        for place, code in zip(places, codes, strict=True):
            url = _url(name, targets[place], kind)
            with transaction.atomic():  # each request's writes are undone, so the next one sees the same world
                response = client.post(url) if method == "post" else client.get(url)
                transaction.set_rollback(True)
            if response.status_code != CODES[code]:
                mismatches.append(
                    f"{actor_key} {place} {method.upper()} {url}: {response.status_code} != {CODES[code]}"
                )
    assert mismatches == []


@pytest.mark.parametrize("name", sorted(TABLE))
def test_web_url_anonymous_redirects_to_login(full_world, name):
    method, kind, _rows = TABLE[name]
    url = _url(name, _targets(full_world, "iom")["own"], kind)
    response = Client().post(url) if method == "post" else Client().get(url)
    assert response.status_code == 302
    assert response["Location"].startswith(reverse("login") + "?next=")


def test_navigation_offers_only_allowed_sections(full_world, client):
    client.force_login(full_world.iom_af_staff)
    html = client.get(reverse("home")).content.decode()
    assert reverse("jointops:office_list") in html
    assert reverse("jointops:user_list") not in html
    assert reverse("jointops:api_client_list") not in html
    assert reverse("jointops:access_log_list") not in html
    client.force_login(full_world.iom_admin)
    html = client.get(reverse("home")).content.decode()
    for name in ("office_list", "user_list", "api_client_list", "access_log_list"):
        assert reverse(f"jointops:{name}") in html


def test_pages_are_not_cached_by_browsers(full_world, client):
    client.force_login(full_world.iom_admin)
    response = client.get(reverse("jointops:user_detail", args=[full_world.iom_af_staff.pk]))
    assert response.status_code == 200
    assert response["Cache-Control"] == "no-store"


# --- Home per role ----------------------------------------------------------------------------------


def test_home_field_staff_shows_office_counterpart_and_no_dead_links(full_world, client):
    client.force_login(full_world.iom_af_staff)
    html = client.get(reverse("home")).content.decode()
    assert "IOM-AF-KBL" in html and "UNHCR-AF-KBL" in html
    assert "Return cases" in html and "Letters of Understanding" in html
    for href in set(re.findall(r'href="([^"#]+)"', html)):
        if href.startswith("/static/"):
            continue
        assert client.get(href).status_code == 200, href  # no dead link, no link to a refused page


def test_home_manager_lists_staff_of_their_office_only(full_world, client):
    client.force_login(full_world.iom_af_manager)
    html = client.get(reverse("home")).content.decode()
    assert full_world.iom_af_staff.get_absolute_url() in html
    assert full_world.iom_de_staff.get_absolute_url() not in html


def test_home_hq_focal_point_lists_organisation_offices_by_country(full_world, client):
    client.force_login(full_world.iom_hq_focal)
    response = client.get(reverse("home"))
    html = response.content.decode()
    assert "Afghanistan" in html and "Germany" in html
    assert "IOM-DE-BER" in html and "UNHCR-AF-KBL" not in html


def test_home_administrator_links_to_administration_pages(full_world, client):
    client.force_login(full_world.iom_admin)
    response = client.get(reverse("home"))
    assert response.context["admin_counts"]["api_clients"] == 2
    html = response.content.decode()
    assert reverse("jointops:api_client_create") in html and reverse("jointops:access_log_list") in html


def test_home_user_without_role_sees_clear_message(full_world, client):
    client.force_login(full_world.iom_no_role)
    html = client.get(reverse("home")).content.decode()
    assert "Your account has no role yet" in html
    assert reverse("jointops:office_list") not in html


# --- Attempts to change what belongs to someone else write nothing ----------------------------------


def test_office_update_other_agency_by_administrator_refused_and_unchanged(full_world, client):
    client.force_login(full_world.iom_admin)
    office = full_world.unhcr_af
    history = office.history.count()
    data = {"code": office.code, "name": "Taken over", "level": office.level, "country": "AF"}
    response = client.post(reverse("jointops:office_update", args=[office.pk]), data)
    assert response.status_code == 403
    office.refresh_from_db()
    assert office.name != "Taken over"
    assert office.history.count() == history


def test_office_update_by_manager_of_that_office_refused_and_unchanged(full_world, client):
    client.force_login(full_world.iom_af_manager)
    office = full_world.iom_af
    data = {"code": office.code, "name": "Renamed", "level": office.level, "country": "AF"}
    response = client.post(reverse("jointops:office_update", args=[office.pk]), data)
    assert response.status_code == 403
    office.refresh_from_db()
    assert office.name != "Renamed"


def test_office_create_by_field_staff_refused_and_nothing_written(full_world, client):
    client.force_login(full_world.iom_af_staff)
    before = Office.objects.count()
    response = client.post(reverse("jointops:office_create"), {"code": "IOM-X", "name": "X", "level": "hq"})
    assert response.status_code == 403
    assert Office.objects.count() == before


def test_office_create_with_parent_of_other_agency_gives_field_error(full_world, client):
    client.force_login(full_world.iom_admin)
    before = Office.objects.count()
    data = {
        "code": "IOM-AF-JAL",
        "name": "Jalalabad",
        "level": "field",
        "country": "AF",
        "parent": full_world.unhcr_af.pk,
    }
    response = client.post(reverse("jointops:office_create"), data)
    assert response.status_code == 200
    assert "parent" in response.context["form"].errors
    assert Office.objects.count() == before


def test_user_deactivate_other_agency_by_administrator_404_and_still_active(full_world, client):
    client.force_login(full_world.iom_admin)
    target = full_world.unhcr_af_staff
    assert client.post(reverse("jointops:user_deactivate", args=[target.pk])).status_code == 404
    target.refresh_from_db()
    assert target.is_active


def test_user_deactivate_by_manager_refused_and_still_active(full_world, client):
    client.force_login(full_world.iom_af_manager)
    target = full_world.iom_af_staff
    assert client.post(reverse("jointops:user_deactivate", args=[target.pk])).status_code == 403
    target.refresh_from_db()
    assert target.is_active


def test_user_deactivate_own_account_refused_with_message(full_world, client):
    client.force_login(full_world.iom_admin)
    response = client.post(reverse("jointops:user_deactivate", args=[full_world.iom_admin.pk]), follow=True)
    assert response.status_code == 200
    assert "You cannot deactivate your own account." in response.content.decode()
    full_world.iom_admin.refresh_from_db()
    assert full_world.iom_admin.is_active


def test_user_deactivate_by_administrator_signs_person_out(full_world, client):
    victim = Client()
    victim.force_login(full_world.iom_af_staff)
    client.force_login(full_world.iom_admin)
    response = client.post(reverse("jointops:user_deactivate", args=[full_world.iom_af_staff.pk]))
    assert response.status_code == 302
    full_world.iom_af_staff.refresh_from_db()
    assert not full_world.iom_af_staff.is_active
    assert victim.get(reverse("home")).status_code == 302  # back to the sign-in page


def test_membership_set_for_other_agency_user_404_and_nothing_written(full_world, client):
    client.force_login(full_world.iom_admin)
    target = full_world.unhcr_af_staff
    before = Membership.objects.count()
    data = {"office": full_world.iom_af.pk, "role": Role.FIELD_STAFF}
    assert client.post(reverse("jointops:membership_set", args=[target.pk]), data).status_code == 404
    assert Membership.objects.count() == before


def test_membership_set_at_other_agency_office_gives_field_error(full_world, client):
    client.force_login(full_world.iom_admin)
    target = full_world.iom_af_staff
    data = {"office": full_world.unhcr_af.pk, "role": Role.FIELD_STAFF}
    response = client.post(reverse("jointops:membership_set", args=[target.pk]), data)
    assert response.status_code == 200
    assert "office" in response.context["form"].errors
    assert not Membership.objects.filter(user=target, office=full_world.unhcr_af).exists()


def test_membership_set_administrator_outside_headquarters_gives_role_error(full_world, client):
    client.force_login(full_world.iom_admin)
    target = full_world.iom_af_staff
    data = {"office": full_world.iom_af.pk, "role": Role.ADMINISTRATOR}
    response = client.post(reverse("jointops:membership_set", args=[target.pk]), data)
    assert response.status_code == 200
    assert "headquarters" in " ".join(response.context["form"].errors["role"])
    assert Membership.objects.get(user=target, office=full_world.iom_af).role == Role.FIELD_STAFF


def test_membership_set_by_administrator_changes_role(full_world, client):
    client.force_login(full_world.iom_admin)
    target = full_world.iom_af_staff
    data = {"office": full_world.iom_af.pk, "role": Role.OFFICE_MANAGER}
    response = client.post(reverse("jointops:membership_set", args=[target.pk]), data)
    assert response.status_code == 302
    assert Membership.objects.get(user=target, office=full_world.iom_af).role == Role.OFFICE_MANAGER


def test_membership_remove_by_manager_refused_and_kept(full_world, client):
    client.force_login(full_world.iom_af_manager)
    membership = Membership.objects.get(user=full_world.iom_af_staff, office=full_world.iom_af)
    url = reverse("jointops:membership_remove", args=[full_world.iom_af_staff.pk, membership.pk])
    assert client.post(url).status_code == 403
    assert Membership.objects.filter(pk=membership.pk).exists()


def test_membership_remove_of_another_users_membership_404(full_world, client):
    client.force_login(full_world.iom_admin)
    other = Membership.objects.get(user=full_world.iom_de_staff)
    url = reverse("jointops:membership_remove", args=[full_world.iom_af_staff.pk, other.pk])
    assert client.post(url).status_code == 404
    assert Membership.objects.filter(pk=other.pk).exists()


def test_api_client_create_for_other_agency_office_gives_field_error(full_world, client):
    client.force_login(full_world.iom_admin)
    before = ApiClient.objects.count()
    data = {"name": "Intruder", "office": full_world.unhcr_af.pk, "scopes": ["offices:read"]}
    response = client.post(reverse("jointops:api_client_create"), data)
    assert response.status_code == 200
    assert "office" in response.context["form"].errors
    assert ApiClient.objects.count() == before


def test_api_client_revoke_other_agency_404_and_still_usable(full_world, client):
    client.force_login(full_world.iom_admin)
    target = full_world.unhcr_af_client
    assert client.post(reverse("jointops:api_client_revoke", args=[target.pk])).status_code == 404
    target.refresh_from_db()
    assert target.revoked_at is None


def test_api_client_revoke_by_administrator_revokes(full_world, client):
    client.force_login(full_world.iom_admin)
    target = full_world.iom_af_client
    response = client.post(reverse("jointops:api_client_revoke", args=[target.pk]))
    assert response.status_code == 302
    target.refresh_from_db()
    assert target.revoked_at is not None


def test_api_client_create_shows_token_once_and_stores_hash(full_world, client):
    client.force_login(full_world.iom_admin)
    data = {"name": "MiMOSA", "office": full_world.iom_af.pk, "scopes": ["offices:read"]}
    response = client.post(reverse("jointops:api_client_create"), data)
    assert response.status_code == 200
    token = response.context["token"]
    created = ApiClient.objects.get(name="MiMOSA")
    assert token in response.content.decode()
    assert token not in created.token_hash and services.api_client_authenticate(token=token) == created
    detail = client.get(created.get_absolute_url()).content.decode()
    assert token not in detail and created.token_prefix in detail


# --- Bad input to every form: field error, nothing written, never a 500 -------------------------------

LONG = "A" * 300


def _counts():
    return (Office.objects.count(), User.objects.count(), Membership.objects.count(), ApiClient.objects.count())


def _office_data(**overrides):
    return {"code": "IOM-AF-MZR", "name": "Mazar-i-Sharif", "level": "field", "country": "AF", **overrides}


FORM_CASES = {
    # case: (url builder, post data builder, field expected in error)
    "office_create_empty": ("office_create", lambda w: {}, "code"),
    "office_create_long_code": ("office_create", lambda w: _office_data(code=LONG), "code"),
    "office_create_long_name": ("office_create", lambda w: _office_data(name=LONG), "name"),
    "office_create_nul_name": ("office_create", lambda w: _office_data(name="Maz\x00ar"), "name"),
    "office_create_unicode_code": ("office_create", lambda w: _office_data(code="IOM-АФ-КБЛ"), "code"),
    "office_create_duplicate_code": ("office_create", lambda w: _office_data(code="IOM-AF-KBL"), "code"),
    "office_create_missing_country": ("office_create", lambda w: _office_data(country=""), "country"),
    "office_create_unknown_level": ("office_create", lambda w: _office_data(level="palace"), "level"),
    "office_update_empty": ("office_update", lambda w: {}, "name"),
    "office_update_duplicate_code": (
        "office_update",
        lambda w: _office_data(code="IOM-DE-BER", level="country"),
        "code",
    ),
    "office_update_nul_code": ("office_update", lambda w: _office_data(code="IOM\x00"), "code"),
    "office_update_own_counterpart_agency": (
        "office_update",
        lambda w: _office_data(code="IOM-AF-KBL", counterpart=w.iom_de.pk),
        "counterpart",
    ),
    "user_create_empty": ("user_create", lambda w: {}, "username"),
    "user_create_long_username": ("user_create", lambda w: {"username": LONG, "email": "a@example.org"}, "username"),
    "user_create_nul_username": (
        "user_create",
        lambda w: {"username": "ab\x00c", "email": "a@example.org"},
        "username",
    ),
    "user_create_unicode_username": (
        "user_create",
        lambda w: {"username": "zoë 🙂", "email": "zoe@example.org"},
        "username",
    ),
    "user_create_duplicate_username": (
        "user_create",
        lambda w: {"username": "iom_af_staff", "email": "new@example.org"},
        "username",
    ),
    "user_create_duplicate_email": (
        "user_create",
        lambda w: {"username": "newcomer", "email": "IOM_AF_STAFF@example.org"},
        "email",
    ),
    "user_create_bad_email": ("user_create", lambda w: {"username": "newcomer", "email": "not-an-address"}, "email"),
    "user_create_weak_password": (
        "user_create",
        lambda w: {"username": "newcomer", "email": "n@example.org", "password1": "123", "password2": "123"},
        "password1",
    ),
    "user_create_password_mismatch": (
        "user_create",
        lambda w: {"username": "newcomer", "email": "n@example.org", "password1": PASSWORD, "password2": "x"},
        "password2",
    ),
    "membership_set_empty": ("membership_set", lambda w: {}, "office"),
    "membership_set_nul_office": ("membership_set", lambda w: {"office": "1\x00", "role": "field_staff"}, "office"),
    "membership_set_unknown_role": ("membership_set", lambda w: {"office": w.iom_af.pk, "role": "king"}, "role"),
    "api_client_create_empty": ("api_client_create", lambda w: {}, "name"),
    "api_client_create_long_name": (
        "api_client_create",
        lambda w: {"name": LONG, "office": w.iom_af.pk, "scopes": ["offices:read"]},
        "name",
    ),
    "api_client_create_nul_name": (
        "api_client_create",
        lambda w: {"name": "Mi\x00MOSA", "office": w.iom_af.pk, "scopes": ["offices:read"]},
        "name",
    ),
    "api_client_create_unknown_scope": (
        "api_client_create",
        lambda w: {"name": "MiMOSA", "office": w.iom_af.pk, "scopes": ["offices:write"]},
        "scopes",
    ),
    "api_client_create_no_scope": ("api_client_create", lambda w: {"name": "MiMOSA", "office": w.iom_af.pk}, "scopes"),
    "api_client_create_past_expiry": (
        "api_client_create",
        lambda w: {
            "name": "MiMOSA",
            "office": w.iom_af.pk,
            "scopes": ["offices:read"],
            "expires_at": "2001-01-01T00:00",
        },
        "expires_at",
    ),
    "api_client_create_bad_expiry": (
        "api_client_create",
        lambda w: {"name": "MiMOSA", "office": w.iom_af.pk, "scopes": ["offices:read"], "expires_at": "soon"},
        "expires_at",
    ),
    "api_client_create_unicode_office": (
        "api_client_create",
        lambda w: {"name": "MiMOSA", "office": "🙂", "scopes": ["offices:read"]},
        "office",
    ),
}


def _form_url(kind: str, world) -> str:
    if kind == "office_update":
        return reverse("jointops:office_update", args=[world.iom_af.pk])
    if kind == "membership_set":
        return reverse("jointops:membership_set", args=[world.iom_af_staff.pk])
    return reverse(f"jointops:{kind}")


@pytest.mark.parametrize("case", sorted(FORM_CASES))
def test_form_bad_input_rerenders_with_field_error_and_writes_nothing(full_world, client, case):
    kind, data, field = FORM_CASES[case]
    client.force_login(full_world.iom_admin)
    before = _counts()
    office_name = Office.objects.get(pk=full_world.iom_af.pk).name
    response = client.post(_form_url(kind, full_world), data(full_world))
    assert response.status_code == 200
    form = response.context["form"]
    assert field in form.errors, form.errors
    html = response.content.decode()
    assert f'id="id_{field}_error"' in html and "is-invalid" in html
    assert _counts() == before
    assert Office.objects.get(pk=full_world.iom_af.pk).name == office_name


@pytest.mark.parametrize(
    "data",
    [
        {},
        {"username": LONG, "password": LONG},
        {"username": "iom\x00", "password": "x"},
        {"username": "زيد", "password": "x"},
    ],
)
def test_login_bad_input_rerenders_with_error(full_world, client, data):
    response = client.post(reverse("login"), data)
    assert response.status_code == 200
    assert response.context["form"].errors
    assert "_auth_user_id" not in client.session


def test_login_then_logout_by_post(full_world, client):
    response = client.post(reverse("login"), {"username": "iom_af_staff", "password": PASSWORD})
    assert response.status_code == 302 and response["Location"] == reverse("home")
    assert client.get(reverse("logout")).status_code == 405  # signing out is a POST
    assert client.post(reverse("logout")).status_code == 302
    assert client.get(reverse("home")).status_code == 302


def test_password_change_bad_input_gives_field_error(full_world, client):
    client.force_login(full_world.iom_af_staff)
    data = {"old_password": "wrong", "new_password1": "short", "new_password2": "other"}
    response = client.post(reverse("password_change"), data)
    assert response.status_code == 200
    assert "old_password" in response.context["form"].errors


def test_password_change_success(full_world, client):
    client.force_login(full_world.iom_af_staff)
    new = "a much longer passphrase 42"
    data = {"old_password": PASSWORD, "new_password1": new, "new_password2": new}
    response = client.post(reverse("password_change"), data)
    assert response.status_code == 302 and response["Location"] == reverse("password_change_done")
    full_world.iom_af_staff.refresh_from_db()
    assert full_world.iom_af_staff.check_password(new)


# --- CSRF ---------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "name,args",
    [
        ("jointops:office_create", []),
        ("jointops:api_client_create", []),
        ("logout", []),
        ("set_language", []),
    ],
)
def test_post_without_csrf_token_forbidden(full_world, name, args):
    client = Client(enforce_csrf_checks=True)
    client.force_login(full_world.iom_admin)
    before = _counts()
    response = client.post(reverse(name, args=args), {"name": "X", "code": "IOM-CSRF", "level": "hq"})
    assert response.status_code == 403
    assert _counts() == before


def test_post_with_csrf_token_accepted(full_world):
    client = Client(enforce_csrf_checks=True)
    client.force_login(full_world.iom_admin)
    page = client.get(reverse("jointops:office_create"))
    token = re.search(r'name="csrfmiddlewaretoken" value="([^"]+)"', page.content.decode()).group(1)
    response = client.post(
        reverse("jointops:office_create"),
        {"csrfmiddlewaretoken": token, "code": "IOM-KE-NBO", "name": "Nairobi", "level": "country", "country": "KE"},
    )
    assert response.status_code == 302
    assert Office.objects.filter(code="IOM-KE-NBO", organisation=full_world.iom).exists()


# --- Password reset by e-mail -------------------------------------------------------------------------


def test_password_reset_sends_email_with_working_link(full_world, client):
    response = client.post(reverse("password_reset"), {"email": full_world.iom_af_staff.email})
    assert response.status_code == 302 and response["Location"] == reverse("password_reset_done")
    assert len(mail.outbox) == 1
    message = mail.outbox[0]
    assert message.to == [full_world.iom_af_staff.email]
    assert "jointops" in message.subject and "\n" not in message.subject
    link = re.search(r"http://testserver(/accounts/password/reset/\S+/)", message.body).group(1)
    form_url = client.get(link)["Location"]  # Django swaps the token for a session-held one
    new = "another long passphrase 7"
    response = client.post(form_url, {"new_password1": new, "new_password2": new})
    assert response.status_code == 302 and response["Location"] == reverse("password_reset_complete")
    full_world.iom_af_staff.refresh_from_db()
    assert full_world.iom_af_staff.check_password(new)


def test_password_reset_reaches_account_created_without_password(full_world, client):
    person = services.user_create(
        actor=full_world.iom_admin, organisation=full_world.iom, username="newcomer", email="newcomer@example.org"
    )
    assert not person.has_usable_password()
    client.post(reverse("password_reset"), {"email": "NEWCOMER@example.org"})
    assert [m.to for m in mail.outbox] == [["newcomer@example.org"]]


def test_password_reset_unknown_or_inactive_address_sends_nothing(full_world, client):
    services.user_set_active(actor=None, user=full_world.iom_de_staff, is_active=False)
    for email in ("nobody@example.org", full_world.iom_de_staff.email):
        response = client.post(reverse("password_reset"), {"email": email})
        assert response.status_code == 302
    assert mail.outbox == []


def test_password_reset_bad_address_gives_field_error(full_world, client):
    response = client.post(reverse("password_reset"), {"email": "x\x00@example.org"})
    assert response.status_code == 200
    assert "email" in response.context["form"].errors


# --- Languages ----------------------------------------------------------------------------------------


@pytest.fixture
def translations():
    call_command("compile_translations", verbosity=0)  # .mo files are built, not committed


def test_language_switch_to_arabic_gives_rtl_page(full_world, client, translations):
    client.force_login(full_world.iom_af_staff)
    response = client.post(reverse("set_language"), {"language": "ar", "next": reverse("home")})
    assert response.status_code == 302
    html = client.get(reverse("home")).content.decode()
    assert '<html lang="ar" dir="rtl">' in html
    assert "bootstrap.rtl.min.css" in html
    assert "الرئيسية" in html  # "Home"


def test_language_switch_to_french_gives_french_text(full_world, client, translations):
    client.force_login(full_world.iom_af_staff)
    client.post(reverse("set_language"), {"language": "fr", "next": reverse("home")})
    html = client.get(reverse("home")).content.decode()
    assert '<html lang="fr" dir="ltr">' in html
    assert "Accueil" in html and "Votre bureau" in html
    assert "bootstrap.rtl.min.css" not in html


def test_language_switch_on_login_page_for_anonymous(full_world, client, translations):
    client.post(reverse("set_language"), {"language": "fr", "next": reverse("login")})
    html = client.get(reverse("login")).content.decode()
    assert "Mot de passe oublié" in html and "Se connecter" in html


# --- Lists: filters, pagination, query counts ----------------------------------------------------------


def test_office_list_filter_and_pagination(full_world, client):
    for n in range(30):
        services.office_create(
            actor=None,
            organisation=full_world.iom,
            code=f"IOM-SD-{n:02}",
            name=f"Sudan {n}",
            level="field",
            country="SD",
        )
    client.force_login(full_world.iom_af_staff)
    response = client.get(reverse("jointops:office_list"), {"country": "SD"})
    assert response.context["paginator"].count == 30
    assert len(response.context["object_list"]) == 25
    html = response.content.decode()
    assert "country=SD&amp;page=2" in html
    response = client.get(reverse("jointops:office_list"), {"country": "SD", "page": 2})
    assert len(response.context["object_list"]) == 5
    assert client.get(reverse("jointops:office_list"), {"page": "zz"}).status_code == 404


def test_office_list_invalid_filter_shows_error_not_500(full_world, client):
    client.force_login(full_world.iom_af_staff)
    response = client.get(reverse("jointops:office_list"), {"updated_since": "yesterday", "level": "castle"})
    assert response.status_code == 200
    assert response.context["filter_form"].errors
    assert list(response.context["object_list"]) == []


def test_user_list_role_filter_lists_each_person_once(full_world, client):
    services.membership_set(actor=None, user=full_world.iom_af_staff, office=full_world.iom_de, role="field_staff")
    client.force_login(full_world.iom_admin)
    response = client.get(reverse("jointops:user_list"), {"role": "field_staff"})
    people = list(response.context["object_list"])
    assert people.count(full_world.iom_af_staff) == 1
    assert full_world.unhcr_af_staff not in people


def test_access_log_list_shows_own_organisation_only(full_world, client):
    from jointops.audit import log_access

    log_access(actor=full_world.iom_af_staff, action="view", resource="beneficiary", object_ids=[1])
    log_access(actor=full_world.unhcr_af_staff, action="view", resource="beneficiary", object_ids=[2])
    client.force_login(full_world.iom_hq_focal)
    response = client.get(reverse("jointops:access_log_list"), {"resource": "beneficiary"})
    entries = list(response.context["object_list"])
    assert [e.user for e in entries] == [full_world.iom_af_staff]


@pytest.mark.parametrize(
    "name,queries",
    [
        ("jointops:office_list", 12),
        ("jointops:user_list", 13),
        ("jointops:api_client_list", 12),
        ("jointops:access_log_list", 13),
    ],
)
def test_list_page_query_count_is_fixed(full_world, django_assert_num_queries, name, queries):
    from jointops.audit import log_access

    for n in range(5):
        log_access(actor=full_world.iom_af_staff, action="view", resource="beneficiary", object_ids=[n])
        services.api_client_create(
            actor=full_world.iom_admin, name=f"extra {n}", office=full_world.iom_de, scopes=["offices:read"]
        )
    client = Client()
    client.force_login(full_world.iom_admin)
    client.get(reverse("home"))  # the session and language settle on the first request
    with django_assert_num_queries(queries):
        assert client.get(reverse(name)).status_code == 200


def test_office_detail_shows_staff_to_manager_not_to_field_staff(full_world, client):
    url = full_world.iom_af.get_absolute_url()
    client.force_login(full_world.iom_af_manager)
    assert full_world.iom_af_staff.get_absolute_url() in client.get(url).content.decode()
    client.force_login(full_world.iom_af_staff)
    response = client.get(url)
    assert response.context.get("staff") is None
    assert full_world.iom_af_manager.get_absolute_url() not in response.content.decode()


def test_user_detail_offers_actions_only_to_administrator(full_world, client):
    url = full_world.iom_af_staff.get_absolute_url()
    deactivate = reverse("jointops:user_deactivate", args=[full_world.iom_af_staff.pk])
    client.force_login(full_world.iom_af_manager)
    assert deactivate not in client.get(url).content.decode()
    client.force_login(full_world.iom_admin)
    assert deactivate in client.get(url).content.decode()


def test_user_create_then_role_flow(full_world, client):
    client.force_login(full_world.iom_admin)
    data = {"username": "amina", "email": "amina@example.org", "first_name": "Amina", "last_name": "Haidari"}
    response = client.post(reverse("jointops:user_create"), data)
    person = User.objects.get(username="amina")
    assert person.organisation == full_world.iom and not person.has_usable_password()
    assert response["Location"] == reverse("jointops:membership_set", args=[person.pk])
    response = client.post(response["Location"], {"office": full_world.iom_af.pk, "role": Role.FIELD_STAFF})
    assert response.status_code == 302
    assert Membership.objects.filter(user=person, office=full_world.iom_af, role=Role.FIELD_STAFF).exists()


def test_office_create_and_update_by_administrator(full_world, client):
    client.force_login(full_world.iom_admin)
    data = _office_data(parent=full_world.iom_af.pk, counterpart=full_world.unhcr_de.pk)
    response = client.post(reverse("jointops:office_create"), data)
    office = Office.objects.get(code="IOM-AF-MZR")
    assert response["Location"] == office.get_absolute_url()
    assert office.organisation == full_world.iom and office.parent == full_world.iom_af
    data = _office_data(name="Mazar", is_active="", parent=full_world.iom_af.pk)
    response = client.post(reverse("jointops:office_update", args=[office.pk]), data)
    assert response.status_code == 302
    office.refresh_from_db()
    assert office.name == "Mazar" and not office.is_active and office.counterpart is None
    assert office.updated_at <= timezone.now()


def test_list_filters_offer_any_and_date_time_pickers(full_world, client):
    client.force_login(full_world.iom_admin)
    html = client.get(reverse("jointops:office_list")).content.decode()
    assert '<option value="" selected>Any</option>' in html
    assert 'type="datetime-local" name="updated_since"' in html
    assert "---------" not in html


def test_office_update_form_of_headquarters_prefills_blank_country(full_world, client):
    client.force_login(full_world.iom_admin)
    response = client.get(reverse("jointops:office_update", args=[full_world.iom_hq.pk]))
    assert response.status_code == 200
    form = response.context["form"]
    assert form.initial["country"] == "" and form.initial["level"] == "hq"
    assert full_world.iom_hq not in form.fields["parent"].queryset  # an office cannot be its own parent
