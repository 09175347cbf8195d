"""`manage.py seed_demo`: demo offices and one demo user per role per organisation. Idempotent.

Everything is created through jointops.services with actor=None (the system), so the demo data passes the same
rules and leaves the same audit trail as real data. A second run creates and changes nothing and prints the
same credentials again.

Extension points: each app adds demo records in `<app>/demo.py`, a module with a `SEEDERS` list of
`seed_<things>(demo)` functions (see app_seeders()). Each seeder receives the `Demo` (offices by code, users by
username) and must be idempotent (look up by a natural key first, create through the services only when missing).
"""

from __future__ import annotations

import os
from collections.abc import Callable
from dataclasses import dataclass, field
from importlib import import_module

from django.apps import apps
from django.core.management.base import BaseCommand, CommandError
from django.db import transaction

from jointops import services
from jointops.choices import IOM, UNHCR, OfficeLevel, Role
from jointops.exceptions import DomainError
from jointops.models import Membership, Office, Organisation, User

# Demo only: documented in README.md ("Demo users"). Override with DEMO_PASSWORD; never use on real data.
DEFAULT_DEMO_PASSWORD = "jointops-demo-2025"


@dataclass(frozen=True)
class OfficeSpec:
    code: str
    name: str
    organisation: str
    level: str
    country: str = ""
    parent: str | None = None
    counterpart: str | None = None


# Order matters: parents and counterparts come before the offices that point at them.
OFFICES: tuple[OfficeSpec, ...] = (
    OfficeSpec("IOM-HQ", "IOM Headquarters, Geneva", IOM, OfficeLevel.HEADQUARTERS),
    OfficeSpec("UNHCR-HQ", "UNHCR Headquarters, Geneva", UNHCR, OfficeLevel.HEADQUARTERS),
    OfficeSpec("IOM-AF-KBL", "IOM Afghanistan, Kabul", IOM, OfficeLevel.COUNTRY, "AF", "IOM-HQ"),
    OfficeSpec("UNHCR-AF-KBL", "UNHCR Afghanistan, Kabul", UNHCR, OfficeLevel.COUNTRY, "AF", "UNHCR-HQ", "IOM-AF-KBL"),
    OfficeSpec("IOM-AF-HRT", "IOM Herat field office", IOM, OfficeLevel.FIELD, "AF", "IOM-AF-KBL"),
    OfficeSpec("IOM-DE-BER", "IOM Germany, Berlin", IOM, OfficeLevel.COUNTRY, "DE", "IOM-HQ"),
    OfficeSpec("UNHCR-DE-BER", "UNHCR Germany, Berlin", UNHCR, OfficeLevel.COUNTRY, "DE", "UNHCR-HQ", "IOM-DE-BER"),
)


@dataclass(frozen=True)
class UserSpec:
    username: str
    first_name: str
    last_name: str
    organisation: str
    office: str
    role: str


# One demo user per role per organisation.
USERS: tuple[UserSpec, ...] = (
    UserSpec("iom.field", "Farida", "Field (IOM)", IOM, "IOM-AF-KBL", Role.FIELD_STAFF),
    UserSpec("iom.manager", "Omar", "Manager (IOM)", IOM, "IOM-AF-KBL", Role.OFFICE_MANAGER),
    UserSpec("iom.hq", "Helena", "Focal point (IOM)", IOM, "IOM-HQ", Role.HQ_FOCAL_POINT),
    UserSpec("iom.admin", "Ada", "Administrator (IOM)", IOM, "IOM-HQ", Role.ADMINISTRATOR),
    UserSpec("unhcr.field", "Nadia", "Field (UNHCR)", UNHCR, "UNHCR-AF-KBL", Role.FIELD_STAFF),
    UserSpec("unhcr.manager", "Karim", "Manager (UNHCR)", UNHCR, "UNHCR-AF-KBL", Role.OFFICE_MANAGER),
    UserSpec("unhcr.hq", "Henri", "Focal point (UNHCR)", UNHCR, "UNHCR-HQ", Role.HQ_FOCAL_POINT),
    UserSpec("unhcr.admin", "Amal", "Administrator (UNHCR)", UNHCR, "UNHCR-HQ", Role.ADMINISTRATOR),
)


