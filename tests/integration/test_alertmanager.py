"""Prometheus 2 and Alertmanager 0.25 (Debian's) notify a live Morgue through the README's receiver."""

import datetime as dt
import json
import re
import subprocess
import threading
import urllib.request
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest

from alerts_review import selectors
from alerts_review.models import Alert, TruncatedAlerts
from alerts_review.payloads import parse_instant
from tests.factories import AlertSourceFactory, TeamFactory

from .conftest import Daemon, free_port, need, readme_block, wait_for

pytestmark = [pytest.mark.integration, pytest.mark.django_db(transaction=True)]

UTC = dt.UTC


def get_json(url: str):
    with urllib.request.urlopen(url, timeout=5) as response:  # noqa: S310 (loopback)
        return json.load(response)


def alertmanager_config(
    *, url: str, token: str, group_wait: str = "0s", repeat_interval: str = "1h", max_alerts: int = 0
) -> str:
    """The README's receiver, pointed at this Morgue, behind a route that flushes every second."""
    receivers = readme_block("webhook_configs")
    receivers = receivers.replace("https://morgue.example.com", url).replace("<token>", token)
    assert "send_resolved: true" in receivers and "max_alerts" not in receivers
    if max_alerts:
        receivers = re.sub(
            r"^( +)send_resolved: true$", rf"\g<0>\n\1max_alerts: {max_alerts}", receivers, flags=re.M
        )
    route = (
        "route:\n"
        "  receiver: morgue\n"
        "  group_by: [alertname]\n"
        f"  group_wait: {group_wait}\n"
        "  group_interval: 1s\n"
        f"  repeat_interval: {repeat_interval}\n"
    )
    return route + "\n".join(line for line in receivers.splitlines() if not line.startswith("#"))


@pytest.fixture
def source():
    return AlertSourceFactory(name="prometheus", kind="alertmanager")


@pytest.fixture
def start_alertmanager(tmp_path, daemons, live_server, source):
    """Start a real Alertmanager whose only receiver is the README's webhook to Morgue; its base URL."""
    binary = need("prometheus-alertmanager", "prometheus-alertmanager")
    need("amtool", "prometheus-alertmanager")

    def start(**route) -> str:
        config = tmp_path / "alertmanager.yml"
        config.write_text(alertmanager_config(url=live_server.url, token=source.token, **route))
        port = free_port()
        daemon = Daemon(
            "alertmanager",
            [
                binary,
                f"--config.file={config}",
                f"--storage.path={tmp_path / 'alertmanager-data'}",
                f"--web.listen-address=127.0.0.1:{port}",
                "--cluster.listen-address=",
            ],
            tmp_path / "alertmanager.log",
        )
        daemons.append(daemon)
        url = f"http://127.0.0.1:{port}"
        wait_for("Alertmanager to be ready", lambda: _ready(f"{url}/-/ready"), daemons=daemons)
        return url

    return start


@pytest.fixture
def alertmanager(start_alertmanager) -> str:
    return start_alertmanager()


def _ready(url: str) -> bool:
    try:
        with urllib.request.urlopen(url, timeout=2) as response:  # noqa: S310 (loopback)
            return response.status == 200
    except OSError:
        return False


def active_alerts(alertmanager_url: str) -> dict[str, dict]:
    """Alertmanager's own view (API v2) of its active alerts, by alert name."""
    return {alert["labels"]["alertname"]: alert for alert in get_json(f"{alertmanager_url}/api/v2/alerts")}


def stored(check: str) -> list[Alert]:
    return list(Alert.objects.filter(check_name=check).order_by("fired_at"))


def amtool(alertmanager_url: str, *args: str) -> str:
    result = subprocess.run(
        ["amtool", f"--alertmanager.url={alertmanager_url}", "--timeout=10s", *args],
        capture_output=True,
        text=True,
        timeout=20,
        check=False,
    )
    assert result.returncode == 0, f"amtool {' '.join(args)} failed:\n{result.stdout}{result.stderr}"
    return result.stdout


