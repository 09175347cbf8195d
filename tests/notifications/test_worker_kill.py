"""A real Celery worker is killed (SIGKILL) in the middle of a webhook delivery; afterwards the list reaches the
partner exactly once (RELIABILITY.md: "kill the worker mid-delivery → 0 lost, 0 duplicate effects").

The stack is the production one: PostgreSQL (this test's database), Redis as the broker (its own queue, so that no
other worker on the same Redis takes or hands over a message), worker subprocesses in their own process group
(SIGKILL takes the pool's child too: a machine that died), the partner a real HTTP server thread of this process.
1. The list is built in a child process (as by the web server): the outbox rows commit, then are published.
2. Worker 1 claims the webhook delivery (status "sending", attempt 1) and POSTs; the receiver holds the request open.
3. The test SIGKILLs worker 1: its Redis message stays unacknowledged (it would come back only after the visibility
   timeout, an hour), the receiver never completes the request.
4. Worker 2 starts; the sweeper task is published (as beat does every minute); it finds the delivery "sending" for
   longer than DELIVERY_STALE_SECONDS, dispatches it, and worker 2 delivers it.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import json
import os
import signal
import subprocess
import sys
import time
import uuid
from pathlib import Path

import pytest
from django.conf import settings
from django.utils import timezone

from jointops import services as jointops_services
from notifications import services
from notifications.choices import Channel, DeliveryStatus
from notifications.models import Delivery, PreDepartureList
from tests.factories.returns import scheduled
from tests.jointops.test_celery_worker import child_env
from tests.notifications.webhook_receiver import WebhookReceiver

pytestmark = [
    pytest.mark.needs_postgres,
    pytest.mark.needs_redis,
    pytest.mark.django_db(transaction=True),
]

DEADLINE_SECONDS = 60
STALE_SECONDS = 2  # DELIVERY_STALE_SECONDS of the child processes

# Each child process is configured from the environment like the web server and the worker, and publishes to (or
# consumes) this run's queue: argv = [queue, action].
CHILD = """
import sys

import django

django.setup()
from jointops.celery import app

queue, action = sys.argv[1], sys.argv[2]
app.conf.task_default_queue = queue
if action == "worker":
    app.worker_main(
        ["worker", "--concurrency", "1", "-l", "info", "-Q", queue, "-n", sys.argv[3] + "@%h",
         "--without-gossip", "--without-mingle", "--without-heartbeat"]
    )
elif action == "build":
    from notifications import services

    [pdl] = services.pre_departure_lists_build(actor=None)
    print(pdl.pk)
elif action == "sweep":
    from notifications.tasks import deliveries_sweep_task

    deliveries_sweep_task.delay()
"""


class Stack:
    """The child processes of one test, all killed at the end whatever happens."""

    def __init__(self, tmp_path: Path, queue: str) -> None:
        self.tmp_path, self.queue = tmp_path, queue
        self.env = child_env(
            tmp_path,
            CELERY_BROKER_URL=os.environ["REDIS_URL"],
            DELIVERY_STALE_SECONDS=str(STALE_SECONDS),
            WEBHOOK_TIMEOUT_SECONDS=str(DEADLINE_SECONDS),
        )
        self.workers: list[tuple[subprocess.Popen, Path]] = []

    def run(self, action: str) -> str:
        done = subprocess.run(
            [sys.executable, "-c", CHILD, self.queue, action],
            env=self.env,
            cwd=settings.BASE_DIR,
            capture_output=True,
            text=True,
            timeout=DEADLINE_SECONDS,
        )
        assert done.returncode == 0, done.stderr
        return done.stdout

    def start_worker(self) -> subprocess.Popen:
        name = f"{self.queue}-{len(self.workers) + 1}"
        log_path = self.tmp_path / f"{name}.log"
        with open(log_path, "wb") as log:
            worker = subprocess.Popen(
                [sys.executable, "-c", CHILD, self.queue, "worker", name],
                env=self.env,
                cwd=settings.BASE_DIR,
                stdout=log,
                stderr=subprocess.STDOUT,
                start_new_session=True,  # its own process group: the pool's child dies with it
            )
        self.workers.append((worker, log_path))
        return worker

    def logs(self) -> str:
        return "\n".join(f"--- {path.name}\n{path.read_text()}" for _, path in self.workers if path.exists())

    def kill(self, worker: subprocess.Popen) -> None:
        with contextlib.suppress(ProcessLookupError):
            os.killpg(worker.pid, signal.SIGKILL)
        worker.wait(timeout=DEADLINE_SECONDS)

    def kill_all(self) -> None:
        for worker, _ in self.workers:
            self.kill(worker)

    def wait_for(self, condition, what: str) -> None:
        """Poll `condition` until it holds; fail with the workers' logs after the deadline or if a worker died."""
        deadline = time.monotonic() + DEADLINE_SECONDS
        while not condition():
            assert time.monotonic() < deadline, f"{what}: not after {DEADLINE_SECONDS}s\n{self.logs()}"
            for worker, _ in self.workers:
                if worker.returncode is None and worker.poll() is not None:
                    pytest.fail(f"a worker exited with status {worker.returncode}\n{self.logs()}")
            time.sleep(0.1)


