"""With the broker unreachable (a Redis URL nothing answers), work is stored, answered 2xx, and swept later.

The Celery app publishes to `redis://127.0.0.1:<a free port>/0`: kombu really
connects, is refused, retries by its publish policy and gives up. Then a real
redis-server starts on that port and the beat's sweeps enqueue what the broker
did not take, read back from the Redis list the worker would consume.
"""

import contextlib
import datetime as dt
import json
import shutil
import socket
import subprocess
import time
from collections.abc import Iterator

import pytest
from django.utils import timezone

from incidents.models import GraphSnapshot
from incidents.services import graph
from oncall import services
from oncall.models import Notification, Page
from oncall.services import notifications
from tests.brokers import broker
from tests.factories import IncidentFactory, make_rotation

pytestmark = pytest.mark.django_db(transaction=True)  # the enqueues run on real commits


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


@contextlib.contextmanager
def redis_server(port: int) -> Iterator[None]:
    """A redis-server of its own on `port`, stopped afterwards."""
    server = subprocess.Popen(
        ["redis-server", "--port", str(port), "--bind", "127.0.0.1", "--save", "", "--appendonly", "no"],
        stdout=subprocess.DEVNULL,
    )
    try:
        for _ in range(50):
            with socket.socket() as attempt:
                if attempt.connect_ex(("127.0.0.1", port)) == 0:
                    break
            time.sleep(0.1)
        yield
    finally:
        server.terminate()
        server.wait(timeout=10)


def queued(port: int) -> list[str]:
    """The names of the tasks waiting in the default queue of the Redis on `port`."""
    import redis

    client = redis.Redis(host="127.0.0.1", port=port, db=0)
    return sorted(json.loads(raw)["headers"]["task"] for raw in client.lrange("celery", 0, -1))


def test_a_page_and_a_graph_are_stored_and_answered_while_the_broker_is_unreachable(api, settings):
    if not shutil.which("redis-server"):
        pytest.skip("redis-server is missing: apt-get install -y --no-install-recommends redis-server")
    settings.GRAPH_FETCH_ALLOWED_HOSTS = ["graphs.example.com"]
    team = make_rotation(slug="payments-primary", people=("gus", "hana"), now=timezone.now()).team
    incident = IncidentFactory()
    port = free_port()

    with broker(f"redis://127.0.0.1:{port}/0"):
        started = time.monotonic()
        page = api.post("/api/v1/pages/", {"team": team.slug, "message": "Checkout down"}, format="json")
        snapshot = api.post(
            f"/api/v1/incidents/{incident.pk}/graphs/",
            {"title": "5xx", "url": "https://graphs.example.com/render.png"},
            format="json",
        )
        took = time.monotonic() - started
        assert page.status_code == 201, page.content
        assert snapshot.status_code == 201, snapshot.content
        # Stored once each: a client has no reason to retry and make a second one.
        assert Page.objects.count() == 1 and GraphSnapshot.objects.count() == 1
        step = Page.objects.get().steps.get()
        assert step.notified_at is None  # its task never reached a worker
        assert took < 30

        # The sweeps run while the broker is still down: nothing is lost, nothing raises.
        later = timezone.now() + dt.timedelta(minutes=10)
        services.sweep_pages(now=step.created_at + dt.timedelta(minutes=2))
        assert notifications.sweep_notifications(now=later) == 0
        assert graph.requeue_lost_snapshots(now=later) == []

        with redis_server(port):
            sent = notifications.sweep_notifications(now=later)
            requeued = graph.requeue_lost_snapshots(now=later)
            names = queued(port)
    print(f"\nswept once the broker was back: {sent} notifications, {len(requeued)} graph snapshots")
    assert sent == Notification.objects.filter(step=step).count() == 2  # the person and the team
    assert requeued == [snapshot.json()["id"]]
    assert names.count(notifications.SEND_TASK) == 2 and names.count(graph.CAPTURE_TASK) == 1