def rfc3339(instant: dt.datetime) -> str:
    return instant.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def test_an_alert_added_with_amtool_is_stored_then_resolved_at_its_end(alertmanager, daemons, source):
    started = dt.datetime.now(UTC).replace(microsecond=0) - dt.timedelta(minutes=5)
    TeamFactory(slug="storage")
    labels = ["alertname=DiskSpaceLow", "instance=db12:9100", "severity=warning", "team=storage"]
    amtool(
        alertmanager,
        "alert",
        "add",
        *labels,
        "--annotation=summary=Disk / is 91% full",
        f"--start={rfc3339(started)}",
    )
    (alert,) = wait_for("Morgue to store the firing alert", lambda: stored("DiskSpaceLow"), daemons=daemons)
    listed = json.loads(amtool(alertmanager, "alert", "query", "-o", "json", "alertname=DiskSpaceLow"))
    assert len(listed) == 1
    assert alert.identity == listed[0]["fingerprint"]
    assert alert.fired_at == parse_instant(listed[0]["startsAt"], name="startsAt") == started
    assert (alert.state, alert.host, alert.severity) == ("firing", "db12:9100", "warning")
    assert alert.summary == "Disk / is 91% full"
    assert alert.labels == listed[0]["labels"]
    assert alert.resolved_at is None and alert.alert_source == source and alert.team.slug == "storage"

    # Sending it again with an end in the past resolves it in Alertmanager,
    # which notifies the resolution (send_resolved) with that end.
    ended = started + dt.timedelta(minutes=3)
    amtool(alertmanager, "alert", "add", *labels, f"--start={rfc3339(started)}", f"--end={rfc3339(ended)}")

    def resolved():
        alert.refresh_from_db()
        return alert.state == "resolved"

    wait_for("Morgue to store the resolution", resolved, daemons=daemons)
    assert alert.resolved_at == ended and alert.fired_at == started
    assert Alert.objects.count() == 1
    assert "DiskSpaceLow" not in active_alerts(alertmanager)


class Flag:
    """A scrape target exposing one gauge the test raises and lowers."""

    def __init__(self):
        self.value = 0
        flag = self

        class Handler(BaseHTTPRequestHandler):
            def do_GET(self):
                body = f"# TYPE morgue_test_flag gauge\nmorgue_test_flag {flag.value}\n".encode()
                self.send_response(200)
                self.send_header("Content-Type", "text/plain; version=0.0.4")
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

            def log_message(self, *args):
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.address = f"127.0.0.1:{self.server.server_address[1]}"
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    def close(self):
        self.server.shutdown()
        self.server.server_close()


RULES = """\
groups:
  - name: morgue
    interval: 1s
    rules:
      - alert: AlwaysFiring
        expr: vector(1)
        labels: {severity: info, instance: prometheus}
        annotations: {summary: Fires as long as Prometheus runs}
      - alert: FlagRaised
        expr: morgue_test_flag == 1
        labels: {severity: critical}
        annotations: {summary: "The flag is {{ $value }}"}
"""


@pytest.fixture
def flag():
    target = Flag()
    yield target
    target.close()


