"""A real Celery worker, started as a subprocess against the test database, consumes a task published with .delay().

Both brokers: the embedded filesystem broker (always) and Redis (needs_redis). Each run uses its own queue so a
worker of another run on the same Redis can neither steal this run's message nor hand it one.
"""

from __future__ import annotations

import os
import subprocess
import sys
import time
import uuid
from pathlib import Path
from urllib.parse import quote

import pytest
from django.conf import settings
from django.db import connection

from jointops.models import WorkerHeartbeat

DEADLINE_SECONDS = 60

# Runs in its own process, configured from the environment exactly like the web server.
PUBLISH = """
import sys
import django

django.setup()
from jointops.celery import app
from jointops.tasks import worker_heartbeat_task

app.conf.task_default_queue = sys.argv[1]
worker_heartbeat_task.delay(sys.argv[2])
"""


def current_database_url() -> str:
    """DATABASE_URL of the database this test runs on (pytest-django's test database)."""
    db = connection.settings_dict
    if db["ENGINE"].endswith("sqlite3"):
        return f"sqlite:///{db['NAME']}"
    credentials = quote(db["USER"] or "", safe="")
    if db["PASSWORD"]:
        credentials += ":" + quote(db["PASSWORD"], safe="")
    return f"postgres://{credentials}@{db['HOST'] or 'localhost'}:{db['PORT'] or 5432}/{db['NAME']}"


def child_env(var_dir: Path, **overrides: str) -> dict[str, str]:
    """The environment of a child process that works on this test's database, with its own var dir."""
    env = dict(os.environ)
    env.update(
        {
            "DJANGO_SETTINGS_MODULE": "jointops.settings",
            "DATABASE_URL": current_database_url(),
            "JOINTOPS_VAR_DIR": str(var_dir),
            "CELERY_TASK_ALWAYS_EAGER": "0",  # a publisher running the task itself would fake the result
            "PYTHONUNBUFFERED": "1",
        }
    )
    env.update(overrides)
    return env


def _new_queue() -> str:
    return f"jointops-test-{uuid.uuid4().hex[:12]}"


def _heartbeat_roundtrip(env: dict[str, str], log_path: Path, queue: str) -> str:
    """Start a worker on `queue`, publish one heartbeat there, wait for its row. Returns the worker's log."""
    name = f"test-{queue}"
    command = [sys.executable, "-m", "celery", "-A", "jointops", "worker", "--concurrency", "1", "-l", "info"]
    command += ["-Q", queue, "-n", f"{queue}@%h", "--without-gossip", "--without-mingle", "--without-heartbeat"]
    with open(log_path, "wb") as log:
        worker = subprocess.Popen(command, env=env, cwd=settings.BASE_DIR, stdout=log, stderr=subprocess.STDOUT)
    try:
        publish = subprocess.run(
            [sys.executable, "-c", PUBLISH, queue, name],
            env=env,
            cwd=settings.BASE_DIR,
            capture_output=True,
            text=True,
            timeout=DEADLINE_SECONDS,
        )
        assert publish.returncode == 0, publish.stderr
        deadline = time.monotonic() + DEADLINE_SECONDS
        while not WorkerHeartbeat.objects.filter(name=name).exists():
            assert time.monotonic() < deadline, f"no heartbeat after {DEADLINE_SECONDS}s:\n{log_path.read_text()}"
            try:  # wait a little for the worker, failing at once if it died
                code = worker.wait(timeout=0.25)
            except subprocess.TimeoutExpired:
                continue
            pytest.fail(f"the worker exited with status {code}:\n{log_path.read_text()}")
        worker.terminate()  # SIGTERM: warm shutdown
        assert worker.wait(timeout=DEADLINE_SECONDS) == 0, log_path.read_text()
    finally:
        if worker.poll() is None:
            worker.kill()
            worker.wait()
    return log_path.read_text()


@pytest.mark.django_db(transaction=True)
def test_worker_filesystem_broker_consumes_a_delayed_task(tmp_path):
    env = child_env(tmp_path, CELERY_BROKER_URL="filesystem://")

    log = _heartbeat_roundtrip(env, tmp_path / "worker.log", _new_queue())

    assert "filesystem://" in log
    assert "jointops.tasks.worker_heartbeat_task" in log and "succeeded" in log
    assert (tmp_path / "broker" / "queue").is_dir()  # the embedded broker lives under JOINTOPS_VAR_DIR/broker
    assert not list((tmp_path / "broker" / "queue").glob("*.msg"))  # consumed, not left behind


@pytest.mark.needs_redis
@pytest.mark.django_db(transaction=True)
def test_worker_redis_broker_consumes_a_delayed_task(tmp_path):
    import redis

    redis_url = os.environ["REDIS_URL"]
    env = child_env(tmp_path, CELERY_BROKER_URL=redis_url)
    queue = _new_queue()
    try:
        log = _heartbeat_roundtrip(env, tmp_path / "worker.log", queue)
    finally:
        redis.Redis.from_url(redis_url).delete(queue, f"_kombu.binding.{queue}")

    assert "redis://" in log
    assert "jointops.tasks.worker_heartbeat_task" in log and "succeeded" in log
