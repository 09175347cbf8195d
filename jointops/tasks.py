"""Platform tasks."""

from celery import shared_task
from django.utils import timezone

from jointops.models import WorkerHeartbeat


@shared_task(name="jointops.tasks.worker_heartbeat_task")
def worker_heartbeat_task(name: str = "worker") -> None:
    """Record that a worker consumed a message (beat sends one every minute; /healthz reports its age)."""
    WorkerHeartbeat.objects.update_or_create(name=name[:64], defaults={"seen_at": timezone.now()})
