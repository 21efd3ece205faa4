"""What each real sender posts, read right: bodies in the senders' own shapes, built from their sources.

- Alertmanager: prometheus/alertmanager notify/webhook/webhook.go (Message: template.Data plus
  version "4", groupKey, truncatedAlerts); its Retrier does not retry a 4xx.
- Grafana: grafana/alerting receivers/webhook/v1/webhook.go (webhookMessage: version "1", orgId,
  title, state, message); the no-data and error alerts of grafana/grafana
  pkg/services/ngalert/state/compat.go; the contact point test of grafana/alerting notify/receivers.go.
- Nagios: the macros of https://assets.nagios.com/downloads/nagioscore/docs/nagioscore/4/en/macrolist.html
  (NOTIFICATIONNUMBER, SERVICEPROBLEMID, LASTSERVICEPROBLEMID, LONGDATETIME as `date` prints it).
- Icinga 2: the env of the NotificationCommands in Icinga/icinga2 etc/icinga2/conf.d/commands.conf,
  read by etc/icinga2/scripts/mail-service-notification.sh; $icinga.long_date_time$ is
  "%Y-%m-%d %H:%M:%S %z".
"""

import datetime as dt
import json
import re
from pathlib import Path

import pytest
import time_machine
from django.core import mail
from rest_framework.test import APIClient

from alerts_review.models import Alert, TruncatedAlerts
from alerts_review.selectors import monthly_report, shift_review
from alerts_review.services import send_team_alert_report
from tests.factories import AlertShiftFactory, AlertSourceFactory, TeamFactory

pytestmark = pytest.mark.django_db

UTC = dt.UTC
NOVEMBER = dt.date(2026, 11, 1)


@pytest.fixture
def ops():
    return TeamFactory(slug="ops", name="Ops")


def post(path, body, *, token, scheme="Token", form=False):
    client = APIClient()
    headers = {"HTTP_AUTHORIZATION": f"{scheme} {token}"}
    if form:  # Nagios' curl --data-urlencode
        return client.post(path, body, **headers)
    return client.post(path, json.dumps(body), content_type="application/json", **headers)


def alertmanager_message(alerts, *, status="firing", truncated=0, common=None):
    """The JSON Alertmanager's webhook notifier posts (notify/webhook/webhook.go, Message)."""
    common = common if common is not None else {"alertname": alerts[0]["labels"]["alertname"]}
    return {
        "receiver": "morgue",
        "status": status,
        "alerts": alerts,
        "groupLabels": {"alertname": common.get("alertname", "")},
        "commonLabels": common,
        "commonAnnotations": {},
        "externalURL": "http://alertmanager.internal:9093",
        "version": "4",
        "groupKey": '{}:{alertname="' + common.get("alertname", "") + '"}',
        "truncatedAlerts": truncated,
    }


def alertmanager_alert(name, instance, *, fingerprint, status="firing", ends_at="0001-01-01T00:00:00Z"):
    return {
        "status": status,
        "labels": {"alertname": name, "instance": instance, "team": "ops"},
        "annotations": {"summary": f"{name} on {instance}"},
        "startsAt": "2026-11-03T02:14:07.311Z",
        "endsAt": ends_at,
        "generatorURL": "http://prometheus.internal:9090/graph?g0.expr=up",
        "fingerprint": fingerprint,
    }


def grafana_message(alerts, *, title):
    """The JSON Grafana's webhook contact point posts (receivers/webhook/v1/webhook.go, webhookMessage)."""
    return {
        "receiver": "morgue",
        "status": "firing",
        "orgId": 1,
        "alerts": alerts,
        "groupLabels": {},
        "commonLabels": {},
        "commonAnnotations": {},
        "externalURL": "https://grafana.internal/",
        "version": "1",
        "groupKey": "{}/{}:{}",
        "truncatedAlerts": 0,
        "title": title,
        "state": "alerting",
        "message": "",
    }


