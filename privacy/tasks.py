"""Celery tasks of the data-protection app. No arguments, no personal data in the broker or the results."""

from celery import shared_task

from privacy import retention


# The first run on an old database may have a backlog: a longer limit than the default 600 s, still below the
# broker's visibility timeout (3600 s, RELIABILITY.md). Each batch commits on its own, so a run cut short by the limit
# leaves what it did done and the next run goes on from there.
@shared_task(acks_late=True, time_limit=3300, soft_time_limit=3240)
def apply_retention_task() -> dict[str, int]:
    """Daily at RETENTION_TIME (Celery beat): anonymise what is past its retention period (issue 8). Idempotent, so
    a message delivered twice (acks late, a worker killed mid-run) only finishes the work; returns counts only."""
    return retention.apply_retention()
