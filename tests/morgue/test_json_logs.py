"""LOG_FORMAT=json: a line per request with its id, user, view, status and duration; tasks carry the id."""

import json
import logging
from types import SimpleNamespace

import pytest

from morgue.celery import REQUEST_ID_HEADER, adopt_request_id, forget_request_id, stamp_sent_at
from morgue.logs import JSONFormatter, RequestIdFilter, request_id
from tests.morgue.test_settings import _import_settings


@pytest.fixture
def json_logs(settings, caplog):
    settings.LOG_FORMAT = "json"
    caplog.set_level(logging.INFO, logger="morgue.requests")
    return caplog


def _request_lines(caplog):
    return [record for record in caplog.records if record.name == "morgue.requests"]


def test_each_request_is_logged_with_its_id_user_view_status_and_duration(client, person, json_logs):
    client.force_login(person)

    response = client.get("/profile/")

    [record] = _request_lines(json_logs)
    assert response.status_code == 200
    assert record.request_id == response["X-Request-ID"]
    assert len(response["X-Request-ID"]) == 32
    assert (record.user, record.view, record.status, record.method) == (
        person.username,
        "profile",
        200,
        "GET",
    )
    assert record.duration_ms >= 0
    line = json.loads(JSONFormatter().format(record))
    assert line["request_id"] == response["X-Request-ID"]
    assert line["message"] == "GET /profile/ 200"
    assert {"time", "level", "logger", "user", "view", "status", "duration_ms"} <= set(line)


def test_the_proxys_request_id_is_kept_and_a_strange_one_replaced(client, db, json_logs):
    kept = client.get("/healthz", headers={"x-request-id": "edge-42.a"})
    replaced = client.get("/healthz", headers={"x-request-id": "<script>"})

    assert kept["X-Request-ID"] == "edge-42.a"
    assert replaced["X-Request-ID"] != "<script>"
    assert [record.request_id for record in _request_lines(json_logs)] == [
        "edge-42.a",
        replaced["X-Request-ID"],
    ]


def test_text_logs_write_no_line_per_request(client, db, caplog):
    caplog.set_level(logging.INFO, logger="morgue.requests")

    client.get("/healthz")

    assert _request_lines(caplog) == []


def test_a_task_enqueued_in_a_request_carries_its_id_to_the_workers_lines():
    token = request_id.set("abc123")
    try:
        headers: dict = {}
        stamp_sent_at(headers=headers)
    finally:
        request_id.reset(token)
    assert headers[REQUEST_ID_HEADER] == "abc123"

    # The worker: the task's request exposes the message's headers.
    adopt_request_id(task=SimpleNamespace(request=SimpleNamespace(**headers)))
    record = logging.makeLogRecord({"msg": "captured"})
    RequestIdFilter().filter(record)
    forget_request_id()

    assert json.loads(JSONFormatter().format(record))["request_id"] == "abc123"
    assert request_id.get() is None


def test_an_error_is_one_line_with_its_traceback():
    try:
        raise ValueError("boom")
    except ValueError:
        record = logging.makeLogRecord({"msg": "failed", "exc_info": __import__("sys").exc_info()})

    text = JSONFormatter().format(record)

    assert "\n" not in text
    assert "ValueError: boom" in json.loads(text)["exception"]


def test_an_unknown_log_format_refuses_to_start():
    result = _import_settings(DEBUG="1", LOG_FORMAT="xml")

    assert result.returncode != 0
    assert "LOG_FORMAT must be text or json" in result.stderr


def test_a_task_applied_in_process_adopts_the_request_id_from_its_headers(db):
    from morgue.tasks import ping

    seen = []
    original = ping.run

    def run(nonce):
        seen.append(request_id.get())
        return original(nonce)

    ping.run = run
    try:
        result = ping.apply(args=("x",), headers={REQUEST_ID_HEADER: "from-request"})
    finally:
        ping.run = original

    assert seen == ["from-request"]
    assert result.get()["database"] == "ok"
