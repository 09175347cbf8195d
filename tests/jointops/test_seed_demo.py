"""`manage.py seed_demo`: demo offices and users through the services; a second run changes nothing."""

from io import StringIO

import pytest
from django.core.management import CommandError, call_command

from jointops import access
from jointops.choices import IOM, UNHCR, OfficeLevel, Role
from jointops.management.commands.seed_demo import DEFAULT_DEMO_PASSWORD, USERS
from jointops.models import Membership, Office, User

pytestmark = pytest.mark.django_db


def _seed() -> str:
    out = StringIO()
    call_command("seed_demo", stdout=out)
    return out.getvalue()


def _snapshot() -> dict:
    """Every row the command may touch, including the audit trail, with the fields that could change."""
    return {
        "offices": list(Office.objects.order_by("code").values_list("code", "counterpart__code", "parent__code")),
        "office_history": Office.history.count(),
        "users": list(User.objects.order_by("username").values_list("username", "password", "is_active")),
        "memberships": list(Membership.objects.order_by("pk").values_list("user__username", "office__code", "role")),
        "membership_history": Membership.history.count(),
    }


def test_seed_demo_empty_database_creates_offices_with_counterparts():
    _seed()

    offices = {office.code: office for office in Office.objects.select_related("organisation", "counterpart")}
    assert {"IOM-HQ", "UNHCR-HQ", "IOM-AF-KBL", "UNHCR-AF-KBL", "IOM-DE-BER", "UNHCR-DE-BER"} <= set(offices)
    assert offices["IOM-HQ"].level == OfficeLevel.HEADQUARTERS
    assert offices["UNHCR-HQ"].organisation.code == UNHCR
    assert offices["IOM-AF-KBL"].counterpart.code == "UNHCR-AF-KBL"
    assert offices["UNHCR-AF-KBL"].counterpart.code == "IOM-AF-KBL"
    assert offices["IOM-DE-BER"].counterpart.code == "UNHCR-DE-BER"
    assert offices["UNHCR-DE-BER"].counterpart.code == "IOM-DE-BER"
    assert any(office.level == OfficeLevel.FIELD for office in offices.values())
    assert offices["IOM-AF-KBL"].history.count() >= 1  # created through the audited services


def test_seed_demo_empty_database_creates_one_user_per_role_per_organisation():
    _seed()

    for organisation in (IOM, UNHCR):
        held = set(Membership.objects.filter(user__organisation__code=organisation).values_list("role", flat=True))
        assert held == set(Role)
    field_staff = User.objects.get(username="iom.field")
    assert field_staff.check_password(DEFAULT_DEMO_PASSWORD)
    assert access.roles(field_staff) == {Role.FIELD_STAFF}
    assert access.administers(User.objects.get(username="unhcr.admin"), field_staff.organisation) is False


def test_seed_demo_prints_a_credentials_table():
    output = _seed()

    for spec in USERS:
        line = next(line for line in output.splitlines() if line.startswith(spec.username + " "))
        assert DEFAULT_DEMO_PASSWORD in line
        assert spec.office in line
        assert str(Role(spec.role).label) in line


def test_seed_demo_second_run_changes_nothing_and_prints_credentials_again():
    _seed()
    before = _snapshot()

    output = _seed()

    assert _snapshot() == before
    assert "0 record(s) created" in output
    line = next(line for line in output.splitlines() if line.startswith("iom.field "))
    assert line.split()[:2] == ["iom.field", DEFAULT_DEMO_PASSWORD]


def test_seed_demo_demo_password_from_environment_is_used(monkeypatch):
    monkeypatch.setenv("DEMO_PASSWORD", "another-long-demo-secret")

    output = _seed()

    assert User.objects.get(username="unhcr.hq").check_password("another-long-demo-secret")
    assert "another-long-demo-secret" in output


def test_seed_demo_weak_demo_password_is_refused_naming_it_and_writes_nothing(monkeypatch):
    monkeypatch.setenv("DEMO_PASSWORD", "short")
    offices_before = Office.objects.count()

    with pytest.raises(CommandError, match="DEMO_PASSWORD"):
        _seed()

    assert Office.objects.count() == offices_before
    assert not User.objects.filter(username__in=[spec.username for spec in USERS]).exists()


def test_seed_demo_existing_world_offices_are_reused(world):
    offices_before = Office.objects.count()

    _seed()

    # build_world() already holds every demo office code: none is duplicated or changed.
    assert Office.objects.count() == offices_before
    assert Office.objects.get(code="IOM-AF-KBL").pk == world.iom_af.pk
