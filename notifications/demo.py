"""Demo pre-departure list for `manage.py seed_demo`: IOM Berlin's list to UNHCR Berlin (Letter of 16 January 2003)
with the departures returns/demo.py scheduled, built by the same service as the daily beat and the "build" button.

It is left unacknowledged, for UNHCR to answer. Nothing is sent while seeding: the service writes the inbox items and
the outbox rows (`Delivery`) in its transaction and hands them to the broker only after the commit; if no worker or
broker runs, the rows wait for the sweeper (notifications/outbox.py).

Idempotent: once IOM Berlin has a list, seeding builds none (the daily beat lists later changes).
"""

from __future__ import annotations

from notifications import services
from notifications.choices import Trigger
from notifications.models import PreDepartureList

SENDING_OFFICE = "IOM-DE-BER"


def seed_pre_departure_lists(demo) -> None:
    office = demo.offices.get(SENDING_OFFICE)
    if office is None or PreDepartureList.objects.filter(iom_office=office).exists():
        return
    built = services.pre_departure_lists_build(actor=None, trigger=Trigger.COMMAND, iom_office=office)
    demo.created += len(built)


SEEDERS = [seed_pre_departure_lists]