def grafana_alert(labels, *, fingerprint, annotations=None):
    return {
        "status": "firing",
        "labels": labels,
        "annotations": annotations or {},
        "startsAt": "2026-11-11T14:02:00-05:00",
        "endsAt": "0001-01-01T00:00:00Z",
        "generatorURL": "https://grafana.internal/alerting/grafana/abc123/view",
        "fingerprint": fingerprint,
        "silenceURL": "https://grafana.internal/alerting/silence/new",
        "dashboardURL": "",
        "panelURL": "",
        "values": None,
        "valueString": "",
    }


# --- Issue 14: one bad alert never loses the others ------------------------------------


def test_nul_bytes_and_lone_surrogates_are_stored_replaced_and_the_batch_is_kept(ops):
    source = AlertSourceFactory(name="prometheus", kind="alertmanager")
    # Go's encoder escapes a NUL in a label as \u0000; "\ud800" is what a broken exporter's
    # UTF-16 leaves in JSON. json.dumps writes both as those escapes.
    alerts = [
        alertmanager_alert("DiskSpaceLow", "db12:9100", fingerprint="0000000000000001"),
        {
            **alertmanager_alert("DiskSpaceLow", "db13:9100", fingerprint="0000000000000002"),
            "annotations": {"summary": "mount /var/lib/\x00mysql is full \ud800"},
            "labels": {"alertname": "DiskSpaceLow", "instance": "db13\x00:9100", "mount\x00": "\udfff"},
        },
        alertmanager_alert("DiskSpaceLow", "db14:9100", fingerprint="0000000000000003"),
    ]
    response = post("/api/v1/alerts/alertmanager/", alertmanager_message(alerts), token=source.token)
    assert response.status_code == 200, response.content
    assert response.json() == {"received": 3, "created": 3, "updated": 0}
    odd = Alert.objects.get(identity="0000000000000002")
    assert odd.summary == "mount /var/lib/\ufffdmysql is full \ufffd"
    assert odd.host == "db13\ufffd:9100"
    assert odd.labels["mount\ufffd"] == "\ufffd"


def test_a_field_name_with_a_lone_surrogate_is_refused_by_index_with_a_readable_sentence():
    source = AlertSourceFactory(name="scripts", kind="generic")
    response = post(
        "/api/v1/alerts/",
        [
            {"check": "Backups", "fired_at": "2026-11-03T03:00:00Z"},
            {"check": "Backups", "fired_at": "2026-11-03T04:00:00Z", "col\ud800our": "red"},
        ],
        token=source.token,
    )
    assert response.status_code == 200
    (error,) = response.json()["errors"]
    assert error["index"] == 1
    assert error["detail"].startswith("Unknown field col\ufffdour;")
    assert Alert.objects.count() == 1


def test_a_timestamp_past_the_last_instant_is_refused_by_index_and_the_rest_stored(ops):
    source = AlertSourceFactory(name="prometheus", kind="alertmanager")
    alerts = [
        alertmanager_alert("InstanceDown", "web1:9100", fingerprint="00000000000000a1"),
        {
            **alertmanager_alert("InstanceDown", "web2:9100", fingerprint="00000000000000a2"),
            "startsAt": "9999-12-31T23:30:00-05:00",
        },
        alertmanager_alert("InstanceDown", "web3:9100", fingerprint="00000000000000a3"),
    ]
    response = post("/api/v1/alerts/alertmanager/", alertmanager_message(alerts), token=source.token)
    assert response.status_code == 200
    body = response.json()
    assert (body["received"], body["created"]) == (3, 2)
    assert [error["index"] for error in body["errors"]] == [1]
    assert "startsAt" in body["errors"][0]["detail"]


def test_a_wholly_bad_alertmanager_group_is_a_400_listing_each_alert(ops):
    source = AlertSourceFactory(name="prometheus", kind="alertmanager")
    alerts = [
        {**alertmanager_alert("A", "web1:9100", fingerprint="1"), "startsAt": "soon"},
        {**alertmanager_alert("A", "web2:9100", fingerprint="2"), "labels": {}},
    ]
    response = post(
        "/api/v1/alerts/alertmanager/", alertmanager_message(alerts, common={}), token=source.token
    )
    assert response.status_code == 400
    assert [error["index"] for error in response.json()["errors"]] == [0, 1]


