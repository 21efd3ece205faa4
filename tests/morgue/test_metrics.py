"""GET /metrics: requests, alerts, pages, notifications and tasks counted; readings taken at scrape time."""

import datetime as dt
import http.client
import os
import socket
import subprocess
import sys
import time
from pathlib import Path
from unittest import mock

import pytest
from prometheus_client.parser import text_string_to_metric_families

from morgue import tasks as morgue_tasks
from morgue.health import record_heartbeat
from oncall import services
from oncall.providers import DeliveryFailed, Receipt
from oncall.services import notifications
from tests.alerts_review.test_receivers import post
from tests.factories import AlertSourceFactory, TeamFactory, make_rotation
from tests.oncall.delivery import deliver

pytestmark = pytest.mark.django_db
ROOT = Path(__file__).resolve().parents[2]


def scrape(client, **headers) -> dict[tuple[str, frozenset], float]:
    response = client.get("/metrics", headers=headers)
    assert response.status_code == 200, response.content
    assert response["Content-Type"].startswith("text/plain; version=0.0.4")
    return parse(response.content.decode())


def parse(text: str) -> dict[tuple[str, frozenset], float]:
    return {
        (sample.name, frozenset(sample.labels.items())): sample.value
        for family in text_string_to_metric_families(text)
        for sample in family.samples
    }


def value(samples, name, **labels) -> float:
    return samples.get((name, frozenset(labels.items())), 0.0)


def test_only_the_allowed_networks_or_the_token_may_read_metrics(client, settings):
    settings.METRICS_TOKEN = "scrape-me"

    outside = client.get("/metrics", REMOTE_ADDR="203.0.113.9")
    wrong = client.get("/metrics", REMOTE_ADDR="203.0.113.9", headers={"authorization": "Bearer guess"})
    with_token = client.get(
        "/metrics", REMOTE_ADDR="203.0.113.9", headers={"authorization": "Bearer scrape-me"}
    )
    loopback = client.get("/metrics")  # the test client comes from 127.0.0.1

    assert outside.status_code == wrong.status_code == 403
    assert b"METRICS_ALLOWED_NETWORKS" in outside.content
    assert with_token.status_code == loopback.status_code == 200


def test_a_network_on_the_allow_list_needs_no_token(client, settings):
    import ipaddress

    settings.METRICS_ALLOWED_NETWORKS = [ipaddress.ip_network("10.1.0.0/16")]

    assert client.get("/metrics", REMOTE_ADDR="10.1.2.3").status_code == 200
    assert client.get("/metrics", REMOTE_ADDR="127.0.0.1").status_code == 403


def test_requests_are_counted_by_view_method_and_status_with_their_latency(client, person):
    client.force_login(person)
    before = scrape(client)

    client.get("/profile/")
    client.get("/profile/")
    client.get("/no/such/address/")

    after = scrape(client)
    assert (
        value(after, "morgue_http_requests_total", view="profile", method="GET", status="200")
        - value(before, "morgue_http_requests_total", view="profile", method="GET", status="200")
        == 2
    )
    assert (
        value(after, "morgue_http_requests_total", view="unmatched", method="GET", status="404")
        - value(before, "morgue_http_requests_total", view="unmatched", method="GET", status="404")
        == 1
    )
    count = "morgue_http_request_duration_seconds_count"
    assert value(after, count, view="profile") - value(before, count, view="profile") == 2
    # The scrape before this one was answered, and counted, too.
    assert value(after, "morgue_http_requests_total", view="metrics", method="GET", status="200") >= 1


def test_alerts_received_are_counted_by_source_once_stored(
    client, sample, django_capture_on_commit_callbacks
):
    TeamFactory(slug="ops")
    source = AlertSourceFactory(name="prometheus", kind="alertmanager")
    before = scrape(client)

    with django_capture_on_commit_callbacks(execute=True):
        response = post(
            "/api/v1/alerts/alertmanager/", sample("alertmanager-firing.json"), token=source.token
        )

    assert response.status_code == 200
    after = scrape(client)
    name = "morgue_alerts_received_total"
    assert value(after, name, source="alertmanager") - value(before, name, source="alertmanager") == 2


def test_a_rolled_back_batch_counts_nothing(client, sample):
    TeamFactory(slug="ops")
    source = AlertSourceFactory(name="prometheus", kind="alertmanager")
    before = scrape(client)

    # Inside the test's transaction nothing commits, so nothing may be counted.
    post("/api/v1/alerts/alertmanager/", sample("alertmanager-firing.json"), token=source.token)

    name = "morgue_alerts_received_total"
    assert value(scrape(client), name, source="alertmanager") == value(before, name, source="alertmanager")


def test_pages_opened_and_acknowledged_are_counted_by_team(client, django_capture_on_commit_callbacks):
    team = make_rotation(slug="payments", people=("gus", "hana")).team
    before = scrape(client)

    # A time the rotation covers, so the page is open (not run out) when acknowledged.
    now = dt.datetime(2026, 2, 10, 12, tzinfo=dt.UTC)
    with django_capture_on_commit_callbacks(execute=True):
        page = services.page_team(team=team, message="Card auths failing", now=now)
    holder = page.steps.order_by("number").first().user
    with django_capture_on_commit_callbacks(execute=True):
        services.acknowledge_page(page=page, user=holder, silence=False, now=now)
        services.acknowledge_page(page=page, user=holder, silence=False, now=now)  # changes nothing

    after = scrape(client)
    assert (
        value(after, "morgue_pages_opened_total", team="payments")
        - value(before, "morgue_pages_opened_total", team="payments")
        == 1
    )
    assert (
        value(after, "morgue_pages_acknowledged_total", team="payments")
        - value(before, "morgue_pages_acknowledged_total", team="payments")
        == 1
    )


