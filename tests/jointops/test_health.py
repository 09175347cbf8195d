"""/healthz answers 200 only when the database and the broker both answer, and never hangs."""

import socket
import time

import pytest
from django.db import OperationalError, connection

from jointops.celery import app as celery_app
from jointops.models import WorkerHeartbeat

pytestmark = pytest.mark.django_db


def _closed_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]  # nothing listens once the socket is closed


@pytest.fixture
def broker_conf():
    """The Celery app's broker settings, restored after the test."""
    conf = celery_app.conf
    saved = {key: conf.get(key) for key in ("broker_url", "broker_transport_options")}
    yield conf
    conf.update(saved)


def test_healthz_configured_stack_answers_200(client):
    response = client.get("/healthz")

    assert response.status_code == 200
    body = response.json()
    assert body["database"] == "ok"
    assert body["broker"] == "ok"
    assert body["status"] == "ok"


def test_healthz_recent_worker_heartbeat_reports_its_age(client):
    from django.utils import timezone

    WorkerHeartbeat.objects.create(name="worker", seen_at=timezone.now() - timezone.timedelta(seconds=90))

    body = client.get("/healthz").json()

    assert 90 <= body["worker_heartbeat_age_seconds"] < 120


def test_healthz_broker_on_closed_port_answers_503_quickly(client, broker_conf, settings):
    settings.HEALTHZ_BROKER_TIMEOUT = 1.0
    broker_conf.broker_url = f"redis://127.0.0.1:{_closed_port()}/0"

    started = time.monotonic()
    response = client.get("/healthz")
    elapsed = time.monotonic() - started

    assert response.status_code == 503
    body = response.json()
    assert (body["database"], body["broker"], body["status"]) == ("ok", "down", "unavailable")
    assert elapsed < 5, f"/healthz took {elapsed:.1f}s with the broker down"


def test_healthz_filesystem_broker_without_its_folder_answers_503(client, broker_conf, tmp_path):
    missing = str(tmp_path / "no-such-folder")
    broker_conf.broker_url = "filesystem://"
    broker_conf.broker_transport_options = {"data_folder_in": missing, "data_folder_out": missing}

    response = client.get("/healthz")

    assert response.status_code == 503
    assert response.json()["broker"] == "down"


def test_healthz_database_down_answers_503_naming_the_database(client, monkeypatch):
    def refuse(*args, **kwargs):
        raise OperationalError("connection refused")

    monkeypatch.setattr(connection, "cursor", refuse)

    response = client.get("/healthz")

    assert response.status_code == 503
    body = response.json()
    assert body["database"] == "down"
    assert body["status"] == "unavailable"
    assert "worker_heartbeat_age_seconds" not in body


def test_healthz_post_is_refused(client):
    assert client.post("/healthz").status_code == 405