# --- Alertmanager ------------------------------------------------------------------------


@time_machine.travel(dt.datetime(2026, 11, 3, 3, 0, 5, tzinfo=UTC), tick=False)
def test_a_resolved_alert_with_the_zero_end_time_is_resolved_when_received(ops):
    source = AlertSourceFactory(name="prometheus", kind="alertmanager")
    alert = alertmanager_alert("InstanceDown", "web1:9100", fingerprint="00000000000000b1", status="resolved")
    post("/api/v1/alerts/alertmanager/", alertmanager_message([alert], status="resolved"), token=source.token)
    stored = Alert.objects.get()
    assert stored.state == "resolved"
    assert stored.resolved_at == dt.datetime(2026, 11, 3, 3, 0, 5, tzinfo=UTC)


def test_alertmanagers_default_bearer_authorization_is_accepted(ops):
    # alertmanager.yml http_config `authorization: {credentials: …}` sends "Bearer" unless told otherwise.
    source = AlertSourceFactory(name="prometheus", kind="alertmanager")
    alert = alertmanager_alert("InstanceDown", "web1:9100", fingerprint="00000000000000c1")
    response = post(
        "/api/v1/alerts/alertmanager/", alertmanager_message([alert]), token=source.token, scheme="Bearer"
    )
    assert response.status_code == 200
    assert Alert.objects.count() == 1


def test_alerts_alertmanager_left_out_are_recorded_and_the_report_says_so(ops, person):
    source = AlertSourceFactory(name="prometheus", kind="alertmanager")
    alerts = [alertmanager_alert("InstanceDown", f"web{n}:9100", fingerprint=f"{n:016x}") for n in range(3)]
    message = alertmanager_message(
        alerts, truncated=1_247, common={"alertname": "InstanceDown", "team": "ops"}
    )
    response = post("/api/v1/alerts/alertmanager/", message, token=source.token)
    assert response.json() == {"received": 3, "created": 3, "updated": 0}

    truncation = TruncatedAlerts.objects.get()
    assert (truncation.count, truncation.team, truncation.alert_source) == (1_247, ops, source)
    assert truncation.group_key == '{}:{alertname="InstanceDown"}'
    month = truncation.received_at.date().replace(day=1)
    assert monthly_report(month=month, team=ops)["truncated_alerts"] == 1_247
    assert monthly_report(month=month)["truncated_alerts"] == 1_247
    assert monthly_report(month=month, team=TeamFactory(slug="web"))["truncated_alerts"] == 0

    client = APIClient()
    client.force_login(person)
    page = client.get(f"/alerts/reports/{month:%Y-%m}/?team=ops")
    assert "1247 alerts were left out by Alertmanager" in page.content.decode()

    ops.members.add(person)
    send_team_alert_report(team=ops, month=month)
    (message,) = mail.outbox
    assert "1247 alerts were left out by Alertmanager and are not counted." in message.body
    assert "Left out by Alertmanager" in message.alternatives[0].content


# --- Grafana -----------------------------------------------------------------------------


