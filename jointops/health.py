"""/healthz: 200 when the database and the broker both answer, 503 otherwise. No personal data, no auth.

Each check is bounded by a short timeout (HEALTHZ_BROKER_TIMEOUT for the broker) and never raises: a load
balancer or `docker compose` polls this URL and must get an answer quickly, whatever is down.
"""

import logging
import os

from django.conf import settings
from django.db import connection
from django.http import JsonResponse
from django.utils import timezone
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_GET
from kombu import Connection

from jointops.celery import app as celery_app
from jointops.models import WorkerHeartbeat

logger = logging.getLogger(__name__)


def database_ok() -> bool:
    try:
        with connection.cursor() as cursor:
            cursor.execute("SELECT 1")
            return cursor.fetchone()[0] == 1
    except Exception:  # any failure means "not healthy"; the reason goes to the log, not to the caller
        logger.warning("healthz: the database does not answer", exc_info=True)
        return False


def _filesystem_broker_ok(options: dict) -> bool:
    """The embedded broker is two folders: they must exist and be writable by this process."""
    folders = {options.get("data_folder_in", "data_in"), options.get("data_folder_out", "data_out")}
    return all(os.path.isdir(folder) and os.access(folder, os.W_OK | os.X_OK) for folder in folders)


def broker_ok() -> bool:
    """Open a fresh connection to the broker the Celery app publishes to: one attempt, short timeouts."""
    timeout = settings.HEALTHZ_BROKER_TIMEOUT
    conf = celery_app.conf
    url = conf.broker_write_url  # falls back to broker_url
    options = dict(conf.broker_transport_options or {})
    try:
        if url.startswith("filesystem://"):
            return _filesystem_broker_ok(options)
        options.update({"socket_connect_timeout": timeout, "socket_timeout": timeout, "max_retries": 0})
        with Connection(url, connect_timeout=timeout, transport_options=options) as conn:
            conn.ensure_connection(max_retries=0, timeout=timeout)
            return conn.connected
    except Exception:
        logger.warning("healthz: the broker does not answer", exc_info=True)
        return False


def _heartbeat_age_seconds() -> int | None:
    try:
        beat = WorkerHeartbeat.objects.filter(name="worker").values_list("seen_at", flat=True).first()
    except Exception:  # e.g. not migrated yet: still report the rest
        logger.warning("healthz: cannot read the worker heartbeat", exc_info=True)
        return None
    return None if beat is None else int((timezone.now() - beat).total_seconds())


@never_cache
@require_GET
def healthz(request):
    db, broker = database_ok(), broker_ok()
    body = {"database": "ok" if db else "down", "broker": "ok" if broker else "down"}
    if db:
        # Informational only: the worker may be scaled to zero without making the web tier unhealthy.
        body["worker_heartbeat_age_seconds"] = _heartbeat_age_seconds()
    body["status"] = "ok" if db and broker else "unavailable"
    return JsonResponse(body, status=200 if db and broker else 503)
