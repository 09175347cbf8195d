"""Services of the shared records: rules, permission checks, and that a refusal writes nothing."""

import datetime as dt

import pytest
from django.contrib.sessions.models import Session
from django.test import Client
from django.utils import timezone

from jointops import services
from jointops.choices import OfficeLevel, Role
from jointops.exceptions import PermissionRefused, ValidationFailed
from jointops.models import ApiClient, Membership, Office, User
from tests.factories.jointops import PASSWORD


def test_office_create_by_admin_of_the_organisation_creates_it(world):
    office = services.office_create(
        actor=world.iom_admin,
        organisation=world.iom,
        code="iom-af-jaa",
        name="IOM Jalalabad",
        level=OfficeLevel.FIELD,
        country="AF",
        parent=world.iom_af,
    )
    assert office.code == "IOM-AF-JAA"
    assert office.history.first().history_user == world.iom_admin


@pytest.mark.parametrize("actor_name", ["unhcr_admin", "iom_af_manager", "iom_hq_focal", "iom_af_staff"])
def test_office_create_by_anyone_but_the_organisations_admin_is_refused(world, actor_name):
    with pytest.raises(PermissionRefused):
        services.office_create(
            actor=getattr(world, actor_name),
            organisation=world.iom,
            code="IOM-X",
            name="X",
            level=OfficeLevel.COUNTRY,
            country="AF",
        )
    assert not Office.objects.filter(code="IOM-X").exists()


@pytest.mark.parametrize(
    ("changes", "field"),
    [
        ({"counterpart": "iom_de"}, "counterpart"),  # same agency
        ({"parent": "unhcr_hq"}, "parent"),  # another organisation
        ({"code": "bad code!"}, "code"),
        ({"level": OfficeLevel.COUNTRY, "country": ""}, "country"),
    ],
)
def test_office_update_with_invalid_links_names_the_field_and_writes_nothing(world, changes, field):
    before = Office.objects.get(pk=world.iom_af.pk)
    values = {k: getattr(world, v) if isinstance(v, str) and hasattr(world, v) else v for k, v in changes.items()}
    with pytest.raises(ValidationFailed) as exc:
        services.office_update(actor=world.iom_admin, office=world.iom_af, **values)
    assert exc.value.field == field
    after = Office.objects.get(pk=world.iom_af.pk)
    assert (after.code, after.parent_id, after.counterpart_id, after.country) == (
        before.code,
        before.parent_id,
        before.counterpart_id,
        before.country,
    )


def test_office_update_by_other_agency_admin_is_refused(world):
    with pytest.raises(PermissionRefused):
        services.office_update(actor=world.unhcr_admin, office=world.iom_af, name="Hijacked")
    assert Office.objects.get(pk=world.iom_af.pk).name != "Hijacked"


def test_counterpart_link_is_mutual(world):
    assert world.iom_af.counterpart == world.unhcr_af
    assert world.unhcr_af.counterpart == world.iom_af


def test_user_create_with_weak_password_names_the_field_and_writes_nothing(world):
    with pytest.raises(ValidationFailed) as exc:
        services.user_create(
            actor=world.iom_admin, organisation=world.iom, username="new", email="n@example.org", password="short"
        )
    assert exc.value.field == "password"
    assert not User.objects.filter(username="new").exists()


def test_user_create_for_another_organisation_is_refused(world):
    with pytest.raises(PermissionRefused):
        services.user_create(actor=world.iom_admin, organisation=world.unhcr, username="spy", email="s@example.org")
    assert not User.objects.filter(username="spy").exists()


def test_user_create_with_duplicate_email_is_refused(world):
    with pytest.raises(ValidationFailed) as exc:
        services.user_create(
            actor=world.iom_admin, organisation=world.iom, username="other", email=world.iom_af_staff.email.upper()
        )
    assert exc.value.field == "email"


def test_membership_at_other_organisations_office_is_refused(world):
    with pytest.raises((ValidationFailed, PermissionRefused)):
        services.membership_set(
            actor=world.iom_admin, user=world.iom_af_staff, office=world.unhcr_af, role=Role.FIELD_STAFF
        )
    assert not Membership.objects.filter(user=world.iom_af_staff, office=world.unhcr_af).exists()