def test_grafana_no_data_and_error_alerts_are_checks_of_their_own_rules():
    source = AlertSourceFactory(name="grafana", kind="grafana")
    alerts = [
        grafana_alert(
            {
                "alertname": "DatasourceNoData",
                "rulename": "Checkout error rate",
                "grafana_folder": "payments",
                "datasource_uid": "prometheus",
                "ref_id": "A",
            },
            fingerprint="00000000000000d1",
        ),
        grafana_alert(
            {
                "alertname": "DatasourceNoData",
                "rulename": "Queue depth",
                "grafana_folder": "payments",
                "datasource_uid": "prometheus",
                "ref_id": "A",
            },
            fingerprint="00000000000000d2",
        ),
        grafana_alert(
            {
                "alertname": "DatasourceError",
                "rulename": "Queue depth",
                "grafana_folder": "payments",
                "datasource_uid": "prometheus",
                "ref_id": "A",
            },
            fingerprint="00000000000000d3",
        ),
    ]
    response = post(
        "/api/v1/alerts/alertmanager/",
        grafana_message(alerts, title="[FIRING:3] DatasourceNoData payments"),
        token=source.token,
        scheme="Bearer",  # Grafana's webhook contact point: Authorization header scheme, "Bearer" by default
    )
    assert response.json()["created"] == 3
    checks = dict(Alert.objects.values_list("identity", "check_name"))
    assert checks == {
        "00000000000000d1": "Checkout error rate",
        "00000000000000d2": "Queue depth",
        "00000000000000d3": "Queue depth",
    }
    assert Alert.objects.get(identity="00000000000000d1").summary == "Checkout error rate: no data"
    assert Alert.objects.get(identity="00000000000000d3").summary == "Queue depth: query failed"


def test_grafanas_contact_point_test_is_stored_as_a_test_and_kept_out_of_the_report_and_review(ops):
    source = AlertSourceFactory(name="grafana", kind="grafana", team=ops)
    shift = AlertShiftFactory(
        rotation__team=ops,
        starts_at=dt.datetime(2026, 11, 10, 10, tzinfo=UTC),
        ends_at=dt.datetime(2026, 11, 17, 10, tzinfo=UTC),
    )
    test = grafana_alert(
        {"alertname": "TestAlert", "instance": "Grafana"},
        annotations={
            "summary": "Notification test",
            "__value_string__": "[ metric='foo' labels={instance=bar} value=10 ]",
        },
        fingerprint="57c6d9296de2ad39",
    )
    real = grafana_alert({"alertname": "CheckoutErrorRate", "team": "ops"}, fingerprint="00000000000000e1")
    post(
        "/api/v1/alerts/alertmanager/",
        grafana_message([test], title="[FIRING:1]  (TestAlert Grafana)"),
        token=source.token,
    )
    post(
        "/api/v1/alerts/alertmanager/",
        grafana_message([real], title="[FIRING:1] CheckoutErrorRate"),
        token=source.token,
    )

    assert dict(Alert.objects.values_list("check_name", "is_test")) == {
        "TestAlert": True,
        "CheckoutErrorRate": False,
    }
    report = monthly_report(month=NOVEMBER, team=ops)
    assert report["total"] == 1
    assert [row["check"] for row in report["by_check"]] == ["CheckoutErrorRate"]
    assert monthly_report(month=NOVEMBER)["total"] == 1
    review = shift_review(shift=shift, at=shift.ends_at)
    assert [group.check for group in review.groups] == ["CheckoutErrorRate"]


# --- Nagios ------------------------------------------------------------------------------


def nagios_service(kind, *, at, number, problem_id="4711", last_problem_id="0", state="CRITICAL"):
    """The fields of the README's notify-service-by-morgue, as Nagios fills its macros."""
    return {
        "NOTIFICATIONTYPE": kind,
        "NOTIFICATIONNUMBER": str(number),
        "HOSTNAME": "web042",
        "SERVICEDESC": "Apache Busy Workers",
        "SERVICESTATE": state,
        "SERVICEOUTPUT": f"{state} - 245 of 256 workers busy",
        "SERVICEPROBLEMID": problem_id,
        "LASTSERVICEPROBLEMID": last_problem_id,
        "LONGDATETIME": "",
        "TIMET": str(int(at.timestamp())),
    }


