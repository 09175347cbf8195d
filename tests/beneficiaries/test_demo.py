"""seed_demo loads demo people through the services, once."""

from io import StringIO

from django.core.management import call_command

from beneficiaries.demo import PEOPLE
from beneficiaries.models import Beneficiary


def test_seed_demo_loads_people_idempotently(db):
    call_command("seed_demo", stdout=StringIO())
    assert Beneficiary.objects.count() == len(PEOPLE)
    person = Beneficiary.objects.get(given_name="Mohammad", family_name="Ahmadi")
    assert person.category_changes.count() == 1 and person.history.count() == 1
    call_command("seed_demo", stdout=StringIO())
    assert Beneficiary.objects.count() == len(PEOPLE)
