"""`manage.py seed_demo` pre-departure list (notifications/demo.py): IOM Berlin's list to UNHCR Berlin with the two
scheduled departures, one of them late; nothing sent while seeding; a second run builds nothing."""

from io import StringIO

import pytest
from django.core import mail
from django.core.management import call_command

from notifications.choices import ChangeKind, DeliveryStatus, Trigger
from notifications.models import DEFAULT_LEAD_TIME_DAYS, Delivery, Notification, PreDepartureEntry, PreDepartureList

pytestmark = pytest.mark.django_db


def _seed() -> str:
    out = StringIO()
    call_command("seed_demo", stdout=out)
    return out.getvalue()


def test_seed_demo_berlin_list_has_both_departures_the_4_day_one_late_and_is_unacknowledged():
    _seed()

    pdl = PreDepartureList.objects.get()
    assert (pdl.iom_office.code, pdl.unhcr_office.code) == ("IOM-DE-BER", "UNHCR-DE-BER")
    assert pdl.trigger == Trigger.COMMAND and pdl.lead_time_days == DEFAULT_LEAD_TIME_DAYS
    assert pdl.acknowledged_at is None
    entries = {(e.given_name, e.family_name): (e.change, e.days_before_departure, e.is_late) for e in pdl.entries.all()}
    # Letter: names and dates of expected departure; 4 days is later than the 7-day lead time, 12 days is not.
    # The withdrawn migrant was never listed, and UNHCR's own repatriation case is not IOM's to list.
    assert entries == {
        ("Mohammad", "Ahmadi"): (ChangeKind.NEW, 12, False),
        ("Fatemeh", "Ahmadi"): (ChangeKind.NEW, 12, False),
        ("Hamid", "Karimi"): (ChangeKind.NEW, 4, True),
    }


def test_seed_demo_writes_outbox_rows_and_sends_nothing_itself(world):
    # build_world() has staff at UNHCR-DE-BER: the list reaches their inbox and waits in the outbox for the worker.
    mail.outbox.clear()

    _seed()

    pdl = PreDepartureList.objects.get(iom_office__code="IOM-DE-BER")
    assert Notification.objects.filter(pre_departure_list=pdl, recipient=world.unhcr_de_staff).exists()
    deliveries = Delivery.objects.filter(notification__pre_departure_list=pdl)
    assert deliveries.exists()
    assert set(deliveries.values_list("status", flat=True)) == {DeliveryStatus.PENDING}
    assert mail.outbox == []


def test_seed_demo_second_run_builds_no_list_and_queues_nothing():
    _seed()

    def counts():
        return (
            PreDepartureList.objects.count(),
            PreDepartureEntry.objects.count(),
            PreDepartureList.history.count(),
            Notification.objects.count(),
            Delivery.objects.count(),
        )

    before = counts()
    assert before[:2] == (1, 3)

    output = _seed()

    assert counts() == before
    assert "0 record(s) created" in output
