"""f. 32 concurrent clients: gunicorn serving the application as in production (Dockerfile: `gunicorn jointops.wsgi
-w 2`, sync workers, DJANGO_DEBUG=0) with bench.settings (the raw-SQL list view added, throttling off), and wrk
with 32 connections against the list API and against the raw-SQL list view (bench.rawviews), both with the same
partner-system token, on the same server. wrk's summary comes back through bench/wrk_report.lua (p50/p95 latency,
errors). gunicorn is always stopped at the end.
"""

from __future__ import annotations

import json
import os
import shutil
import signal
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from pathlib import Path
from typing import Any

BENCH_DIR = Path(__file__).resolve().parent
BASE_DIR = BENCH_DIR.parent
WRK_REPORT = BENCH_DIR / "wrk_report.lua"
API_PATH = "/api/v1/return-cases/?page_size=50"


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def start_gunicorn(*, database_url: str, port: int, var_dir: Path, workers: int = 2) -> subprocess.Popen:
    gunicorn = shutil.which("gunicorn", path=str(Path(sys.executable).parent)) or "gunicorn"
    env = {
        **os.environ,
        "DJANGO_SETTINGS_MODULE": "bench.settings",
        "DJANGO_DEBUG": "0",
        "DATABASE_URL": database_url,
        "JOINTOPS_VAR_DIR": str(var_dir),
    }
    var_dir.mkdir(parents=True, exist_ok=True)
    log = (var_dir / "gunicorn.log").open("ab")
    return subprocess.Popen(
        [
            gunicorn,
            "jointops.wsgi",
            "-w",
            str(workers),
            "-b",
            f"127.0.0.1:{port}",
            "--access-logfile",
            str(var_dir / "gunicorn-access.log"),
        ],
        cwd=BASE_DIR,
        env=env,
        stdout=log,
        stderr=subprocess.STDOUT,
        start_new_session=True,  # its own process group: stopped as a whole, by its id, at the end
    )


def stop_gunicorn(process: subprocess.Popen) -> None:
    if process.poll() is not None:
        return
    process.send_signal(signal.SIGTERM)  # the master stops its workers gracefully
    try:
        process.wait(timeout=20)
    except subprocess.TimeoutExpired:
        os.killpg(process.pid, signal.SIGKILL)
        process.wait(timeout=10)


def get(url: str, token: str, timeout: float = 10.0) -> tuple[int, bytes]:
    request = urllib.request.Request(url, headers={"Authorization": f"Token {token}"})
    try:
        with urllib.request.urlopen(request, timeout=timeout) as response:  # noqa: S310 (a local URL)
            return response.status, response.read()
    except urllib.error.HTTPError as error:
        return error.code, error.read()


def wait_ready(url: str, token: str, process: subprocess.Popen, timeout: float = 60.0) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError("gunicorn exited at start: see its log under the var directory")
        try:
            status, _body = get(url, token, timeout=5)
            if status == 200:
                return
        except OSError:
            pass
        time.sleep(0.5)
    raise RuntimeError(f"gunicorn did not answer {url} within {timeout:.0f} s")


def wrk(url: str, token: str, *, seconds: int, connections: int = 32, threads: int = 2) -> dict[str, Any]:
    completed = subprocess.run(
        [
            "wrk",
            f"-t{threads}",
            f"-c{connections}",
            f"-d{seconds}s",
            "--latency",
            "--timeout",
            "10s",
            "-s",
            str(WRK_REPORT),
            "-H",
            f"Authorization: Token {token}",
            url,
        ],
        capture_output=True,
        text=True,
        check=True,
    )
    line = next(x for x in completed.stdout.splitlines() if x.startswith("BENCH_JSON "))
    report = json.loads(line.removeprefix("BENCH_JSON "))
    report["requests_per_second"] = report["requests"] / (report["duration_us"] / 1e6)
    report["errors"] = sum(report[k] for k in ("status_errors", "connect", "read", "write", "timeout"))
    return report


def drain(url: str, token: str) -> None:
    """Wait until the requests wrk left queued when it stopped are served: the listen queue is first in, first out,
    so one request answered means the backlog before it is gone (the next run starts on an idle server)."""
    get(url, token, timeout=120)


def measure_concurrency(
    *, database_url: str, token: str, var_dir: Path, seconds: int, rounds: int = 3, connections: int = 32
) -> dict[str, Any]:
    from bench.urls import RAW_LIST_PATH

    port = free_port()
    base = f"http://127.0.0.1:{port}"
    targets = {"raw": f"{base}{RAW_LIST_PATH}?page_size=50", "app": f"{base}{API_PATH}"}
    process = start_gunicorn(database_url=database_url, port=port, var_dir=var_dir)
    try:
        wait_ready(targets["raw"], token, process)
        results: dict[str, Any] = {"connections": connections, "seconds": seconds, "rounds": rounds, "workers": 2}
        for url in targets.values():
            status, body = get(url, token)
            if status != 200 or len(json.loads(body).get("results", [])) != 50:
                raise RuntimeError(f"{url} answered {status}: {body[:300]!r}")
            wrk(url, token, seconds=2, connections=connections)  # warm-up: workers loaded, connections, caches
            drain(targets["raw"], token)
        # Alternate raw and app runs; each side reports its median run (by requests/s), so that a burst of load
        # elsewhere on the machine during one run does not decide the ratio.
        runs: dict[str, list[dict[str, Any]]] = {name: [] for name in targets}
        for _round in range(rounds):
            for name, url in targets.items():
                runs[name].append(wrk(url, token, seconds=seconds, connections=connections))
                drain(targets["raw"], token)
        for name, reports in runs.items():
            ordered = sorted(reports, key=lambda r: r["requests_per_second"])
            results[name] = {
                **ordered[len(ordered) // 2],
                "runs_requests_per_second": [r["requests_per_second"] for r in reports],
            }
            results[name]["errors"] = sum(r["errors"] for r in reports)  # every run counts
        app, raw = results["app"], results["raw"]
        results["throughput_ratio"] = app["requests_per_second"] / raw["requests_per_second"]
        results["app_p95_over_p50"] = app["p95_us"] / app["p50_us"]
        results["raw_p95_over_p50"] = raw["p95_us"] / raw["p50_us"]
        return results
    finally:
        stop_gunicorn(process)
