"""The Celery application. Settings come from Django settings (CELERY_*); tasks live in each app's tasks.py."""

import os
import re

from celery import Celery
from celery.schedules import crontab
from django.core.exceptions import ImproperlyConfigured

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "jointops.settings")

app = Celery("jointops")
app.config_from_object("django.conf:settings", namespace="CELERY")
app.autodiscover_tasks()

from django.conf import settings  # noqa: E402 - after DJANGO_SETTINGS_MODULE is set


def daily_at(name: str) -> crontab:
    """A crontab for the "HH:MM" (local time) in setting `name` (PRE_DEPARTURE_LIST_TIME, REMINDERS_TIME...)."""
    value = getattr(settings, name)
    match = re.fullmatch(r"([01]?[0-9]|2[0-3]):([0-5][0-9])", value) if isinstance(value, str) else None
    if match is None:
        raise ImproperlyConfigured(f"{name} must be a time of day as HH:MM (24-hour clock), not {value!r}.")
    return crontab(hour=int(match.group(1)), minute=int(match.group(2)))


# Periodic tasks (Celery beat).
app.conf.beat_schedule = {
    "worker-heartbeat": {"task": "jointops.tasks.worker_heartbeat_task", "schedule": 60.0},
    # Letter: the daily pre-departure lists, IOM → UNHCR.
    "pre-departure-lists": {
        "task": "notifications.tasks.pre_departure_lists_build_task",
        "schedule": daily_at("PRE_DEPARTURE_LIST_TIME"),
    },
    # The outbox: deliveries due, or left "sending" by a worker that died.
    "deliveries-sweep": {"task": "notifications.tasks.deliveries_sweep_task", "schedule": 60.0},
    # MOU §39, §45, §47: reminders on Letters of Understanding; the daily digest e-mails.
    "lou-reminders": {"task": "notifications.tasks.lou_reminders_task", "schedule": daily_at("REMINDERS_TIME")},
    "digests": {"task": "notifications.tasks.digests_task", "schedule": daily_at("DIGEST_TIME")},
    # Issue 8: anonymise what is past its retention period (privacy/retention.py), daily at a quiet hour.
    "retention": {"task": "privacy.tasks.apply_retention_task", "schedule": daily_at("RETENTION_TIME")},
    # MOU §45: a letter ends when its notice period is over (checked hourly: idempotent and cheap).
    "lou-terminations": {
        "task": "letters_of_understanding.tasks.lou_terminations_take_effect_task",
        "schedule": 3600.0,
    },
}
