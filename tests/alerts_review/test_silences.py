"""Silences on acknowledging, against a tiny fake Alertmanager: failures, retries, no duplicates."""

import datetime as dt
import json
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from unittest import mock
from urllib.parse import parse_qs, urlsplit

import pytest
from django.core.exceptions import ValidationError
from django.core.management import CommandError, call_command

from alerts_review import alertmanager, silences
from alerts_review.models import AlertSilence
from alerts_review.services import create_alert_source
from morgue.celery import app
from oncall import services as oncall_services
from oncall.models import PageStatus

from .test_paging import firing, receive

pytestmark = pytest.mark.django_db
NOW = dt.datetime(2026, 2, 10, 12, tzinfo=dt.UTC)


class FakeAlertmanager:
    """Alertmanager's silence and alert endpoints, with failures and delays the test queues up."""

    def __init__(self):
        self.silences: dict[str, dict] = {}
        self.requests: list[str] = []
        self.failures: list[int] = []  # statuses to answer the next requests with
        self.delays: list[float] = []  # seconds to wait before answering the next POSTs (after storing)
        self.active: list[str] = []  # fingerprints of active alerts
        fake = self

        class Handler(BaseHTTPRequestHandler):
            def answer(self, status, body=None):
                data = json.dumps(body).encode() if body is not None else b""
                self.send_response(status)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)

            def handle_one(self, method):
                fake.requests.append(f"{method} {self.path}")
                if fake.failures:
                    return self.answer(fake.failures.pop(0), {"error": "down"})
                path = urlsplit(self.path).path
                if method == "POST" and path == "/api/v2/silences":
                    body = json.loads(self.rfile.read(int(self.headers["Content-Length"])))
                    silence_id = body.get("id") or f"s{len(fake.silences) + 1}"
                    fake.silences[silence_id] = {**body, "id": silence_id, "status": {"state": "active"}}
                    if fake.delays:
                        time.sleep(fake.delays.pop(0))
                    return self.answer(200, {"silenceID": silence_id})
                if method == "GET" and path == "/api/v2/silences":
                    wanted = parse_qs(urlsplit(self.path).query).get("filter", [])
                    found = [
                        silence
                        for silence in fake.silences.values()
                        if all(
                            f"{m['name']}={json.dumps(m['value'])}" in [f.replace(" ", "") for f in wanted]
                            for m in silence["matchers"]
                        )
                    ]
                    return self.answer(200, found)
                if method == "DELETE" and path.startswith("/api/v2/silence/"):
                    fake.silences[path.rsplit("/", 1)[1]]["status"]["state"] = "expired"
                    return self.answer(200)
                if method == "GET" and path == "/api/v2/alerts":
                    return self.answer(200, [{"fingerprint": fp} for fp in fake.active])
                return self.answer(404, {"error": "no such route"})

            def do_GET(self):
                self.handle_one("GET")

            def do_POST(self):
                self.handle_one("POST")

            def do_DELETE(self):
                self.handle_one("DELETE")

            def log_message(self, *args):
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}"
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    def posts(self) -> int:
        return sum(request.startswith("POST") for request in self.requests)

    def close(self):
        self.server.shutdown()
        self.server.server_close()


@pytest.fixture
def fake(settings):
    server = FakeAlertmanager()
    settings.ALERTMANAGER_ALLOWED_HOSTS = [server.url.removeprefix("http://")]
    yield server
    server.close()


@pytest.fixture
def paged(ops, source, fake):
    """An open page for one critical alert from a source whose Alertmanager is the fake."""
    source.kind = "alertmanager"
    source.alertmanager_url = fake.url
    source.save()
    receive(source, firing("DatabaseDown", instance="db12:9100"))
    return source.alerts.get().page


@pytest.fixture
def ops():
    from .test_paging import ops as make_ops

    return make_ops.__wrapped__()


@pytest.fixture
def source(ops):
    from .test_paging import source as make_source

    return make_source.__wrapped__(ops)


