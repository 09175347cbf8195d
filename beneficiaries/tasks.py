"""Celery tasks of the beneficiaries app: ids in, one service call, retries only for transient errors."""

from __future__ import annotations

from celery import shared_task

from beneficiaries import importing
from beneficiaries.models import ImportJob

IMPORT_MAX_RETRIES = 3


@shared_task(
    bind=True,
    name="beneficiaries.tasks.import_job_run_task",
    acks_late=True,
    reject_on_worker_lost=True,
    max_retries=IMPORT_MAX_RETRIES,
)
def import_job_run_task(self, job_id: int) -> None:
    """Run a large import (validate every row, then write all or nothing).

    Idempotent: a job already done, refused or stopped returns at once, and the write locks the job row and checks
    its state again, so a redelivered message never imports twice. A transient database error retries the whole job
    with backoff (nothing was written: the write is one transaction); after the last retry the job is marked stopped.
    """
    try:
        importing.import_job_run(job_id=job_id, reraise_transient=True)
    except ImportJob.DoesNotExist:
        return  # deleted meanwhile: nothing to do
    except importing.TRANSIENT_ERRORS as exc:
        if self.request.retries >= self.max_retries:
            importing.import_job_give_up(job_id=job_id)
            return
        raise self.retry(exc=exc, countdown=min(60, 5 * 2**self.request.retries)) from exc