def test_a_nagios_problem_notified_twice_then_recovered_is_one_closed_alert(ops):
    source = AlertSourceFactory(name="nagios", kind="nagios", team=ops)
    first = dt.datetime(2026, 11, 3, 3, 12, 44, tzinfo=UTC)
    url = "/api/v1/alerts/nagios/"
    assert post(url, nagios_service("PROBLEM", at=first, number=1), token=source.token, form=True).json() == {
        "received": 1,
        "created": 1,
        "updated": 0,
    }
    again = nagios_service("PROBLEM", at=first + dt.timedelta(hours=1), number=2, state="WARNING")
    assert post(url, again, token=source.token, form=True).json() == {
        "received": 1,
        "created": 0,
        "updated": 1,
    }
    # On recovery Nagios sets SERVICEPROBLEMID to 0 and the ended problem's id in LASTSERVICEPROBLEMID.
    recovery = nagios_service(
        "RECOVERY",
        at=first + dt.timedelta(hours=2),
        number=0,
        problem_id="0",
        last_problem_id="4711",
        state="OK",
    )
    assert post(url, recovery, token=source.token, form=True).json() == {
        "received": 1,
        "created": 0,
        "updated": 1,
    }

    alert = Alert.objects.get()
    assert (alert.fired_at, alert.problem_id, alert.state) == (first, "4711", "OK")
    assert alert.resolved_at == first + dt.timedelta(hours=2)
    assert monthly_report(month=NOVEMBER, team=ops)["total"] == 1


def test_a_nagios_renotification_without_problem_ids_updates_the_open_alert(ops):
    source = AlertSourceFactory(name="nagios", kind="nagios", team=ops)
    first = dt.datetime(2026, 11, 3, 3, 12, 44, tzinfo=UTC)
    for number in (1, 2, 3):
        fields = nagios_service(
            "PROBLEM", at=first + dt.timedelta(hours=number), number=number, problem_id=""
        )
        del fields["SERVICEPROBLEMID"], fields["LASTSERVICEPROBLEMID"]
        post("/api/v1/alerts/nagios/", fields, token=source.token, form=True)
    assert Alert.objects.count() == 1


def test_a_renotification_with_a_problem_id_takes_over_the_open_alert_stored_without_one(ops):
    # The first notification came before the command passed $SERVICEPROBLEMID$.
    source = AlertSourceFactory(name="nagios", kind="nagios", team=ops)
    first = dt.datetime(2026, 11, 3, 3, 12, 44, tzinfo=UTC)
    Alert.objects.create(
        source="nagios",
        identity="web042/Apache Busy Workers",
        check_name="Apache Busy Workers",
        fired_at=first,
    )
    again = nagios_service("PROBLEM", at=first + dt.timedelta(hours=1), number=2)
    response = post("/api/v1/alerts/nagios/", again, token=source.token, form=True)
    assert response.json() == {"received": 1, "created": 0, "updated": 1}
    assert list(Alert.objects.values_list("problem_id", "fired_at")) == [("4711", first)]


def test_a_recovery_closes_every_open_alert_of_the_service_not_only_the_newest(ops):
    # Stored before problem ids were read: one problem notified twice is two open alerts.
    source = AlertSourceFactory(name="nagios", kind="nagios", team=ops)
    first = dt.datetime(2026, 11, 3, 3, 12, 44, tzinfo=UTC)
    for hours in (0, 1):
        Alert.objects.create(
            source="nagios",
            identity="web042/Apache Busy Workers",
            check_name="Apache Busy Workers",
            fired_at=first + dt.timedelta(hours=hours),
        )
    recovery = nagios_service(
        "RECOVERY", at=first + dt.timedelta(hours=2), number=0, problem_id="0", state="OK"
    )
    response = post("/api/v1/alerts/nagios/", recovery, token=source.token, form=True)
    assert response.json() == {"received": 1, "created": 0, "updated": 2}
    assert not Alert.objects.filter(resolved_at__isnull=True).exists()


