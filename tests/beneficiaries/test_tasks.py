"""Celery task of imports: the large-file path end to end (eager, after commit), idempotency (a redelivered message
imports nothing more), bounded retries of transient database errors, then a stopped job with its upload deleted.

A real worker consuming from the broker is proven in tests/jointops/test_celery_worker.py; here the task runs in
process so the test can look at the database at each step."""

from __future__ import annotations

import pytest
from django.db import OperationalError

from beneficiaries import importing
from beneficiaries.models import Beneficiary, CategoryChange, ImportJob
from beneficiaries.tasks import IMPORT_MAX_RETRIES, import_job_run_task
from tests.beneficiaries.test_importing import HISTORY, csv_bytes, many, run


def test_import_large_file_runs_in_the_celery_task_after_commit(world, settings, django_capture_on_commit_callbacks):
    settings.IMPORT_INLINE_ROWS = 5
    from jointops.celery import app  # the settings' CELERY_TASK_ALWAYS_EAGER is read once, at start

    app.conf.task_always_eager = True
    try:
        with django_capture_on_commit_callbacks(execute=False) as callbacks:
            job = run(world, csv_bytes(many(12)))
        assert job.status == ImportJob.Status.PENDING and job.total_rows == 12
        assert not Beneficiary.objects.exists() and len(callbacks) == 1
        callbacks[0]()  # the commit: the task is published (and, eager, runs)
    finally:
        app.conf.task_always_eager = False
    job.refresh_from_db()
    assert job.status == ImportJob.Status.DONE and job.created_count == 12
    assert job.processed_rows == job.total_rows == 12
    assert Beneficiary.objects.count() == 12 and not job.file


def test_import_task_run_twice_creates_nothing_more(world, settings):
    settings.IMPORT_INLINE_ROWS = 0
    job = run(world, csv_bytes(many(3)))
    import_job_run_task.run(job.pk)
    import_job_run_task.run(job.pk)
    job.refresh_from_db()
    assert job.status == ImportJob.Status.DONE and job.created_count == 3
    assert Beneficiary.objects.count() == 3 and CategoryChange.objects.count() == 3 and HISTORY.objects.count() == 3


def test_import_task_retries_a_transient_database_error_then_gives_up(world, settings, monkeypatch):
    from celery.exceptions import Retry

    settings.IMPORT_INLINE_ROWS = 0
    job = run(world, csv_bytes(many(2)))

    def down(*args, **kwargs):
        raise OperationalError("server closed the connection unexpectedly")

    monkeypatch.setattr(importing, "_write", down)
    with pytest.raises(Retry):
        import_job_run_task.apply(args=[job.pk], throw=True)
    job.refresh_from_db()
    assert job.status == ImportJob.Status.IMPORTING and job.file  # kept for the retry
    import_job_run_task.apply(args=[job.pk], retries=IMPORT_MAX_RETRIES, throw=True)
    job.refresh_from_db()
    assert job.status == ImportJob.Status.ERROR and not job.file and not Beneficiary.objects.exists()


def test_import_task_for_a_deleted_job_does_nothing(world):
    import_job_run_task.run(987654)
    assert not Beneficiary.objects.exists()


def test_import_task_on_a_finished_job_returns_at_once(world, settings, django_assert_max_num_queries):
    settings.IMPORT_INLINE_ROWS = 0
    job = run(world, csv_bytes(many(2)))
    ImportJob.objects.filter(pk=job.pk).update(status=ImportJob.Status.FAILED)
    with django_assert_max_num_queries(3):
        import_job_run_task.run(job.pk)
    assert not Beneficiary.objects.exists()


def test_import_task_arguments_are_ids_only(world, settings, django_capture_on_commit_callbacks, monkeypatch):
    sent = []
    monkeypatch.setattr(import_job_run_task, "delay", lambda *args, **kwargs: sent.append((args, kwargs)))
    settings.IMPORT_INLINE_ROWS = 1
    with django_capture_on_commit_callbacks(execute=True):
        job = run(world, csv_bytes(many(2)))
    assert sent == [((job.pk,), {})]