def test_membership_hq_focal_point_only_at_headquarters(world):
    # MOU §35: focal points are designated at headquarters.
    with pytest.raises(ValidationFailed) as exc:
        services.membership_set(
            actor=world.iom_admin, user=world.iom_af_staff, office=world.iom_af, role=Role.HQ_FOCAL_POINT
        )
    assert exc.value.field == "role"
    assert Membership.objects.get(user=world.iom_af_staff, office=world.iom_af).role == Role.FIELD_STAFF


def test_membership_set_replaces_role_at_the_office(world):
    services.membership_set(
        actor=world.iom_admin, user=world.iom_af_staff, office=world.iom_af, role=Role.OFFICE_MANAGER
    )
    assert Membership.objects.get(user=world.iom_af_staff, office=world.iom_af).role == Role.OFFICE_MANAGER


def test_user_deactivate_ends_every_session_of_the_account(world):
    browser = Client()
    assert browser.login(username="iom_af_staff", password=PASSWORD)
    assert Session.objects.count() == 1
    services.user_set_active(actor=world.iom_admin, user=world.iom_af_staff, is_active=False)
    assert Session.objects.count() == 0


def test_user_deactivate_self_is_refused(world):
    with pytest.raises(ValidationFailed):
        services.user_set_active(actor=world.iom_admin, user=world.iom_admin, is_active=False)


@pytest.mark.parametrize(
    ("kwargs", "field"),
    [
        ({"scopes": ["nonsense:read"]}, "scopes"),
        ({"scopes": ["offices:write"]}, "scopes"),  # the office directory is read-only for partner systems
        ({"scopes": []}, "scopes"),
        ({"name": "  "}, "name"),
        ({"expires_at": timezone.now() - dt.timedelta(days=1)}, "expires_at"),
    ],
)
def test_api_client_create_with_bad_input_names_the_field_and_writes_nothing(world, kwargs, field):
    values = {"name": "Partner", "scopes": ["offices:read"], **kwargs}
    with pytest.raises(ValidationFailed) as exc:
        services.api_client_create(actor=world.iom_admin, office=world.iom_af, **values)
    assert exc.value.field == field
    assert not ApiClient.objects.exists()


def test_api_client_create_by_other_agency_admin_is_refused(world):
    with pytest.raises(PermissionRefused):
        services.api_client_create(actor=world.unhcr_admin, name="X", office=world.iom_af, scopes=["offices:read"])
    assert not ApiClient.objects.exists()


def test_api_client_token_is_stored_hashed(world):
    client, token = services.api_client_create(
        actor=world.iom_admin, name="X", office=world.iom_af, scopes=["offices:read"]
    )
    stored = ApiClient.objects.get(pk=client.pk)
    assert token not in (stored.token_hash, stored.token_prefix)
    assert stored.token_prefix in token


def test_api_client_expired_token_does_not_authenticate(world):
    client, token = services.api_client_create(
        actor=world.iom_admin,
        name="X",
        office=world.iom_af,
        scopes=["offices:read"],
        expires_at=timezone.now() + dt.timedelta(days=1),
    )
    ApiClient.objects.filter(pk=client.pk).update(expires_at=timezone.now() - dt.timedelta(seconds=1))
    assert services.api_client_authenticate(token=token) is None
    assert services.api_client_authenticate(token="jo_garbage") is None
    assert services.api_client_authenticate(token="") is None


def test_counterpart_relink_unlinks_the_previous_counterpart(world):
    services.office_update(actor=world.iom_admin, office=world.iom_af, counterpart=world.unhcr_de)
    world.unhcr_af.refresh_from_db()
    world.unhcr_de.refresh_from_db()
    world.iom_de.refresh_from_db()
    assert world.unhcr_de.counterpart == world.iom_af
    assert world.unhcr_af.counterpart is None  # no longer points back at IOM-AF
    assert world.iom_de.counterpart is None  # UNHCR-DE left it for IOM-AF


def test_counterpart_cleared_on_one_side_is_cleared_on_both(world):
    services.office_update(actor=world.iom_admin, office=world.iom_af, counterpart=None)
    world.unhcr_af.refresh_from_db()
    assert world.unhcr_af.counterpart is None


def test_membership_remove_last_administrator_is_refused(world):
    from jointops.exceptions import Conflict

    membership = Membership.objects.get(user=world.iom_admin, role=Role.ADMINISTRATOR)
    with pytest.raises(Conflict):
        services.membership_remove(actor=world.iom_admin, membership=membership)
    assert Membership.objects.filter(pk=membership.pk).exists()
