"""The access module: who sees which offices' records, for each role and for partner systems."""

from jointops import access, selectors, services
from jointops.choices import Role


def test_office_ids_field_staff_sees_own_office_and_offices_below(world):
    ids = access.office_ids(world.iom_af_staff, "user", access.VIEW)
    assert ids == set()  # field staff do not see staff accounts
    access.MATRIX["_probe"] = {access.VIEW: frozenset({Role.FIELD_STAFF})}
    try:
        ids = access.office_ids(world.iom_af_staff, "_probe", access.VIEW)
        assert ids == {world.iom_af.pk, world.iom_af_field.pk}
        assert access.office_ids(world.iom_field_staff, "_probe", access.VIEW) == {world.iom_af_field.pk}
    finally:
        del access.MATRIX["_probe"]


def test_office_ids_hq_focal_point_covers_whole_organisation_only(world):
    access.MATRIX["_probe"] = {access.VIEW: frozenset({Role.HQ_FOCAL_POINT})}
    try:
        ids = access.office_ids(world.iom_hq_focal, "_probe", access.VIEW)
    finally:
        del access.MATRIX["_probe"]
    assert ids == {world.iom_hq.pk, world.iom_af.pk, world.iom_af_field.pk, world.iom_de.pk}
    assert world.unhcr_af.pk not in ids


def test_user_qs_for_manager_sees_own_office_staff_not_other_office_or_agency(world):
    visible = set(selectors.user_qs_for(principal=world.iom_af_manager))
    assert world.iom_af_staff in visible
    assert world.iom_de_staff not in visible
    assert world.unhcr_af_staff not in visible


def test_user_qs_for_field_staff_sees_no_accounts(world):
    assert not selectors.user_qs_for(principal=world.iom_af_staff).exists()


def test_user_qs_for_admin_sees_own_organisation_only(world):
    visible = set(selectors.user_qs_for(principal=world.iom_admin))
    assert {world.iom_af_staff, world.iom_de_staff, world.iom_hq_focal} <= visible
    assert not any(u.organisation_id == world.unhcr.pk for u in visible)


def test_api_client_scoped_to_its_office_and_scopes(world):
    client, token = services.api_client_create(
        actor=world.iom_admin, name="MiMOSA", office=world.iom_af, scopes=["offices:read"]
    )
    assert access.can(client, access.VIEW, "office")
    assert not access.can(client, access.CHANGE, "office")
    assert not access.can(client, access.VIEW, "user")
    assert services.api_client_authenticate(token=token) == client
    services.api_client_revoke(actor=world.iom_admin, client=client)
    assert services.api_client_authenticate(token=token) is None