def test_notification_deliveries_are_counted_by_method_and_result(client):
    now = dt.datetime(2026, 2, 10, 12, tzinfo=dt.UTC)
    team = make_rotation(slug="checkout", people=("ivo", "jo")).team
    team.email = ""
    team.save()
    page = services.page_team(team=team, message="Checkout down", now=now)
    step = page.steps.get()
    method = notifications.add_contact_method(user=step.user, kind="push", address="ivo-pages")
    notifications.add_notification_rule(user=step.user, contact_method=method, delay_minutes=0)
    services.notify_step(step_id=step.pk, now=now)
    name = "morgue_notification_deliveries_total"
    before = scrape(client)

    failing = mock.Mock(side_effect=DeliveryFailed("ntfy answered 502"))
    with mock.patch.dict("oncall.providers.SENDERS", {"push": failing}):
        deliver(now)
    middle = scrape(client)
    working = mock.Mock(return_value=Receipt("n1", "published"))
    with mock.patch.dict("oncall.providers.SENDERS", {"push": working}):
        deliver(now + dt.timedelta(minutes=5))
    after = scrape(client)

    assert (
        value(middle, name, method="push", result="retrying")
        - value(before, name, method="push", result="retrying")
        == 1
    )
    assert (
        value(after, name, method="push", result="sent") - value(before, name, method="push", result="sent")
        == 1
    )


def test_task_runs_are_counted_by_task_and_state(client):
    name = "morgue_task_runs_total"
    labels = {"task": "morgue.tasks.heartbeat", "state": "SUCCESS"}
    before = scrape(client)

    morgue_tasks.heartbeat.apply()

    assert value(scrape(client), name, **labels) - value(before, name, **labels) == 1


def test_queue_age_and_beat_age_are_read_when_scraped(client):
    assert value(scrape(client), "morgue_queue_oldest_task_age_seconds") == 0
    assert ("morgue_beat_last_tick_age_seconds", frozenset()) not in scrape(client)

    record_heartbeat("beat")

    assert 0 <= value(scrape(client), "morgue_beat_last_tick_age_seconds") < 60


# --- Several processes ---------------------------------------------------------------------------


def _free_port() -> int:
    with socket.socket() as listener:
        listener.bind(("127.0.0.1", 0))
        return listener.getsockname()[1]


def _get(port: int, path: str) -> tuple[int, str]:
    connection = http.client.HTTPConnection("127.0.0.1", port, timeout=10)
    try:
        connection.request("GET", path)
        response = connection.getresponse()
        return response.status, response.read().decode()
    finally:
        connection.close()


def _requests_counted(port: int) -> float:
    status, text = _get(port, "/metrics")
    assert status == 200, text
    return value(parse(text), "morgue_http_requests_total", view="incidents:list", method="GET", status="302")


def test_two_gunicorn_workers_answer_the_same_totals(tmp_path):
    """With PROMETHEUS_MULTIPROC_DIR, a scrape answered by either worker sums both workers' counts."""
    port = _free_port()
    folder = tmp_path / "metrics"
    folder.mkdir()
    environment = {
        **os.environ,
        "DJANGO_SETTINGS_MODULE": "morgue.settings",
        "DEBUG": "0",
        "SECRET_KEY": "metrics-test-not-a-secret",
        "ALLOWED_HOSTS": "127.0.0.1",
        # Nothing here reads the database: signed-out pages redirect before any query.
        "DATABASE_URL": f"sqlite:///{tmp_path / 'empty.sqlite3'}",
        "CELERY_BROKER_URL": "memory://",
        "SECURE_SSL_REDIRECT": "0",
        "PROMETHEUS_MULTIPROC_DIR": str(folder),
    }
    server = subprocess.Popen(
        [
            *(str(Path(sys.executable).parent / "gunicorn"), "morgue.wsgi:application"),
            *("--workers", "2", "--bind", f"127.0.0.1:{port}", "--log-level", "warning"),
        ],
        cwd=ROOT,
        env=environment,
    )
    try:
        deadline = time.monotonic() + 30
        while True:
            try:
                if _get(port, "/metrics")[0] == 200:
                    break
            except OSError:
                pass
            assert server.poll() is None and time.monotonic() < deadline, "gunicorn did not start"
            time.sleep(0.2)
        # A request left unfinished holds one sync worker, so the next ones go to the other.
        held = socket.create_connection(("127.0.0.1", port))
        held.sendall(b"GET /incidents/ HTTP/1.1\r\nHost: 127.0.0.1\r\n")
        time.sleep(0.5)
        for _ in range(20):
            assert _get(port, "/incidents/")[0] == 302
        assert _requests_counted(port) == 20
        held.sendall(b"Connection: close\r\n\r\n")
        assert held.recv(100).startswith(b"HTTP/1.1 302")
        held.close()

        # Whichever worker answers each scrape, it sums both workers' files.
        assert {_requests_counted(port) for _ in range(10)} == {21.0}
        assert len({path.stem.rsplit("_", 1)[-1] for path in folder.glob("counter_*.db")}) == 2
    finally:
        server.terminate()
        server.wait(timeout=10)