@dataclass
class Demo:
    """What the seeders have built so far; later seeders look offices and users up here."""

    password: str
    offices: dict[str, Office] = field(default_factory=dict)
    users: dict[str, User] = field(default_factory=dict)
    created: int = 0


def seed_offices(demo: Demo) -> None:
    """Both headquarters, two countries with an IOM and a UNHCR office each (counterparts), one field office."""
    organisations = {org.code: org for org in Organisation.objects.filter(code__in=[IOM, UNHCR])}
    for spec in OFFICES:
        office = Office.objects.filter(code=spec.code).first()
        if office is None:
            office = services.office_create(
                actor=None,
                organisation=organisations[spec.organisation],
                code=spec.code,
                name=spec.name,
                level=spec.level,
                country=spec.country,
                parent=demo.offices[spec.parent] if spec.parent else None,
                counterpart=demo.offices[spec.counterpart] if spec.counterpart else None,
            )
            demo.created += 1
        demo.offices[spec.code] = office
    for office in demo.offices.values():  # pick up the counterpart links made from the other side
        office.refresh_from_db()


def seed_staff(demo: Demo) -> None:
    """One user per role per organisation, with the role at the office of the spec."""
    for spec in USERS:
        office = demo.offices[spec.office]
        user = User.objects.filter(username=spec.username).first()
        if user is None:
            user = services.user_create(
                actor=None,
                organisation=office.organisation,
                username=spec.username,
                email=f"{spec.username}@demo.jointops.invalid",
                first_name=spec.first_name,
                last_name=spec.last_name,
                password=demo.password,
            )
            demo.created += 1
        if not Membership.objects.filter(user=user, office=office).exists():
            services.membership_set(actor=None, user=user, office=office, role=spec.role)
            demo.created += 1
        demo.users[spec.username] = user


def app_seeders() -> list[Callable[[Demo], None]]:
    """Each app may ship `<app>/demo.py` with a `SEEDERS` list (people, cases, LoUs...), run in app order."""
    found = []
    for config in apps.get_app_configs():
        try:
            module = import_module(f"{config.name}.demo")
        except ModuleNotFoundError as exc:
            if exc.name != f"{config.name}.demo":
                raise
            continue
        found.extend(module.SEEDERS)
    return found


SEEDERS: list[Callable[[Demo], None]] = [seed_offices, seed_staff]


class Command(BaseCommand):
    help = "Load demo offices and one demo user per role per organisation (idempotent); print their credentials."

    def handle(self, *args, **options):
        password = os.environ.get("DEMO_PASSWORD") or DEFAULT_DEMO_PASSWORD
        demo = Demo(password=password)
        try:
            with transaction.atomic():
                for seeder in [*SEEDERS, *app_seeders()]:
                    seeder(demo)
        except DomainError as exc:
            field_name = "DEMO_PASSWORD" if exc.field == "password" else exc.field
            where = f" ({field_name})" if field_name else ""
            raise CommandError(f"Demo data not loaded{where}: {exc}") from exc
        self.stdout.write(
            f"Demo data: {demo.created} record(s) created, {len(demo.offices)} offices, {len(demo.users)} users."
        )
        self._print_credentials(demo)

    def _print_credentials(self, demo: Demo) -> None:
        rows = [("username", "password", "organisation", "office", "role")]
        for spec in USERS:
            user = demo.users[spec.username]
            password = demo.password if user.check_password(demo.password) else "(changed since seeding)"
            rows.append((spec.username, password, spec.organisation, spec.office, Role(spec.role).label))
        widths = [max(len(str(row[i])) for row in rows) for i in range(len(rows[0]))]
        for n, row in enumerate(rows):
            line = "  ".join(str(cell).ljust(width) for cell, width in zip(row, widths, strict=True))
            self.stdout.write(line.rstrip())
            if n == 0:
                self.stdout.write("  ".join("-" * width for width in widths))
        self.stdout.write("Demo credentials only: never load demo data into a real deployment.")