def test_a_new_problem_after_a_recovery_is_a_new_alert(ops):
    source = AlertSourceFactory(name="nagios", kind="nagios", team=ops)
    first = dt.datetime(2026, 11, 3, 3, 12, 44, tzinfo=UTC)
    url = "/api/v1/alerts/nagios/"
    post(url, nagios_service("PROBLEM", at=first, number=1), token=source.token, form=True)
    recovery = nagios_service(
        "RECOVERY",
        at=first + dt.timedelta(hours=1),
        number=0,
        problem_id="0",
        last_problem_id="4711",
        state="OK",
    )
    post(url, recovery, token=source.token, form=True)
    post(
        url,
        nagios_service("PROBLEM", at=first + dt.timedelta(hours=5), number=1, problem_id="4730"),
        token=source.token,
        form=True,
    )
    assert list(Alert.objects.order_by("fired_at").values_list("problem_id", "resolved_at")) == [
        ("4711", first + dt.timedelta(hours=1)),
        ("4730", None),
    ]


def test_nagios_longdatetime_in_the_hour_the_clocks_fall_back_is_read_by_its_abbreviation(ops):
    source = AlertSourceFactory(name="nagios", kind="nagios", team=ops, time_zone="America/New_York")
    url = "/api/v1/alerts/nagios/"
    for wall, service in (
        ("Sun Nov 1 01:30:00 EDT 2026", "First"),
        ("Sun Nov 1 01:30:00 EST 2026", "Second"),
    ):
        fields = {
            "NOTIFICATIONTYPE": "PROBLEM",
            "HOSTNAME": "web042",
            "SERVICEDESC": service,
            "SERVICESTATE": "CRITICAL",
            "SERVICEOUTPUT": "down",
            "LONGDATETIME": wall,
        }
        response = post(url, fields, token=source.token, form=True)
        assert response.status_code == 200, response.json()
    fired = dict(Alert.objects.values_list("check_name", "fired_at"))
    assert fired == {
        "First": dt.datetime(2026, 11, 1, 5, 30, tzinfo=UTC),
        "Second": dt.datetime(2026, 11, 1, 6, 30, tzinfo=UTC),
    }


# --- Icinga 2 ----------------------------------------------------------------------------


def icinga_service(kind, *, state, date):
    """The env of Icinga 2's mail-service-notification NotificationCommand (conf.d/commands.conf)."""
    return {
        "NOTIFICATIONTYPE": kind,
        "SERVICENAME": "ping4",
        "HOSTNAME": "web042.example.com",
        "HOSTDISPLAYNAME": "web042",
        "HOSTADDRESS": "10.20.4.42",
        "SERVICESTATE": state,
        "LONGDATETIME": date,
        "SERVICEOUTPUT": f"PING {state} - Packet loss = 100%",
        "NOTIFICATIONAUTHORNAME": "",
        "NOTIFICATIONCOMMENT": "",
        "SERVICEDISPLAYNAME": "ping4",
        "USEREMAIL": "ops@example.com",
    }


def test_an_icinga_2_service_problem_and_recovery_in_its_own_names(ops):
    source = AlertSourceFactory(name="icinga", kind="nagios", team=ops, time_zone="Europe/Berlin")
    url = "/api/v1/alerts/nagios/"
    problem = icinga_service("PROBLEM", state="CRITICAL", date="2026-11-26 16:12:44 +0100")
    assert post(url, problem, token=source.token, form=True).json()["created"] == 1
    alert = Alert.objects.get()
    assert (alert.check_name, alert.host, alert.state) == ("ping4", "web042.example.com", "CRITICAL")
    assert alert.summary == "PING CRITICAL - Packet loss = 100%"
    assert alert.fired_at == dt.datetime(2026, 11, 26, 15, 12, 44, tzinfo=UTC)

    recovery = icinga_service("RECOVERY", state="OK", date="2026-11-26 16:20:02 +0100")
    assert post(url, recovery, token=source.token, form=True).json()["updated"] == 1
    alert.refresh_from_db()
    assert alert.resolved_at == dt.datetime(2026, 11, 26, 15, 20, 2, tzinfo=UTC)


