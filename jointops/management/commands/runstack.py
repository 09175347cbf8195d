"""`manage.py runstack --port N`: the web server, a Celery worker and Celery beat, as one foreground command.

Used by `make run`. The three run as child processes with the current environment (so they share the database
and the broker). Ctrl-C / SIGTERM stops all three; if one of them dies, the others are stopped and the command
exits non-zero, so a half-running stack never passes for a working one.
"""

from __future__ import annotations

import contextlib
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError

POLL_SECONDS = 0.2
STOP_GRACE_SECONDS = 10


class Command(BaseCommand):
    help = "Run the web server, a Celery worker and Celery beat until interrupted (development and demos)."

    def add_arguments(self, parser):
        parser.add_argument("--port", type=int, default=int(os.environ.get("PORT") or 8000))
        parser.add_argument("--host", default="127.0.0.1")

    def handle(self, *args, **options):
        host, port = options["host"], options["port"]
        manage = str(Path(settings.BASE_DIR) / "manage.py")
        celery = [sys.executable, "-m", "celery", "-A", "jointops"]
        commands = {
            "web": [sys.executable, manage, "runserver", f"{host}:{port}", "--noreload"],
            "worker": [*celery, "worker", "--concurrency", "1", "-l", "info"],
            "beat": [*celery, "beat", "-l", "info", "--schedule", settings.CELERY_BEAT_SCHEDULE_FILENAME],
        }
        self._stopping: int | None = None
        previous = {sig: signal.signal(sig, self._on_signal) for sig in (signal.SIGINT, signal.SIGTERM)}
        children: dict[str, subprocess.Popen] = {}
        try:
            for name, command in commands.items():
                # Own process group: a terminal's Ctrl-C reaches only this command, which stops the children in
                # order (a second SIGINT straight from the terminal would make the worker drop running tasks).
                children[name] = subprocess.Popen(command, env=os.environ.copy(), start_new_session=True)
                self.stdout.write(f"started {name} (pid {children[name].pid}): {' '.join(command[1:])}")
            self.stdout.write(self.style.SUCCESS(f"jointops is running on http://{host}:{port}/ (Ctrl-C stops it)"))
            self.stdout.flush()
            failed = self._watch(children)
        finally:
            self._stop_all(children)
            for sig, handler in previous.items():
                signal.signal(sig, handler)
        if failed:
            name, code = failed
            raise CommandError(f"{name} exited with status {code}; stopped the others.", returncode=max(code, 1))
        self.stdout.write("stopped web, worker and beat.")

    def _on_signal(self, signum, frame) -> None:
        self._stopping = signum

    def _watch(self, children: dict[str, subprocess.Popen]) -> tuple[str, int] | None:
        """Block until a signal arrives (-> None) or a child exits (-> (name, status))."""
        while self._stopping is None:
            for name, child in children.items():
                code = child.poll()
                if code is not None:
                    return name, code
            time.sleep(POLL_SECONDS)
        return None

    def _stop_all(self, children: dict[str, subprocess.Popen]) -> None:
        """SIGTERM every child still running (warm shutdown for the worker), then SIGKILL after a grace period."""
        for child in children.values():
            if child.poll() is None:
                child.send_signal(signal.SIGTERM)  # the worker stops its own pool after the running task
        deadline = time.monotonic() + STOP_GRACE_SECONDS
        for name, child in children.items():
            try:
                child.wait(timeout=max(0.1, deadline - time.monotonic()))
            except subprocess.TimeoutExpired:
                self.stderr.write(f"{name} did not stop within {STOP_GRACE_SECONDS}s: killing it.")
                _kill_group(child)
                child.wait()
            else:
                _kill_group(child)  # leftovers of the group (e.g. pool processes of a worker that crashed)


def _kill_group(child: subprocess.Popen) -> None:
    """SIGKILL the child's whole process group (it leads its own group: start_new_session=True)."""
    with contextlib.suppress(ProcessLookupError, PermissionError):
        os.killpg(child.pid, signal.SIGKILL)