def test_acknowledging_enqueues_the_silence_by_name_unless_asked_not_to(paged, person):
    with (
        mock.patch.object(app, "send_task") as send_task,
        mock.patch("django.db.transaction.on_commit", side_effect=lambda callback, **_: callback()),
    ):
        oncall_services.acknowledge_page(page=paged, user=person, silence=False)
    assert not send_task.called
    paged.status = PageStatus.OPEN
    paged.save()
    with (
        mock.patch.object(app, "send_task") as send_task,
        mock.patch("django.db.transaction.on_commit", side_effect=lambda callback, **_: callback()),
    ):
        oncall_services.acknowledge_page(page=paged, user=person)
    send_task.assert_called_once_with(
        "alerts_review.tasks.silence_for_page", args=(paged.pk, person.username)
    )


def test_a_500_then_success_creates_one_silence(paged, fake):
    fake.failures.append(500)
    with pytest.raises(OSError, match="500"):
        silences.silence_for_page(page_id=paged.pk, username="ana", now=NOW)
    held = AlertSilence.objects.get()
    assert held.silence_id == ""  # claimed, not yet created
    silences.silence_for_page(page_id=paged.pk, username="ana", now=NOW)
    silences.silence_for_page(page_id=paged.pk, username="ana", now=NOW)  # a repeated task
    (created,) = fake.silences.values()
    held.refresh_from_db()
    assert held.silence_id == created["id"] and held.ends_at == NOW + silences.HORIZON
    assert created["createdBy"] == "morgue" and "ana" in created["comment"]
    assert {(m["name"], m["value"], m["isEqual"], m["isRegex"]) for m in created["matchers"]} == {
        (name, value, True, False) for name, value in held.alert.labels.items()
    }


def test_a_timeout_then_retry_finds_the_silence_instead_of_creating_another(paged, fake, monkeypatch):
    monkeypatch.setattr(alertmanager, "TIMEOUT_SECONDS", 0.3)
    fake.delays.append(1.0)  # Alertmanager stores the silence but answers too late
    with pytest.raises(OSError):
        silences.silence_for_page(page_id=paged.pk, username="ana", now=NOW)
    silences.silence_for_page(page_id=paged.pk, username="ana", now=NOW)
    assert fake.posts() == 1 and len(fake.silences) == 1
    assert AlertSilence.objects.get().silence_id == next(iter(fake.silences))


def test_resolving_the_alert_expires_its_silence_retrying_a_failure(paged, fake, source):
    silences.silence_for_page(page_id=paged.pk, username="ana", now=NOW)
    with mock.patch.object(app, "send_task"):
        receive(
            source, firing("DatabaseDown", instance="db12:9100", resolved_at=NOW + dt.timedelta(minutes=5))
        )
    paged.refresh_from_db()
    assert paged.status == PageStatus.RESOLVED
    fake.failures.append(503)
    with pytest.raises(OSError):
        silences.expire_silences(page_id=paged.pk, now=NOW)
    assert AlertSilence.objects.get().expired_at is None
    assert silences.expire_silences(page_id=paged.pk, now=NOW) == 1
    assert AlertSilence.objects.get().expired_at == NOW
    assert [silence["status"]["state"] for silence in fake.silences.values()] == ["expired"]
    assert silences.expire_silences(page_id=paged.pk, now=NOW) == 0


def test_the_sweep_notices_a_silenced_alert_alertmanager_no_longer_has(paged, fake):
    silences.silence_for_page(page_id=paged.pk, username="ana", now=NOW)
    alert = AlertSilence.objects.get().alert
    fake.active = [alert.identity]
    with mock.patch.object(app, "send_task"):
        assert silences.notice_resolutions(now=NOW) == 0
    fake.active = []
    with (
        mock.patch.object(app, "send_task"),
        mock.patch("django.db.transaction.on_commit", side_effect=lambda callback, **_: callback()),
    ):
        assert silences.notice_resolutions(now=NOW) == 1
    alert.refresh_from_db()
    assert alert.state == "resolved" and alert.resolved_at == NOW


def test_the_sweep_moves_on_the_end_of_a_silence_still_firing(paged, fake):
    silences.silence_for_page(page_id=paged.pk, username="ana", now=NOW)
    fake.active = [AlertSilence.objects.get().alert.identity]
    later = NOW + silences.HORIZON - dt.timedelta(hours=1)
    assert silences.sweep_silences(now=later) == 1
    held = AlertSilence.objects.get()
    assert held.ends_at == later + silences.HORIZON
    assert fake.silences[held.silence_id]["endsAt"].startswith(
        (later + silences.HORIZON).strftime("%Y-%m-%dT%H")
    )


