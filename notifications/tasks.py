"""Celery tasks of the notifications app. They take ids, call one service, and are safe to run twice."""

from celery import shared_task

from jointops.exceptions import DomainError
from jointops.models import Office
from notifications import delivery, reminders, services
from notifications.choices import Trigger


@shared_task(acks_late=True)
def pre_departure_lists_build_task(office_id: int | None = None) -> list[int]:
    """Daily (PRE_DEPARTURE_LIST_TIME), or for one IOM office on demand: a field office without a counterpart of
    its own is covered by the office above it that has one (the service maps it, as for staff in the browser)."""
    office = None
    if office_id is not None:
        office = Office.objects.select_related("organisation").filter(pk=office_id).first()
        if office is None:  # deleted since: nothing to send
            return []
    try:
        built = services.pre_departure_lists_build(actor=None, trigger=Trigger.SCHEDULE, iom_office=office)
    except DomainError:  # not an IOM office, or no counterpart above it: nothing to send
        return []
    return [pdl.pk for pdl in built]


@shared_task(acks_late=True, ignore_result=True)
def deliver_task(delivery_id: int) -> str:
    """Send one outbox row if it is due; claimed under a row lock, so a duplicate message finds nothing to do."""
    return delivery.deliver(delivery_id)


@shared_task(ignore_result=True)
def deliveries_sweep_task() -> int:
    """Every minute: dispatch deliveries that are due or were left sending by a worker that died."""
    return services.sweep()


@shared_task(acks_late=True)
def lou_reminders_task() -> int:
    return reminders.lou_reminders_send()


@shared_task(acks_late=True)
def digests_task() -> int:
    return services.digests_queue()
