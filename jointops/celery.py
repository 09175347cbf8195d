"""The Celery application. Settings come from Django settings (CELERY_*); tasks live in each app's tasks.py."""

import os

from celery import Celery

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "jointops.settings")

app = Celery("jointops")
app.config_from_object("django.conf:settings", namespace="CELERY")
app.autodiscover_tasks()

# Periodic tasks (Celery beat). Each app's reminders and sweepers are added here as they land.
app.conf.beat_schedule = {
    "worker-heartbeat": {"task": "jointops.tasks.worker_heartbeat_task", "schedule": 60.0},
    # MOU §45: a letter ends when its notice period is over (checked hourly: idempotent and cheap).
    "lou-terminations": {
        "task": "letters_of_understanding.tasks.lou_terminations_take_effect_task",
        "schedule": 3600.0,
    },
}
