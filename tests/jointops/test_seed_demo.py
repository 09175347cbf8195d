"""`manage.py seed_demo`: demo offices and users through the services; a second run changes nothing."""

from io import StringIO

import pytest
from django.core.management import CommandError, call_command

from jointops import access
from jointops.choices import IOM, UNHCR, OfficeLevel, Role
from jointops.management.commands.seed_demo import DEFAULT_DEMO_PASSWORD, USERS
from jointops.models import Membership, Office, User
from letters_of_understanding import selectors as lou_selectors
from letters_of_understanding.choices import HandoverStatus, LouStatus, PlanStatus
from letters_of_understanding.demo import LETTERS
from letters_of_understanding.models import LetterOfUnderstanding, LouEvent, LouVersion

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
        "letters": list(
            LetterOfUnderstanding.objects.order_by("reference").values_list("reference", "status", "version")
        ),
        "letter_history": LetterOfUnderstanding.history.count(),
        "letter_versions": LouVersion.objects.count(),
        "letter_events": LouEvent.objects.count(),
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


def test_seed_demo_letters_of_understanding_one_in_each_state():
    _seed()

    letters = {lou.title: lou for lou in LetterOfUnderstanding.objects.all()}
    assert set(letters) == {spec.title for spec in LETTERS}
    by_status = {status: [lou for lou in letters.values() if lou.status == status] for status in LouStatus}
    assert len(by_status[LouStatus.DRAFT]) == 1
    assert len(by_status[LouStatus.PARTLY_SIGNED]) == 1
    assert by_status[LouStatus.PARTLY_SIGNED][0].signatures.filter(voided_at__isnull=True).count() == 1
    assert len(by_status[LouStatus.PHASING_OUT]) == 1
    operative = LetterOfUnderstanding.objects.filter(status__in=[LouStatus.IN_FORCE, LouStatus.PHASING_OUT])
    # In force with a review (MOU §47), the next one due within 12 months.
    reviewed = [lou for lou in by_status[LouStatus.IN_FORCE] if lou.reviews.exists()]
    assert len(reviewed) == 1 and reviewed[0].review_due_on == reviewed[0].reviews.get().next_review_due
    # Amended: two versions kept (MOU §46).
    amended = [lou for lou in letters.values() if lou.text_version == 2]
    assert len(amended) == 1 and amended[0].versions.count() == 2
    # Termination notice served, effective at least 90 days later (MOU §45).
    noticed = list(lou_selectors.notice_served(operative))
    assert len(noticed) == 1
    assert (noticed[0].termination_effective_on - noticed[0].termination_notice_served_on).days >= 90
    # Ending within 60 days without an agreed phase-out plan (MOU §39).
    assert lou_selectors.ending_without_agreed_plan(operative, within_days=60).count() == 1
    # Phasing out with an agreed plan, obligations and assets listed (MOU §39-§40).
    phasing_out = by_status[LouStatus.PHASING_OUT][0]
    assert phasing_out.phase_out_plan.status == PlanStatus.AGREED
    assert phasing_out.phase_out_plan.actions.count() == 2
    assert set(phasing_out.obligations.values_list("agency", flat=True)) == {UNHCR, IOM}
    handed_over = phasing_out.handover_items.get(status=HandoverStatus.HANDED_OVER)
    assert handed_over.donor_permits_handover
    assert phasing_out.handover_items.filter(status=HandoverStatus.LISTED, donor_permits_handover=False).exists()
    # Made through the audited services: every letter has its timeline and history.
    for lou in letters.values():
        assert lou.events.exists() and lou.history.exists()


def test_seed_demo_second_run_adds_no_letter_of_understanding():
    _seed()
    count = LetterOfUnderstanding.objects.count()

    _seed()

    assert LetterOfUnderstanding.objects.count() == count == len(LETTERS)
