"""Settings come from the environment: embedded defaults with none, real services with URLs, clean --deploy check.

Each case runs in a fresh interpreter with an explicit environment (settings are read once per process).
"""

from __future__ import annotations

import json
import os
import secrets
import subprocess
import sys
from pathlib import Path

from django.conf import settings

# Variables the settings read; removed from the child's environment so each case starts from nothing.
SETTINGS_VARIABLES = (
    "DATABASE_URL",
    "REDIS_URL",
    "CELERY_BROKER_URL",
    "EMAIL_URL",
    "DJANGO_DEBUG",
    "DJANGO_HTTPS",
    "DJANGO_SECRET_KEY",
    "DJANGO_ALLOWED_HOSTS",
    "STATICFILES_STORAGE",
    "CELERY_TASK_ALWAYS_EAGER",
)

DUMP = """
import json
import django

django.setup()
from django.conf import settings as s

db = s.DATABASES["default"]
options = db.get("OPTIONS", {})
print(json.dumps({
    "db_engine": db["ENGINE"], "db_name": str(db["NAME"]), "db_host": db.get("HOST", ""), "db_port": db.get("PORT"),
    "db_init": options.get("init_command", ""), "db_timeout": options.get("connect_timeout"),
    "broker": s.CELERY_BROKER_URL, "broker_options": s.CELERY_BROKER_TRANSPORT_OPTIONS,
    "cache": s.CACHES["default"]["BACKEND"],
    "email_backend": s.EMAIL_BACKEND, "email_host": getattr(s, "EMAIL_HOST", ""), "email_port": s.EMAIL_PORT,
    "email_file_path": getattr(s, "EMAIL_FILE_PATH", None),
    "debug": s.DEBUG, "secret_key": s.SECRET_KEY,
}))
"""


def _env(var_dir: Path, **values: str) -> dict[str, str]:
    env = {key: value for key, value in os.environ.items() if key not in SETTINGS_VARIABLES}
    env.update({"DJANGO_SETTINGS_MODULE": "jointops.settings", "JOINTOPS_VAR_DIR": str(var_dir), **values})
    return env


def _settings_with(var_dir: Path, **values: str) -> dict:
    result = subprocess.run(
        [sys.executable, "-c", DUMP],
        cwd=settings.BASE_DIR,
        env=_env(var_dir, **values),
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert result.returncode == 0, result.stderr
    return json.loads(result.stdout.strip().splitlines()[-1])


def _deploy_check(var_dir: Path, **values: str) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "manage.py", "check", "--deploy", "--fail-level", "WARNING"],
        cwd=settings.BASE_DIR,
        env=_env(var_dir, **values),
        capture_output=True,
        text=True,
        timeout=120,
    )


def test_settings_no_environment_uses_embedded_parts(tmp_path):
    found = _settings_with(tmp_path)

    assert found["db_engine"] == "django.db.backends.sqlite3"
    assert found["db_name"] == str(tmp_path / "db.sqlite3")
    assert "journal_mode=WAL" in found["db_init"] and "busy_timeout" in found["db_init"]
    assert found["broker"] == "filesystem://"
    assert found["broker_options"]["data_folder_in"] == str(tmp_path / "broker" / "queue")
    assert (tmp_path / "broker" / "queue").is_dir()
    assert found["email_backend"] == "django.core.mail.backends.filebased.EmailBackend"
    assert found["email_file_path"] == str(tmp_path / "mail")
    assert found["cache"] == "django.core.cache.backends.locmem.LocMemCache"
    assert found["debug"] is False


def test_settings_no_secret_key_generates_one_kept_outside_the_repository(tmp_path):
    first = _settings_with(tmp_path)["secret_key"]
    second = _settings_with(tmp_path)["secret_key"]

    key_file = tmp_path / "secret_key"
    assert first == second == key_file.read_text().strip()
    assert len(first) >= 50
    assert key_file.stat().st_mode & 0o077 == 0  # readable by its owner only
    assert _settings_with(tmp_path, DJANGO_SECRET_KEY="from-the-environment")["secret_key"] == "from-the-environment"


def test_settings_service_urls_switch_to_postgresql_redis_and_smtp(tmp_path):
    found = _settings_with(
        tmp_path,
        DATABASE_URL="postgres://jo:secret@db.example.org:5433/jointops",
        REDIS_URL="redis://cache.example.org:6379/2",
        EMAIL_URL="smtp://mailpit:1025",
    )

    assert found["db_engine"] == "django.db.backends.postgresql"
    assert (found["db_host"], str(found["db_port"]), found["db_name"]) == ("db.example.org", "5433", "jointops")
    assert found["db_init"] == ""
    assert found["db_timeout"] == 5  # an unreachable server fails fast instead of hanging /healthz
    assert found["broker"] == "redis://cache.example.org:6379/2"
    assert found["broker_options"]["visibility_timeout"] > 600  # longer than the task hard time limit
    assert found["cache"] == "django.core.cache.backends.redis.RedisCache"
    assert found["email_backend"] == "django.core.mail.backends.smtp.EmailBackend"
    assert (found["email_host"], found["email_port"]) == ("mailpit", 1025)
    assert not (tmp_path / "broker").exists()


def test_settings_celery_broker_url_overrides_redis_url(tmp_path):
    found = _settings_with(
        tmp_path, REDIS_URL="redis://cache.example.org:6379/2", CELERY_BROKER_URL="redis://broker.example.org:6379/0"
    )

    assert found["broker"] == "redis://broker.example.org:6379/0"
    assert found["cache"] == "django.core.cache.backends.redis.RedisCache"


def test_settings_production_environment_passes_check_deploy_without_warnings(tmp_path):
    result = _deploy_check(
        tmp_path,
        DJANGO_DEBUG="0",
        DJANGO_HTTPS="1",
        DJANGO_SECRET_KEY=secrets.token_urlsafe(64),
        DJANGO_ALLOWED_HOSTS="jointops.example.org",
    )

    assert result.returncode == 0, result.stdout + result.stderr
    assert "no issues" in result.stdout


def test_settings_without_https_fails_check_deploy(tmp_path):
    result = _deploy_check(
        tmp_path, DJANGO_DEBUG="0", DJANGO_SECRET_KEY=secrets.token_urlsafe(64), DJANGO_ALLOWED_HOSTS="example.org"
    )

    assert result.returncode != 0
    assert "security.W004" in result.stderr  # no HSTS: the check is strict, so the passing case means something
