"""Factories for the shared records. State that matters is reached through services."""

from types import SimpleNamespace

import factory

from jointops import services
from jointops.choices import IOM, UNHCR, OfficeLevel, Role
from jointops.models import Membership, Office, Organisation, User

PASSWORD = "correct horse battery staple"


FOUNDING_NAMES = {
    UNHCR: "Office of the United Nations High Commissioner for Refugees",
    IOM: "International Organization for Migration",
}


def organisation(code: str) -> Organisation:
    """UNHCR or IOM. A data migration creates them; a transactional test's flush removes them, so recreate."""
    org, _ = Organisation.objects.get_or_create(code=code, defaults={"name": FOUNDING_NAMES[code], "kind": "un_agency"})
    return org


class OrganisationFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Organisation
        django_get_or_create = ("code",)

    code = factory.Sequence(lambda n: f"GOV-{n}")
    name = factory.LazyAttribute(lambda o: f"Organisation {o.code}")
    kind = "government"


class OfficeFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Office
        django_get_or_create = ("code",)

    organisation = factory.LazyFunction(lambda: organisation(IOM))
    code = factory.Sequence(lambda n: f"OFF-{n}")
    name = factory.LazyAttribute(lambda o: f"Office {o.code}")
    level = OfficeLevel.COUNTRY
    country = "AF"


class UserFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = User
        django_get_or_create = ("username",)
        skip_postgeneration_save = True

    username = factory.Sequence(lambda n: f"user{n}")
    email = factory.LazyAttribute(lambda o: f"{o.username}@example.org")
    first_name = "Test"
    last_name = factory.Sequence(lambda n: f"User{n}")
    organisation = factory.LazyFunction(lambda: organisation(IOM))
    password = factory.PostGenerationMethodCall("set_password", PASSWORD)

    @factory.post_generation
    def _save(obj, create, extracted, **kwargs):
        if create:
            obj.save()


def staff(office: Office, role: str = Role.FIELD_STAFF, **kwargs) -> User:
    """A member of staff holding `role` at `office`."""
    user = UserFactory(organisation=office.organisation, **kwargs)
    Membership.objects.update_or_create(user=user, office=office, defaults={"role": role})
    return user


def build_world() -> SimpleNamespace:
    iom, unhcr = organisation(IOM), organisation(UNHCR)
    w = SimpleNamespace(iom=iom, unhcr=unhcr)
    w.iom_hq = OfficeFactory(code="IOM-HQ", organisation=iom, level=OfficeLevel.HEADQUARTERS, country="")
    w.unhcr_hq = OfficeFactory(code="UNHCR-HQ", organisation=unhcr, level=OfficeLevel.HEADQUARTERS, country="")
    w.iom_af = OfficeFactory(code="IOM-AF-KBL", organisation=iom, parent=w.iom_hq, country="AF")
    w.unhcr_af = OfficeFactory(code="UNHCR-AF-KBL", organisation=unhcr, parent=w.unhcr_hq, country="AF")
    w.iom_af_field = OfficeFactory(
        code="IOM-AF-HRT", organisation=iom, parent=w.iom_af, country="AF", level=OfficeLevel.FIELD
    )
    w.iom_de = OfficeFactory(code="IOM-DE-BER", organisation=iom, parent=w.iom_hq, country="DE")
    w.unhcr_de = OfficeFactory(code="UNHCR-DE-BER", organisation=unhcr, parent=w.unhcr_hq, country="DE")
    services.office_update(actor=None, office=w.iom_af, counterpart=w.unhcr_af)
    services.office_update(actor=None, office=w.iom_de, counterpart=w.unhcr_de)
    for office in (w.iom_af, w.unhcr_af, w.iom_de, w.unhcr_de):
        office.refresh_from_db()
    w.iom_af_staff = staff(w.iom_af, Role.FIELD_STAFF, username="iom_af_staff")
    w.iom_af_manager = staff(w.iom_af, Role.OFFICE_MANAGER, username="iom_af_manager")
    w.iom_field_staff = staff(w.iom_af_field, Role.FIELD_STAFF, username="iom_field_staff")
    w.iom_de_staff = staff(w.iom_de, Role.FIELD_STAFF, username="iom_de_staff")
    w.iom_de_manager = staff(w.iom_de, Role.OFFICE_MANAGER, username="iom_de_manager")
    w.iom_hq_focal = staff(w.iom_hq, Role.HQ_FOCAL_POINT, username="iom_hq_focal")
    w.iom_admin = staff(w.iom_hq, Role.ADMINISTRATOR, username="iom_admin")
    w.unhcr_af_staff = staff(w.unhcr_af, Role.FIELD_STAFF, username="unhcr_af_staff")
    w.unhcr_af_manager = staff(w.unhcr_af, Role.OFFICE_MANAGER, username="unhcr_af_manager")
    w.unhcr_de_staff = staff(w.unhcr_de, Role.FIELD_STAFF, username="unhcr_de_staff")
    w.unhcr_hq_focal = staff(w.unhcr_hq, Role.HQ_FOCAL_POINT, username="unhcr_hq_focal")
    w.unhcr_admin = staff(w.unhcr_hq, Role.ADMINISTRATOR, username="unhcr_admin")
    return w