def test_a_private_alertmanager_url_is_refused_unless_allowed(ops, settings):
    settings.ALERTMANAGER_ALLOWED_HOSTS = []
    with pytest.raises(ValidationError, match="private network"):
        create_alert_source(name="am", kind="alertmanager", alertmanager_url="http://127.0.0.1:9093")
    with pytest.raises(CommandError, match="ALERTMANAGER_ALLOWED_HOSTS"):
        call_command(
            "create_alert_source", "am", "--kind=alertmanager", "--alertmanager-url=http://10.0.0.5:9093"
        )
    with pytest.raises(ValidationError, match="http"):
        create_alert_source(name="am", kind="alertmanager", alertmanager_url="file:///etc/passwd")
    settings.ALERTMANAGER_ALLOWED_HOSTS = ["127.0.0.1:9093"]
    source = create_alert_source(name="am", kind="alertmanager", alertmanager_url="http://127.0.0.1:9093")
    assert source.alertmanager_url == "http://127.0.0.1:9093"
    with pytest.raises(ValidationError, match="Only an Alertmanager"):
        create_alert_source(name="nagios", kind="nagios", alertmanager_url="http://127.0.0.1:9093")


@pytest.mark.parametrize(
    "address",
    ["100.64.0.7", "2002:a00:5::1", "::ffff:10.0.0.5", "64:ff9b::a00:5", "169.254.169.254"],
)
def test_an_alertmanager_name_resolving_to_a_non_public_address_is_refused(settings, address):
    # The same rule as graph snapshots and webhooks (morgue.outbound): CGNAT, 6to4 and
    # NAT64 wrapping a private address, a mapped private address, the metadata address.
    settings.ALERTMANAGER_ALLOWED_HOSTS = []
    answer = [(0, 0, 0, "", (address, 9093))]
    with (
        mock.patch("morgue.outbound.socket.getaddrinfo", return_value=answer),
        pytest.raises(alertmanager.AlertmanagerRefused, match="private network"),
    ):
        alertmanager.check_address("http://am.example.com:9093")


def test_a_redirect_from_alertmanager_is_an_error_not_followed(settings):
    class Redirecting(BaseHTTPRequestHandler):
        def do_GET(self):
            self.send_response(302)
            self.send_header("Location", "http://169.254.169.254/latest/meta-data/")
            self.send_header("Content-Length", "0")
            self.end_headers()

        def log_message(self, *args):
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Redirecting)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    try:
        host = f"127.0.0.1:{server.server_address[1]}"
        settings.ALERTMANAGER_ALLOWED_HOSTS = [host]
        with pytest.raises(alertmanager.AlertmanagerUnavailable, match="302"):
            alertmanager.active_fingerprints(f"http://{host}")
    finally:
        server.shutdown()


def test_the_api_acknowledge_takes_the_choice_and_refuses_unknown_fields(paged, api, person):
    with mock.patch.object(app, "send_task") as send_task:
        refused = api.post(f"/api/v1/pages/{paged.pk}/acknowledge/", {"silence": False}, format="json")
        assert refused.status_code == 400 and "silence" in refused.content.decode()
        answer = api.post(
            f"/api/v1/pages/{paged.pk}/acknowledge/", {"silence_in_alertmanager": False}, format="json"
        )
    assert answer.status_code == 200 and answer.json()["status"] == "acknowledged"
    assert not [call for call in send_task.call_args_list if "silence_for_page" in call.args[0]]


def test_the_page_offers_the_silence_checked_and_honours_unchecking(paged, browser_client):
    html = browser_client.get(f"/oncall/pages/{paged.pk}/").content.decode()
    assert 'name="silence" checked' in html
    with mock.patch.object(app, "send_task") as send_task:
        browser_client.post(f"/oncall/pages/{paged.pk}/", {"action": "acknowledge"})
    assert not [call for call in send_task.call_args_list if "silence_for_page" in call.args[0]]