def test_a_service_state_without_a_service_name_is_refused_not_filed_as_a_host_check(ops):
    source = AlertSourceFactory(name="icinga", kind="nagios", team=ops)
    fields = icinga_service("PROBLEM", state="CRITICAL", date="2026-11-26 16:12:44 +0100")
    del fields["SERVICENAME"]
    response = post("/api/v1/alerts/nagios/", fields, token=source.token, form=True)
    assert response.status_code == 400
    assert "SERVICEDESC" in response.json()["errors"]
    assert not Alert.objects.exists()


# --- Both URL spellings ------------------------------------------------------------------


@pytest.mark.parametrize("debug", [True, False])
@pytest.mark.parametrize(
    ("kind", "path", "body"),
    [
        (
            "alertmanager",
            "/api/v1/alerts/alertmanager",
            alertmanager_message([alertmanager_alert("InstanceDown", "web1:9100", fingerprint="f1")]),
        ),
        (
            "nagios",
            "/api/v1/alerts/nagios",
            {"NOTIFICATIONTYPE": "PROBLEM", "HOSTNAME": "web042", "HOSTSTATE": "DOWN", "TIMET": "1793000000"},
        ),
        ("generic", "/api/v1/alerts", [{"check": "Backups", "fired_at": "2026-11-03T03:00:00Z"}]),
    ],
)
def test_every_receiver_answers_without_its_trailing_slash(settings, debug, kind, path, body):
    settings.DEBUG = debug
    source = AlertSourceFactory(name=kind, kind=kind)
    response = post(path, body, token=source.token)
    assert response.status_code == 200, response.content
    assert response.json()["created"] == 1


# --- The README's command definitions ------------------------------------------------------

README = Path(__file__).resolve().parents[2] / "README.md"


def readme_fields(definition_name, field_pattern):
    """The form fields a command defined in the README sends, as (field, macro) pairs."""
    text = README.read_text()
    start = text.index(definition_name)
    block = text[start : text.index("}", start)]
    return re.findall(field_pattern, block)


NAGIOS_FIELD = r'--data-urlencode "(\w+)=\$(\w+)\$"'
ICINGA_FIELD = r'"--data-urlencode", "(\w+)=\$([\w.]+)\$"'


def test_the_readmes_nagios_commands_send_problem_ids_and_both_times(ops):
    source = AlertSourceFactory(name="nagios", kind="nagios", team=ops, time_zone="America/New_York")
    # What Nagios puts in each macro for a second notification of problem 4711, then its recovery.
    macros = {
        "NOTIFICATIONTYPE": "PROBLEM",
        "SERVICENOTIFICATIONNUMBER": "1",
        "HOSTNOTIFICATIONNUMBER": "0",
        "HOSTNAME": "web042",
        "SERVICEDESC": "Apache Busy Workers",
        "SERVICESTATE": "CRITICAL",
        "SERVICEOUTPUT": "CRITICAL - 245 of 256 workers busy",
        "SERVICEPROBLEMID": "4711",
        "LASTSERVICEPROBLEMID": "4690",
        "HOSTSTATE": "UP",
        "HOSTOUTPUT": "PING OK",
        "HOSTPROBLEMID": "0",
        "LASTHOSTPROBLEMID": "4702",
        "LONGDATETIME": "Sun Nov 1 01:30:00 EST 2026",
        "TIMET": "1793514600",
    }
    fields = readme_fields("notify-service-by-morgue", NAGIOS_FIELD)
    assert {field for field, _ in fields} >= {
        "SERVICEPROBLEMID",
        "LASTSERVICEPROBLEMID",
        "NOTIFICATIONNUMBER",
        "LONGDATETIME",
        "TIMET",
    }
    assert {field for field, _ in readme_fields("notify-host-by-morgue", NAGIOS_FIELD)} >= {
        "HOSTPROBLEMID",
        "LASTHOSTPROBLEMID",
        "NOTIFICATIONNUMBER",
        "LONGDATETIME",
        "TIMET",
    }
    url = "/api/v1/alerts/nagios/"
    for number in ("1", "2"):
        body = {field: {**macros, "SERVICENOTIFICATIONNUMBER": number}[macro] for field, macro in fields}
        assert post(url, body, token=source.token, form=True).status_code == 200
    recovery = {
        **macros,
        "NOTIFICATIONTYPE": "RECOVERY",
        "SERVICESTATE": "OK",
        "SERVICEPROBLEMID": "0",
        "LASTSERVICEPROBLEMID": "4711",
        "TIMET": "1793518200",
    }
    post(url, {field: recovery[macro] for field, macro in fields}, token=source.token, form=True)
    alert = Alert.objects.get()
    assert (alert.problem_id, alert.fired_at) == ("4711", dt.datetime(2026, 11, 1, 6, 30, tzinfo=UTC))
    assert alert.resolved_at == dt.datetime(2026, 11, 1, 7, 30, tzinfo=UTC)


