"""docker-compose.yml and the Dockerfile, checked without a Docker engine: services, one image, documented env."""

from __future__ import annotations

import json
import re
import shlex
from pathlib import Path

import pytest
import yaml
from django.conf import settings

ROOT = Path(settings.BASE_DIR)
APP_SERVICES = ("web", "worker", "beat")


@pytest.fixture(scope="module")
def compose() -> dict:
    return yaml.safe_load((ROOT / "docker-compose.yml").read_text())


@pytest.fixture(scope="module")
def services(compose) -> dict:
    return compose["services"]


@pytest.fixture(scope="module")
def readme() -> str:
    return (ROOT / "README.md").read_text()


def _command(service: dict) -> list[str]:
    command = service["command"]
    return shlex.split(command) if isinstance(command, str) else list(command)


def _env_keys(service: dict) -> set[str]:
    environment = service.get("environment") or {}
    if isinstance(environment, list):
        return {item.split("=", 1)[0] for item in environment}
    return set(environment)


def settings_variables() -> set[str]:
    """Every environment variable jointops/settings.py reads (env.str("X"), env.db("X"), env("X"), ...)."""
    source = (ROOT / "jointops" / "settings.py").read_text()
    return set(re.findall(r"\benv(?:\.\w+)?\(\s*\"([A-Z][A-Z0-9_]*)\"", source))


def compose_variables(compose: dict) -> set[str]:
    """Variables compose sets in a container, interpolates from .env, or that .env.example lists."""
    names = set()
    for service in compose["services"].values():
        names |= _env_keys(service)
    names |= set(re.findall(r"\$\{([A-Z][A-Z0-9_]*)", (ROOT / "docker-compose.yml").read_text()))
    example = (ROOT / ".env.example").read_text()
    names |= set(re.findall(r"^#?\s*([A-Z][A-Z0-9_]*)=", example, flags=re.MULTILINE))
    return names


def test_compose_defines_the_whole_stack(services):
    assert {"postgres", "redis", "web", "worker", "beat", "mailpit", "migrate"} <= set(services)
    assert services["postgres"]["image"].startswith("postgres:15")
    assert services["redis"]["image"].startswith("redis:7")
    assert {"8025:8025"} <= set(services["mailpit"]["ports"])


def test_compose_web_worker_and_beat_share_one_image(services):
    builds = {json.dumps(services[name].get("build"), sort_keys=True) for name in APP_SERVICES}
    images = {services[name].get("image") for name in APP_SERVICES}

    assert builds == {json.dumps(".")}
    assert len(images) == 1 and None not in images


def test_compose_commands_run_gunicorn_celery_worker_and_beat(services):
    web, worker, beat = (_command(services[name]) for name in APP_SERVICES)

    assert web[:2] == ["gunicorn", "jointops.wsgi"] and "0.0.0.0:8000" in web
    assert worker[:4] == ["celery", "-A", "jointops", "worker"]
    assert beat[:4] == ["celery", "-A", "jointops", "beat"]
    assert _command(services["migrate"])[-2:] == ["migrate", "--noinput"]


def test_compose_app_services_point_at_the_real_services(services):
    for name in (*APP_SERVICES, "migrate"):
        environment = services[name]["environment"]
        assert (
            environment["DATABASE_URL"].startswith("postgres://") and "@postgres:5432/" in environment["DATABASE_URL"]
        )
        assert environment["REDIS_URL"] == "redis://redis:6379/0"
        assert environment["EMAIL_URL"] == "smtp://mailpit:1025"
        assert services[name]["env_file"] == ".env"  # DJANGO_SECRET_KEY comes from there, never from the repo
    assert "DJANGO_SECRET_KEY" in (ROOT / ".env.example").read_text()
    assert ".env" in (ROOT / ".gitignore").read_text().split()


def test_compose_app_services_wait_for_healthy_services_and_migrations(services):
    for name in APP_SERVICES:
        depends_on = services[name]["depends_on"]
        assert depends_on["postgres"]["condition"] == "service_healthy"
        assert depends_on["redis"]["condition"] == "service_healthy"
        assert depends_on["migrate"]["condition"] == "service_completed_successfully"
    for name in ("postgres", "redis", "mailpit", "web", "worker"):
        assert services[name]["healthcheck"]["test"], name
    assert "/healthz" in " ".join(services["web"]["healthcheck"]["test"])


def test_compose_every_variable_is_documented_in_readme(compose, readme):
    documented = set(re.findall(r"`([A-Z][A-Z0-9_]*)`", readme))

    missing = sorted((settings_variables() | compose_variables(compose)) - documented)

    assert settings_variables() >= {"DATABASE_URL", "REDIS_URL", "EMAIL_URL", "DJANGO_SECRET_KEY"}
    assert missing == [], f"document these in README.md (as `NAME`): {missing}"


def test_dockerfile_builds_a_non_root_image_with_static_files():
    dockerfile = (ROOT / "Dockerfile").read_text()

    assert re.search(r"^FROM python:3\.11-slim\b", dockerfile, flags=re.MULTILINE)
    assert "pip install -r requirements.txt" in dockerfile
    assert "collectstatic --noinput" in dockerfile
    assert "whitenoise.storage.CompressedManifestStaticFilesStorage" in dockerfile
    assert "compile_translations" in dockerfile  # .mo files are not in the repository
    users = re.findall(r"^USER\s+(\S+)", dockerfile, flags=re.MULTILINE)
    assert users and users[-1] not in ("root", "0")


def test_dockerfile_and_compose_commands_exist(services):
    dockerfile = (ROOT / "Dockerfile").read_text()
    cmd = json.loads(re.search(r"^CMD\s+(\[.*\])\s*$", dockerfile, flags=re.MULTILINE).group(1))
    assert "ENTRYPOINT" not in dockerfile  # nothing hidden in front of the commands checked below
    requirements = (ROOT / "requirements.txt").read_text().lower()

    for command in (cmd, *(_command(services[name]) for name in (*APP_SERVICES, "migrate"))):
        program = command[0]
        if program == "gunicorn":
            assert "gunicorn==" in requirements
            assert (ROOT / (command[1].replace(".", "/") + ".py")).is_file(), command
        elif program == "celery":
            assert "celery[redis]==" in requirements
            assert (ROOT / command[command.index("-A") + 1] / "celery.py").is_file(), command
        else:
            assert command[:2] == ["python", "manage.py"], command
            assert (ROOT / "manage.py").is_file()


def test_dockerignore_keeps_local_state_and_secrets_out_of_the_image():
    ignored = set((ROOT / ".dockerignore").read_text().split())

    assert {".venv", "var", ".env", ".git"} <= ignored
