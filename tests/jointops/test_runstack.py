"""`manage.py runstack`: web + worker + beat as children; a signal stops all; one dying child stops the rest."""

from __future__ import annotations

import contextlib
import json
import os
import re
import signal
import socket
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

import pytest
from django.conf import settings

from tests.jointops.test_celery_worker import child_env

DEADLINE_SECONDS = 60

# Transactional: the children read the test database, so nothing may sit in an uncommitted transaction.
pytestmark = pytest.mark.django_db(transaction=True)


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def _start(port: int, tmp_path: Path) -> tuple[subprocess.Popen, Path]:
    # The embedded broker in a private var dir: this stack's worker must not consume other runs' messages.
    env = child_env(tmp_path, CELERY_BROKER_URL="filesystem://", DJANGO_DEBUG="0")
    log_path = tmp_path / "runstack.log"
    with open(log_path, "wb") as log:
        process = subprocess.Popen(
            [sys.executable, "manage.py", "runstack", "--port", str(port)],
            cwd=settings.BASE_DIR,
            env=env,
            stdout=log,
            stderr=subprocess.STDOUT,
        )
    return process, log_path


def _child_pids(log_path: Path) -> dict[str, int]:
    return {name: int(pid) for name, pid in re.findall(r"started (\w+) \(pid (\d+)\)", log_path.read_text())}


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    status = Path(f"/proc/{pid}/status")
    return not (status.exists() and "\nState:\tZ" in status.read_text())  # a zombie has stopped


def _wait_until(what: str, probe, process: subprocess.Popen, log_path: Path):
    """Call probe() until it returns something truthy; fail at the deadline or as soon as runstack exits."""
    deadline = time.monotonic() + DEADLINE_SECONDS
    while not (result := probe()):
        assert process.poll() is None, f"runstack exited before {what}:\n{log_path.read_text()}"
        assert time.monotonic() < deadline, f"no {what} after {DEADLINE_SECONDS}s:\n{log_path.read_text()}"
        with contextlib.suppress(subprocess.TimeoutExpired):
            process.wait(timeout=0.25)
    return result


def _healthz(port: int) -> dict | None:
    try:
        with urllib.request.urlopen(f"http://127.0.0.1:{port}/healthz", timeout=2) as response:
            return {"http_status": response.status, **json.load(response)}
    except OSError:  # not listening yet
        return None


def _stop(process: subprocess.Popen) -> None:
    if process.poll() is None:
        process.kill()
        process.wait()


def test_runstack_sigterm_stops_web_worker_and_beat_cleanly(tmp_path):
    port = _free_port()
    process, log_path = _start(port, tmp_path)
    try:
        health = _wait_until("/healthz answer", lambda: _healthz(port), process, log_path)
        _wait_until("beat schedule under var/", lambda: list(tmp_path.glob("celerybeat-schedule*")), process, log_path)
        pids = _child_pids(log_path)

        process.send_signal(signal.SIGTERM)
        code = process.wait(timeout=DEADLINE_SECONDS)
    finally:
        _stop(process)

    log = log_path.read_text()
    assert (health["http_status"], health["database"], health["broker"]) == (200, "ok", "ok")
    assert f"http://127.0.0.1:{port}/" in log
    assert set(pids) == {"web", "worker", "beat"}
    assert code == 0, log
    assert [name for name, pid in pids.items() if _alive(pid)] == []


def test_runstack_child_dies_stops_the_others_and_exits_non_zero(tmp_path):
    with socket.socket() as busy:  # the web server cannot bind: it exits at once
        busy.bind(("127.0.0.1", 0))
        busy.listen()
        port = busy.getsockname()[1]
        process, log_path = _start(port, tmp_path)
        try:
            code = process.wait(timeout=DEADLINE_SECONDS)
        finally:
            _stop(process)

    log = log_path.read_text()
    pids = _child_pids(log_path)
    assert code != 0
    assert "web exited with status" in log
    assert set(pids) == {"web", "worker", "beat"}
    assert [name for name, pid in pids.items() if _alive(pid)] == []