def test_the_readmes_icinga_2_commands_send_icinga_2s_own_names(ops):
    source = AlertSourceFactory(name="icinga", kind="nagios", team=ops)
    # Icinga 2's runtime macros for a service problem.
    macros = {
        "notification.type": "PROBLEM",
        "notification.notification_number": "1",
        "host.name": "web042.example.com",
        "host.display_name": "web042",
        "service.name": "ping4",
        "service.display_name": "PING IPv4",
        "service.state": "CRITICAL",
        "service.output": "PING CRITICAL - Packet loss = 100%",
        "host.state": "UP",
        "host.output": "PING OK",
        "icinga.long_date_time": "2026-11-26 16:12:44 +0100",
        "icinga.timet": "",  # left empty here so that LONGDATETIME is read
    }
    fields = readme_fields('"morgue-service-notification"', ICINGA_FIELD)
    assert {field for field, _ in fields} >= {
        "SERVICENAME",
        "HOSTDISPLAYNAME",
        "SERVICEDISPLAYNAME",
        "LONGDATETIME",
    }
    assert {field for field, _ in readme_fields('"morgue-host-notification"', ICINGA_FIELD)} >= {
        "HOSTNAME",
        "HOSTSTATE",
        "LONGDATETIME",
    }
    body = {field: macros[macro] for field, macro in fields}
    assert post("/api/v1/alerts/nagios/", body, token=source.token, form=True).json()["created"] == 1
    alert = Alert.objects.get()
    assert (alert.check_name, alert.state) == ("ping4", "CRITICAL")
    assert alert.fired_at == dt.datetime(2026, 11, 26, 15, 12, 44, tzinfo=UTC)


def test_a_group_notified_again_counts_its_left_out_alerts_once(ops):
    # Alertmanager's dispatcher re-sends a whole group on every repeat_interval and whenever
    # it changes (dispatch/dispatch.go, aggrGroup.run), each time with its truncatedAlerts.
    source = AlertSourceFactory(name="prometheus", kind="alertmanager")
    storm = [alertmanager_alert("InstanceDown", f"web{n}:9100", fingerprint=f"{n:016x}") for n in range(2)]
    other = [alertmanager_alert("DiskFull", "db1:9100", fingerprint="00000000000000f1")]
    for truncated in (5, 5, 7):  # the same group, notified three times, growing once
        message = alertmanager_message(storm, truncated=truncated, common={"alertname": "InstanceDown"})
        assert post("/api/v1/alerts/alertmanager/", message, token=source.token).status_code == 200
    message = alertmanager_message(other, truncated=2, common={"alertname": "DiskFull"})
    assert post("/api/v1/alerts/alertmanager/", message, token=source.token).status_code == 200
    TruncatedAlerts.objects.create(count=3, group_key="")  # a sender without group keys

    month = TruncatedAlerts.objects.earliest("received_at").received_at.date().replace(day=1)
    assert TruncatedAlerts.objects.count() == 5
    assert monthly_report(month=month)["truncated_alerts"] == 7 + 2 + 3
