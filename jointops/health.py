"""/healthz: 200 when the database and the broker both answer, 503 otherwise. No personal data, no auth."""

from django.conf import settings
from django.db import connection
from django.http import JsonResponse
from django.utils import timezone
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_GET

from jointops.celery import app as celery_app
from jointops.models import WorkerHeartbeat


def database_ok() -> bool:
    try:
        with connection.cursor() as cursor:
            cursor.execute("SELECT 1")
            return cursor.fetchone()[0] == 1
    except Exception:  # any failure means "not healthy"; the reason goes to the log, not to the caller
        return False


def broker_ok() -> bool:
    try:
        with celery_app.connection_for_write() as conn:
            conn.ensure_connection(max_retries=1, timeout=settings.HEALTHZ_BROKER_TIMEOUT)
            return True
    except Exception:
        return False


@never_cache
@require_GET
def healthz(request):
    db, broker = database_ok(), broker_ok()
    body = {"database": "ok" if db else "down", "broker": "ok" if broker else "down"}
    if db:
        beat = WorkerHeartbeat.objects.filter(name="worker").values_list("seen_at", flat=True).first()
        body["worker_heartbeat_age_seconds"] = None if beat is None else int((timezone.now() - beat).total_seconds())
    body["status"] = "ok" if db and broker else "unavailable"
    return JsonResponse(body, status=200 if db and broker else 503)
