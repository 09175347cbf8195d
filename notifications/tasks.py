"""Celery tasks of the notifications app. They take ids, call one service, and are safe to run twice."""

from celery import shared_task

from jointops.models import Office
from notifications import delivery, reminders, services
from notifications.choices import Trigger


@shared_task(acks_late=True)
def pre_departure_lists_build_task(office_id: int | None = None) -> list[int]:
    """Daily (PRE_DEPARTURE_LIST_TIME), or for one office on demand."""
    office = Office.objects.get(pk=office_id) if office_id else None
    built = services.listing.build_lists(actor=None, trigger=Trigger.SCHEDULE, iom_office=office)
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
