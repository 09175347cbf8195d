"""Which real services this test run has. Tests that need one are marked; see conftest.py."""

import os
import shutil
import socket
from functools import cache
from urllib.parse import urlparse

REQUIRE_SERVICES = os.environ.get("REQUIRE_SERVICES") == "1"
CHROMIUM = os.environ.get("CHROMIUM_PATH", "/usr/bin/chromium")


def _port_open(url: str, default_port: int) -> bool:
    parsed = urlparse(url)
    try:
        with socket.create_connection((parsed.hostname or "127.0.0.1", parsed.port or default_port), timeout=2):
            return True
    except OSError:
        return False


@cache
def postgres_available() -> bool:
    from django.conf import settings

    return settings.DATABASES["default"]["ENGINE"].endswith("postgresql")


@cache
def redis_available() -> bool:
    url = os.environ.get("REDIS_URL", "")
    return bool(url) and _port_open(url, 6379)


@cache
def chromium_available() -> bool:
    if not (os.path.exists(CHROMIUM) or shutil.which("chromium")):
        return False
    try:
        import playwright.sync_api  # noqa: F401
    except ImportError:
        return False
    return True


NEEDS = {
    "needs_postgres": (postgres_available, "PostgreSQL is not configured (set DATABASE_URL=postgres://...)"),
    "needs_redis": (redis_available, "Redis is not reachable (set REDIS_URL=redis://...)"),
    "browser": (chromium_available, f"Chromium ({CHROMIUM}) or Playwright for Python is missing"),
}
