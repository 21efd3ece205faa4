"""GET /healthz: the database must answer; the broker is reported."""

from pathlib import Path

from django.conf import settings
from django.contrib.auth.decorators import login_not_required
from django.db import DatabaseError, connection
from django.http import HttpRequest, JsonResponse
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_GET

from .celery import app as celery_app


def broker_status() -> str:
    """`ok` when the Celery broker accepts a connection within a second, else `unavailable`."""
    url = settings.CELERY_BROKER_URL
    if url.startswith("filesystem://"):
        folder = Path(settings.CELERY_BROKER_TRANSPORT_OPTIONS["data_folder_out"])
        return "ok" if folder.is_dir() else "unavailable"
    if url.startswith("memory://"):
        return "ok"
    try:
        with celery_app.connection_for_write() as connection:
            connection.ensure_connection(max_retries=1, timeout=1)
    except Exception:  # noqa: BLE001 - any failure means the broker is not usable
        return "unavailable"
    return "ok"


@login_not_required
@never_cache
@require_GET
def healthz(request: HttpRequest) -> JsonResponse:
    """Liveness for load balancers: the database must answer; the broker is reported."""
    try:
        with connection.cursor() as cursor:
            cursor.execute("SELECT 1")
            cursor.fetchone()
    except DatabaseError:
        return JsonResponse({"database": "unavailable", "broker": broker_status()}, status=503)
    return JsonResponse({"database": "ok", "broker": broker_status()})