def clean_redis(queue: str) -> None:
    """Remove this run's queue, its bindings (the workers' control queues too) and the unacknowledged message the
    killed worker left behind."""
    import redis

    r = redis.Redis.from_url(os.environ["REDIS_URL"])
    for tag, raw in r.hgetall("unacked").items():
        with contextlib.suppress(ValueError, TypeError, IndexError):
            if json.loads(raw)[2] == queue:
                r.hdel("unacked", tag)
                r.zrem("unacked_index", tag)
    for member in r.smembers("_kombu.binding.celery.pidbox"):
        if queue.encode() in member:
            r.srem("_kombu.binding.celery.pidbox", member)
    keys = list(r.scan_iter(match=f"*{queue}*"))
    if keys:
        r.delete(*keys)


def test_a_worker_killed_mid_delivery_the_list_reaches_the_partner_exactly_once(world, tmp_path):
    queue = f"jointops-test-{uuid.uuid4().hex[:12]}"
    stack = Stack(tmp_path, queue)
    receiver = WebhookReceiver(hold_first=True).start()
    try:
        client, _token = jointops_services.api_client_create(
            actor=world.unhcr_admin, name="proGres", office=world.unhcr_af, scopes=["pre-departure-lists:read"]
        )
        subscription = services.webhook_subscription_create(
            actor=world.unhcr_admin, api_client=client, url=receiver.url
        )
        receiver.secret = subscription.secret
        scheduled(world.iom_af, world.iom_af_staff, days=10)

        worker = stack.start_worker()
        pdl = PreDepartureList.objects.get(pk=int(stack.run("build")))
        webhook = Delivery.objects.get(pre_departure_list=pdl, channel=Channel.WEBHOOK)
        rows_before = set(Delivery.objects.values_list("pk", flat=True))
        assert len(rows_before) == 3  # the webhook and the e-mails to UNHCR-AF-KBL's two members of staff

        # Worker 1 is posting the list; the partner holds the request open.
        stack.wait_for(receiver.held.is_set, "the webhook request reaching the receiver")
        webhook.refresh_from_db()
        assert (webhook.status, webhook.attempts) == (DeliveryStatus.SENDING, 1)
        stack.kill(worker)
        receiver.release.set()  # the held request ends unanswered: it was never completed
        assert worker.returncode == -signal.SIGKILL
        webhook.refresh_from_db()
        assert (webhook.status, webhook.attempts) == (DeliveryStatus.SENDING, 1)
        assert receiver.completed == [] and len(receiver.received) == 1

        # Past DELIVERY_STALE_SECONDS, a new worker and the sweeper (as beat publishes it) deliver it.
        stale_at = webhook.started_at + dt.timedelta(seconds=STALE_SECONDS)
        stack.wait_for(lambda: timezone.now() > stale_at, "the claim going stale")
        stack.start_worker()
        stack.run("sweep")
        stack.wait_for(lambda: not Delivery.objects.exclude(status=DeliveryStatus.DONE).exists(), "every delivery done")

        webhook.refresh_from_db()
        assert (webhook.status, webhook.attempts, webhook.last_error) == (DeliveryStatus.DONE, 2, "")
        # The partner processed the list exactly once; the killed attempt and the new one carried the same key.
        assert receiver.completed == [str(webhook.key)]
        assert [r.key for r in receiver.received] == [str(webhook.key)] * 2
        assert list(receiver.processed) == [str(webhook.key)]
        assert receiver.processed[str(webhook.key)]["list"]["reference"] == pdl.reference
        # No second delivery row, nothing else created; every row sent.
        assert set(Delivery.objects.values_list("pk", flat=True)) == rows_before
        assert Delivery.objects.filter(pre_departure_list=pdl).count() == 1
        assert PreDepartureList.objects.count() == 1
        # The inbox e-mails: each sent once (worker 1 was busy with the webhook when it died, not mid-e-mail).
        sent = "".join(path.read_text() for path in (tmp_path / "mail").glob("*.log"))  # the file e-mail backend
        keys = list(Delivery.objects.filter(channel=Channel.EMAIL).values_list("key", flat=True))
        assert len(keys) == 2 and all(sent.count(f"Message-ID: <{key}@jointops>") == 1 for key in keys)
    finally:
        stack.kill_all()
        receiver.stop()
        clean_redis(queue)