def test_prometheus_rules_fire_and_resolve_through_alertmanager(
    alertmanager, daemons, tmp_path, flag, source
):
    binary = need("prometheus", "prometheus")
    (tmp_path / "rules.yml").write_text(RULES)
    config = tmp_path / "prometheus.yml"
    config.write_text(
        "global: {scrape_interval: 1s, evaluation_interval: 1s}\n"
        f"rule_files: [{tmp_path / 'rules.yml'}]\n"
        "alerting:\n"
        f"  alertmanagers: [{{static_configs: [{{targets: ['{alertmanager.removeprefix('http://')}']}}]}}]\n"
        "scrape_configs:\n"
        f"  - {{job_name: flag, static_configs: [{{targets: ['{flag.address}']}}]}}\n"
    )
    port = free_port()
    daemons.append(
        Daemon(
            "prometheus",
            [
                binary,
                f"--config.file={config}",
                f"--storage.tsdb.path={tmp_path / 'prometheus-data'}",
                f"--web.listen-address=127.0.0.1:{port}",
                # Alerts evaluated before Prometheus has found its Alertmanager are
                # dropped, and sent again only after this delay (1 minute by default).
                "--rules.alert.resend-delay=1s",
            ],
            tmp_path / "prometheus.log",
        )
    )
    flag.value = 1

    def both_stored():
        alerts = {alert.check_name: alert for alert in Alert.objects.all()}
        return alerts if {"AlwaysFiring", "FlagRaised"} <= set(alerts) else None

    alerts = wait_for("Morgue to store both firing alerts", both_stored, daemons=daemons)
    reported = active_alerts(alertmanager)
    for name in ("AlwaysFiring", "FlagRaised"):
        alert = alerts[name]
        assert alert.identity == reported[name]["fingerprint"], name
        assert alert.fired_at == parse_instant(reported[name]["startsAt"], name="startsAt"), name
        assert alert.labels == reported[name]["labels"], name
        assert alert.state == "firing" and alert.resolved_at is None, name
    assert alerts["FlagRaised"].host == flag.address
    assert alerts["FlagRaised"].summary == "The flag is 1"
    assert alerts["AlwaysFiring"].host == "prometheus"

    lowered = dt.datetime.now(UTC)
    flag.value = 0
    flagged = alerts["FlagRaised"]

    def resolved():
        flagged.refresh_from_db()
        return flagged.state == "resolved"

    wait_for("Morgue to store FlagRaised's resolution", resolved, daemons=daemons)
    # Prometheus ends the alert at the first evaluation that no longer finds it;
    # that evaluation's time may precede the lowering by up to a scrape and an
    # evaluation interval (a scrape stamped before it may read the new value).
    assert lowered - dt.timedelta(seconds=2) <= flagged.resolved_at <= dt.datetime.now(UTC)
    assert flagged.resolved_at > flagged.fired_at
    assert flagged.fired_at == alerts["FlagRaised"].fired_at
    assert "FlagRaised" not in active_alerts(alertmanager)
    assert Alert.objects.filter(check_name="FlagRaised").count() == 1
    always = Alert.objects.get(check_name="AlwaysFiring")
    assert always.state == "firing" and always.resolved_at is None

    # Raised again, it is the same alerting thing (the fingerprint) firing anew:
    # a second alert, from Prometheus' new start.
    flag.value = 1
    again = wait_for(
        "Morgue to store FlagRaised firing again",
        lambda: stored("FlagRaised")[1:],
        daemons=daemons,
    )[0]
    reported = active_alerts(alertmanager)["FlagRaised"]
    assert again.identity == flagged.identity == reported["fingerprint"]
    assert again.fired_at == parse_instant(reported["startsAt"], name="startsAt") > flagged.resolved_at
    assert again.state == "firing" and again.resolved_at is None
    flagged.refresh_from_db()
    assert flagged.state == "resolved"


def post_storm(alertmanager: str, size: int) -> None:
    """`size` alerts of one group, posted to Alertmanager's API at once."""
    started = rfc3339(dt.datetime.now(UTC) - dt.timedelta(minutes=1))
    storm = [
        {"labels": {"alertname": "Storm", "instance": f"web{number}"}, "startsAt": started}
        for number in range(size)
    ]
    request = urllib.request.Request(  # noqa: S310 (loopback)
        f"{alertmanager}/api/v2/alerts",
        data=json.dumps(storm).encode(),
        headers={"Content-Type": "application/json"},
        method="POST",
    )
    with urllib.request.urlopen(request, timeout=5) as response:  # noqa: S310 (loopback)
        assert response.status == 200


def truncations() -> list[TruncatedAlerts]:
    return list(TruncatedAlerts.objects.order_by("id"))


def test_alerts_alertmanager_leaves_out_of_a_notification_are_counted(start_alertmanager, daemons, source):
    # A second's group_wait, so the three alerts posted at once are one notification.
    alertmanager = start_alertmanager(group_wait="1s", max_alerts=2)
    post_storm(alertmanager, 3)
    # On SQLite the live server shares the test's connection, so a half-stored
    # notification is visible: wait for all of it.
    (truncated,), kept = wait_for(
        "Morgue to store the notification and record the alert left out",
        lambda: (truncations(), stored("Storm")) if truncations() and len(stored("Storm")) >= 2 else None,
        daemons=daemons,
    )
    assert truncated.count == 1 and truncated.alert_source == source
    reported = {alert["fingerprint"] for alert in get_json(f"{alertmanager}/api/v2/alerts")}
    assert len(kept) == 2 and {alert.identity for alert in kept} < reported


def test_alerts_left_out_of_repeated_notifications_are_counted_once(start_alertmanager, daemons):
    alertmanager = start_alertmanager(group_wait="1s", max_alerts=2, repeat_interval="2s")
    post_storm(alertmanager, 3)
    wait_for("Alertmanager to notify the group twice", lambda: truncations()[1:], daemons=daemons)
    assert [truncated.count for truncated in truncations()][:2] == [1, 1]
    month = dt.datetime.now(UTC).replace(day=1, hour=0, minute=0, second=0, microsecond=0)
    until = (month + dt.timedelta(days=32)).replace(day=1)
    # One alert was left out, however often Alertmanager said so.
    assert selectors.truncated_alerts(since=month, until=until, team=None) == 1
