"""GET /metrics: Morgue observed like the systems it watches, in Prometheus's text format.

Counters and histograms are prometheus_client's. Under gunicorn and Celery
each process counts for itself; with PROMETHEUS_MULTIPROC_DIR set (one empty
directory per host, shared by the web and worker processes there), each
process writes its figures to files in it and a scrape of any web process
sums them all, so a counter never goes back when a different worker answers.

Two figures are read at scrape time rather than counted: how long the oldest
queued task has waited and how long ago beat ticked (the same readings as
/healthz), so they are right however many processes there are.

Access: from the networks in METRICS_ALLOWED_NETWORKS (loopback by default),
or from anywhere with `Authorization: Bearer <METRICS_TOKEN>`.
"""

import hmac
import ipaddress
import os
from collections.abc import Iterator

from django.conf import settings
from django.contrib.auth.decorators import login_not_required
from django.db import DatabaseError, transaction
from django.http import HttpRequest, HttpResponse
from django.utils import timezone
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_GET
from prometheus_client import CONTENT_TYPE_PLAIN_0_0_4, CollectorRegistry, Counter, Histogram, generate_latest
from prometheus_client.core import GaugeMetricFamily
from prometheus_client.multiprocess import MultiProcessCollector
from prometheus_client.registry import Collector

# Our own registry, so nothing a library registers globally ends up on the page.
registry = CollectorRegistry(auto_describe=True)

# A request's latency, from a few milliseconds to the worker timeout.
LATENCY_BUCKETS = (0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 30.0)

http_requests = Counter(
    "morgue_http_requests",
    "HTTP requests answered, by view, method and status.",
    ["view", "method", "status"],
    registry=registry,
)
http_request_duration = Histogram(
    "morgue_http_request_duration_seconds",
    "Time from a request's arrival at Django to its answer, by view.",
    ["view"],
    buckets=LATENCY_BUCKETS,
    registry=registry,
)
alerts_received = Counter(
    "morgue_alerts_received",
    "Alerts received by the receivers, by source (new, repeated and resolving deliveries alike).",
    ["source"],
    registry=registry,
)
pages_opened = Counter("morgue_pages_opened", "Pages opened, by team.", ["team"], registry=registry)
pages_acknowledged = Counter(
    "morgue_pages_acknowledged", "Pages acknowledged, by team.", ["team"], registry=registry
)
notification_deliveries = Counter(
    "morgue_notification_deliveries",
    "Notification send attempts, by contact method and result (sent, retrying, failed).",
    ["method", "result"],
    registry=registry,
)
task_runs = Counter(
    "morgue_task_runs",
    "Celery task runs, by task and final state (SUCCESS, FAILURE, RETRY).",
    ["task", "state"],
    registry=registry,
)

# A request that matched no URL pattern is counted under this view name, so a
# scan of random addresses adds one series, not one per address.
UNMATCHED = "unmatched"


def count_on_commit(counter: Counter, amount: float = 1, **labels: str) -> None:
    """Add to `counter` when the transaction commits (at once outside one); a rollback adds nothing."""
    transaction.on_commit(lambda: counter.labels(**labels).inc(amount))


def observe_request(*, view: str | None, method: str, status: int, seconds: float) -> None:
    """Count one answered request (called by the request middleware)."""
    name = view or UNMATCHED
    # Methods outside HTTP's standard set are one series too.
    verb = method if method in {"GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS"} else "OTHER"
    http_requests.labels(view=name, method=verb, status=str(status)).inc()
    http_request_duration.labels(view=name).observe(seconds)


class ReadingsCollector(Collector):
    """Figures read when scraped: the oldest queued task's age and the time since beat's last tick."""

    def collect(self) -> Iterator[GaugeMetricFamily]:
        # Imported here: health imports the Celery app, which is not needed to count.
        from .health import oldest_queued_at
        from .models import Heartbeat

        now = timezone.now()
        queued = GaugeMetricFamily(
            "morgue_queue_oldest_task_age_seconds",
            "How long the oldest task waiting in the default queue has waited (0 when none waits).",
        )
        oldest = oldest_queued_at()
        queued.add_metric([], max((now - oldest).total_seconds(), 0.0) if oldest else 0.0)
        yield queued
        try:
            ticks = dict(Heartbeat.objects.values_list("name", "at"))
        except DatabaseError:
            return  # the database is down: /healthz says so; the counters are still worth having
        beat = GaugeMetricFamily(
            "morgue_beat_last_tick_age_seconds",
            "Seconds since Celery beat last ticked (absent when it never has).",
        )
        if (tick := ticks.get("beat")) is not None:
            beat.add_metric([], max((now - tick).total_seconds(), 0.0))
        yield beat


def exposition() -> bytes:
    """The page a scrape reads: every process's figures when multiprocess, then the readings."""
    if os.environ.get("PROMETHEUS_MULTIPROC_DIR"):
        counted = CollectorRegistry()
        MultiProcessCollector(counted)
    else:
        counted = registry
    readings = CollectorRegistry()
    readings.register(ReadingsCollector())
    return generate_latest(counted) + generate_latest(readings)


def _allowed(request: HttpRequest) -> bool:
    token = settings.METRICS_TOKEN
    given = request.headers.get("Authorization", "")
    if token and hmac.compare_digest(given.encode(), f"Bearer {token}".encode()):
        return True
    try:
        address = ipaddress.ip_address(request.META.get("REMOTE_ADDR", ""))
    except ValueError:
        return False
    return any(address in network for network in settings.METRICS_ALLOWED_NETWORKS)


@login_not_required
@never_cache
@require_GET
def metrics(request: HttpRequest) -> HttpResponse:
    """For Prometheus: every counter above and the two readings, or 403 with a sentence."""
    if not _allowed(request):
        return HttpResponse(
            "Metrics are served to the networks in METRICS_ALLOWED_NETWORKS, "
            "or with Authorization: Bearer <METRICS_TOKEN>.\n",
            status=403,
            content_type="text/plain; charset=utf-8",
        )
    return HttpResponse(exposition(), content_type=CONTENT_TYPE_PLAIN_0_0_4)
