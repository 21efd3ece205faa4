import datetime as dt
import json
import os
from unittest import mock

import pytest
import time_machine
from django.db import DatabaseError

from morgue import health
from morgue.celery import SENT_AT_HEADER, stamp_sent_at
from morgue.tasks import heartbeat

NOW = dt.datetime(2026, 11, 2, 9, 0, tzinfo=dt.UTC)


@pytest.fixture(autouse=True)
def _no_cached_worker_answer():
    from django.core.cache import cache

    cache.delete("morgue:health:worker")


@pytest.fixture
def ticking(db):
    """Beat ticked and a worker ran its heartbeat a moment ago."""
    with time_machine.travel(NOW - dt.timedelta(seconds=20), tick=False):
        health.record_heartbeat(health.BEAT)
        heartbeat()
    with time_machine.travel(NOW, tick=False):
        yield


def test_healthz_answers_without_login(client, ticking):
    response = client.get("/healthz")

    assert response.status_code == 200
    assert response.json() == {
        "database": "ok",
        "broker": "ok",
        "beat_last_tick": "2026-11-02T08:59:40Z",
        "worker_last_heartbeat": "2026-11-02T08:59:40Z",
        "oldest_queued_task_seconds": None,
        "worker": "unknown",
        "problems": [],
    }


def test_healthz_is_503_when_the_database_is_down(client, db):
    with mock.patch("morgue.health.connection.cursor", side_effect=DatabaseError("connection refused")):
        response = client.get("/healthz")

    assert response.status_code == 503
    assert response.json()["database"] == "unavailable"
    assert response.json()["problems"] == ["The database does not answer."]


def test_healthz_reports_an_unreachable_broker(client, ticking, settings):
    settings.CELERY_BROKER_URL = "redis://127.0.0.1:1/0"
    with (
        mock.patch("morgue.health.celery_app.connection_for_write", side_effect=OSError("refused")),
        mock.patch("morgue.health.celery_app.connection_for_read", side_effect=OSError("refused")),
        mock.patch("morgue.health.celery_app.control.ping", side_effect=OSError("refused")),
    ):
        response = client.get("/healthz")

    assert response.status_code == 200
    assert response.json()["broker"] == "unavailable"
    assert response.json()["worker"] == "unknown"


def test_a_beat_that_never_ticked_is_503(client, db):
    response = client.get("/healthz")

    assert response.status_code == 503
    assert response.json()["problems"] == [
        "Celery beat has never ticked: start exactly one `celery -A morgue beat`."
    ]


def test_a_stale_beat_is_503(client, ticking):
    with time_machine.travel(NOW + dt.timedelta(minutes=7), tick=False):
        response = client.get("/healthz")

    assert response.status_code == 503
    assert response.json()["problems"] == ["Celery beat has not ticked for 7 minutes."]


def _filesystem_broker(settings, tmp_path):
    settings.CELERY_BROKER_URL = "filesystem://localhost/"
    settings.CELERY_BROKER_TRANSPORT_OPTIONS = {
        "data_folder_out": str(tmp_path),
        "data_folder_in": str(tmp_path),
    }
    return tmp_path


def test_a_task_waiting_long_in_the_dev_queue_is_503(client, ticking, settings, tmp_path):
    queue = _filesystem_broker(settings, tmp_path)
    message = queue / "123_abc.celery.msg"
    message.write_text("{}")
    sent = (NOW - dt.timedelta(minutes=6)).timestamp()
    os.utime(message, (sent, sent))
    with mock.patch("morgue.health.celery_app.control.ping", return_value=[]):
        response = client.get("/healthz")

    assert response.status_code == 503
    assert response.json()["oldest_queued_task_seconds"] == 360
    assert response.json()["worker"] == "no answer"
    assert response.json()["problems"] == [
        "The oldest queued task has waited 6 minutes: no worker is taking tasks."
    ]


def test_a_fresh_task_in_the_dev_queue_is_healthy(client, ticking, settings, tmp_path):
    queue = _filesystem_broker(settings, tmp_path)
    (queue / "123_abc.celery.msg").write_text("{}")
    with mock.patch("morgue.health.celery_app.control.ping", return_value=[{"worker@host": {"ok": "pong"}}]):
        response = client.get("/healthz")

    assert response.status_code == 200
    assert response.json()["worker"] == "answered"


def test_the_worker_ping_is_asked_once_for_a_few_seconds(client, ticking, settings, tmp_path):
    _filesystem_broker(settings, tmp_path)
    with mock.patch("morgue.health.celery_app.control.ping", return_value=[]) as ping:
        client.get("/healthz")
        client.get("/healthz")

    assert ping.call_count == 1


def test_every_message_says_when_it_was_sent():
    headers = {"task": "morgue.tasks.heartbeat"}
    with time_machine.travel(NOW, tick=False):
        stamp_sent_at(headers=headers)

    assert headers[SENT_AT_HEADER] == NOW.timestamp()


def test_the_oldest_message_in_a_redis_queue_is_read_from_its_header(client, ticking, settings):
    """Kombu's Redis transport pushes the message JSON on the left; workers pop the right end."""
    settings.CELERY_BROKER_URL = "redis://127.0.0.1:6379/0"
    oldest = json.dumps(
        {"body": "", "headers": {SENT_AT_HEADER: (NOW - dt.timedelta(minutes=9)).timestamp()}}
    )
    broker = mock.MagicMock()
    broker.__enter__.return_value.default_channel.client.lindex.return_value = oldest.encode()
    with (
        mock.patch("morgue.health.celery_app.connection_for_read", return_value=broker),
        mock.patch("morgue.health.celery_app.connection_for_write", return_value=broker),
        mock.patch("morgue.health.celery_app.control.ping", return_value=[]),
    ):
        response = client.get("/healthz")

    broker.__enter__.return_value.default_channel.client.lindex.assert_called_once_with("celery", -1)
    assert response.status_code == 503
    assert response.json()["problems"] == [
        "The oldest queued task has waited 9 minutes: no worker is taking tasks."
    ]


@pytest.fixture
def redis_url():
    """A redis-server of its own on a free loopback port."""
    import shutil
    import socket
    import subprocess
    import time

    if not shutil.which("redis-server"):
        pytest.skip("redis-server is missing: apt-get install -y redis-server")
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
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
        yield f"redis://127.0.0.1:{port}/0"
    finally:
        server.terminate()
        server.wait(timeout=10)


def test_the_oldest_task_sent_through_real_redis_is_timed(redis_url, settings):
    from celery import Celery

    producer = Celery("morgue", broker=redis_url)
    settings.CELERY_BROKER_URL = redis_url
    with time_machine.travel(NOW - dt.timedelta(minutes=3), tick=False):
        producer.send_task("morgue.tasks.heartbeat")
    with time_machine.travel(NOW - dt.timedelta(minutes=1), tick=False):
        producer.send_task("morgue.tasks.heartbeat")

    with mock.patch("morgue.health.celery_app", producer):
        assert health.oldest_queued_at() == NOW - dt.timedelta(minutes=3)
