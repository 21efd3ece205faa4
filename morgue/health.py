"""GET /healthz: the database answers, beat ticks and queued tasks are taken; broker and workers reported.

A 503 carries one sentence per problem, for the person paged by it.
"""

import datetime as dt
import json
from pathlib import Path

from django.conf import settings
from django.contrib.auth.decorators import login_not_required
from django.core.cache import cache
from django.db import DatabaseError, connection
from django.http import HttpRequest, JsonResponse
from django.utils import timezone
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_GET

from .celery import SENT_AT_HEADER
from .celery import app as celery_app
from .models import Heartbeat

# Written by the beat process each time it renews its lease (morgue/beat.py).
BEAT = "beat"
# Written by a worker running the heartbeat task beat sends every minute.
WORKER = "worker"
# Beat renews every half minute; a task waits seconds when a worker is free.
BEAT_STALE_AFTER = dt.timedelta(minutes=5)
QUEUE_STUCK_AFTER = dt.timedelta(minutes=5)
WORKER_PING_SECONDS = 0.5
WORKER_PING_CACHE_SECONDS = 10


def record_heartbeat(name: str) -> None:
    """`name` (beat, or a worker) showed it is running now."""
    Heartbeat.objects.update_or_create(name=name, defaults={"at": timezone.now()})


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


def oldest_queued_at() -> dt.datetime | None:
    """When the oldest task waiting in the default queue was sent; None for an empty or unreadable queue."""
    url = settings.CELERY_BROKER_URL
    queue = celery_app.conf.task_default_queue
    try:
        if url.startswith("filesystem://"):
            folder = Path(settings.CELERY_BROKER_TRANSPORT_OPTIONS["data_folder_out"])
            times = [path.stat().st_mtime for path in folder.glob(f"*.{queue}.msg")]
            return dt.datetime.fromtimestamp(min(times), dt.UTC) if times else None
        if url.startswith(("redis://", "rediss://")):
            with celery_app.connection_for_read() as broker:
                broker.ensure_connection(max_retries=1, timeout=1)
                # Kombu pushes on the left and workers pop on the right.
                raw = broker.default_channel.client.lindex(queue, -1)  # type: ignore[attr-defined]
            if raw is None:
                return None
            sent_at = json.loads(raw).get("headers", {}).get(SENT_AT_HEADER)
            return dt.datetime.fromtimestamp(float(sent_at), dt.UTC) if sent_at else None
    except Exception:  # noqa: BLE001 - health must answer whatever the broker does
        return None
    return None


def worker_status() -> str:
    """`answered` when a worker answers a ping, `no answer`, or `unknown` (a transport without broadcast)."""
    status = cache.get("morgue:health:worker")
    if status is None:
        if settings.CELERY_BROKER_URL.startswith("memory://"):
            status = "unknown"
        else:
            try:
                replies = celery_app.control.ping(timeout=WORKER_PING_SECONDS)
            except Exception:  # noqa: BLE001 - a broker that cannot broadcast
                status = "unknown"
            else:
                status = "answered" if replies else "no answer"
        cache.set("morgue:health:worker", status, WORKER_PING_CACHE_SECONDS)
    return status


def _minutes(delta: dt.timedelta) -> str:
    minutes = int(delta.total_seconds() // 60)
    return "1 minute" if minutes == 1 else f"{minutes} minutes"


def _iso(moment: dt.datetime | None) -> str | None:
    return moment.isoformat().replace("+00:00", "Z") if moment else None


@login_not_required
@never_cache
@require_GET
def healthz(request: HttpRequest) -> JsonResponse:
    """For load balancers and monitors: 200 when all is well, else 503 with a sentence per problem."""
    try:
        with connection.cursor() as cursor:
            cursor.execute("SELECT 1")
            cursor.fetchone()
        heartbeats = dict(Heartbeat.objects.values_list("name", "at"))
    except DatabaseError:
        return JsonResponse(
            {
                "database": "unavailable",
                "broker": broker_status(),
                "problems": ["The database does not answer."],
            },
            status=503,
        )
    now = timezone.now()
    problems = []
    beat_at = heartbeats.get(BEAT)
    if beat_at is None:
        problems.append("Celery beat has never ticked: start exactly one `celery -A morgue beat`.")
    elif now - beat_at > BEAT_STALE_AFTER:
        problems.append(f"Celery beat has not ticked for {_minutes(now - beat_at)}.")
    queued_at = oldest_queued_at()
    if queued_at is not None and now - queued_at > QUEUE_STUCK_AFTER:
        problems.append(
            f"The oldest queued task has waited {_minutes(now - queued_at)}: no worker is taking tasks."
        )
    body = {
        "database": "ok",
        "broker": broker_status(),
        "beat_last_tick": _iso(beat_at),
        "worker_last_heartbeat": _iso(heartbeats.get(WORKER)),
        "oldest_queued_task_seconds": int((now - queued_at).total_seconds()) if queued_at else None,
        "worker": worker_status(),
        "problems": problems,
    }
    return JsonResponse(body, status=503 if problems else 200)
