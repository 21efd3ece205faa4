import datetime as dt
import json

import pytest
from django.test import Client
from rest_framework.test import APIClient

from alerts_review.models import Alert, RoutingRule
from tests.factories import AlertShiftFactory, AlertSourceFactory, ProfileFactory, TeamFactory, UserFactory

pytestmark = pytest.mark.django_db

UTC = dt.UTC


@pytest.fixture
def ops():
    return TeamFactory(slug="ops", name="Ops")


@pytest.fixture
def alertmanager(ops):
    return AlertSourceFactory(name="prometheus", kind="alertmanager")


def post(path, body, *, token=None, content_type="application/json", client=None):
    client = client or APIClient()
    headers = {"HTTP_AUTHORIZATION": f"Token {token}"} if token else {}
    data = body if isinstance(body, str | bytes) else json.dumps(body)
    return client.post(path, data, content_type=content_type, **headers)


def test_alertmanager_firing_then_resolved_updates_the_same_alert(alertmanager, sample):
    response = post(
        "/api/v1/alerts/alertmanager/", sample("alertmanager-firing.json"), token=alertmanager.token
    )
    assert response.status_code == 200, response.json()
    assert response.json() == {"received": 2, "created": 2, "updated": 0}

    response = post(
        "/api/v1/alerts/alertmanager/", sample("alertmanager-resolved.json"), token=alertmanager.token
    )
    assert response.json() == {"received": 1, "created": 0, "updated": 1}
    assert Alert.objects.count() == 2
    db12 = Alert.objects.get(identity="6f1c0b7e2a9d4c31")
    assert db12.state == "resolved" and db12.resolved_at is not None
    assert db12.team.slug == "ops" and db12.check_name == "DiskSpaceLow"


def test_the_same_delivery_twice_stores_one_alert_per_firing(alertmanager, sample):
    post("/api/v1/alerts/alertmanager/", sample("alertmanager-firing.json"), token=alertmanager.token)
    response = post(
        "/api/v1/alerts/alertmanager/", sample("alertmanager-firing.json"), token=alertmanager.token
    )
    assert response.json() == {"received": 2, "created": 0, "updated": 2}
    assert Alert.objects.count() == 2


def test_grafana_webhook_is_received_with_the_token_in_the_query(sample):
    payments = TeamFactory(slug="payments")
    source = AlertSourceFactory(name="grafana", kind="grafana")
    response = APIClient().post(
        f"/api/v1/alerts/alertmanager/?token={source.token}",
        sample("grafana-webhook.json"),
        content_type="application/json",
    )
    assert response.json() == {"received": 1, "created": 1, "updated": 0}
    alert = Alert.objects.get()
    assert (alert.source, alert.team, alert.check_name) == ("grafana", payments, "CheckoutErrorRate")


def test_the_paged_person_is_the_teams_l1_when_it_fired(alertmanager, ops, sample):
    sleeper = ProfileFactory(user=UserFactory(username="nina"), time_zone="Europe/London").user
    AlertShiftFactory(
        rotation__team=ops,
        user=sleeper,
        starts_at=dt.datetime(2026, 10, 1, 10, tzinfo=UTC),
        ends_at=dt.datetime(2026, 10, 4, 10, tzinfo=UTC),
    )
    AlertShiftFactory(rotation__team=ops, level="L2", starts_at=dt.datetime(2026, 10, 1, 10, tzinfo=UTC))
    post("/api/v1/alerts/alertmanager/", sample("alertmanager-firing.json"), token=alertmanager.token)
    alert = Alert.objects.get(identity="6f1c0b7e2a9d4c31")
    assert alert.paged == sleeper
    # 02:14 UTC is 03:14 in London, inside the default 22:00–07:00 sleep hours.
    assert alert.out_of_hours


def test_an_alert_at_the_handoff_instant_pages_the_incoming_person():
    # Sent in one batch with an earlier alert, so both shifts are looked up together.
    source = AlertSourceFactory(name="generic", kind="generic", team=TeamFactory(slug="ops"))
    handoff = dt.datetime(2026, 10, 3, 10, tzinfo=UTC)
    outgoing = AlertShiftFactory(
        rotation__team=source.team, user=UserFactory(username="nina"), ends_at=handoff
    )
    AlertShiftFactory(
        rotation=outgoing.rotation,
        user=UserFactory(username="omar"),
        starts_at=handoff,
        ends_at=handoff + dt.timedelta(days=3),
    )

    post(
        "/api/v1/alerts/",
        [
            {"check": "Disk", "host": "db1", "fired_at": "2026-10-03T09:59:59Z"},
            {"check": "Disk", "host": "db2", "fired_at": "2026-10-03T10:00:00Z"},
        ],
        token=source.token,
    )

    assert dict(Alert.objects.values_list("host", "paged__username")) == {"db1": "nina", "db2": "omar"}


def test_alerts_with_no_team_label_follow_routing_rules_then_the_source_default():
    dev, web = TeamFactory(slug="dev"), TeamFactory(slug="web")
    source = AlertSourceFactory(name="generic", kind="generic", team=dev)
    RoutingRule.objects.create(check_pattern="Apache*", team=web)
    response = post(
        "/api/v1/alerts/",
        [
            {"check": "Apache Busy Workers", "host": "web042", "fired_at": "2026-10-03T03:12:44Z"},
            {"check": "Backups", "host": "nas1", "fired_at": "2026-10-03T03:12:44Z"},
            {
                "check": "Apache Busy Workers",
                "host": "web043",
                "fired_at": "2026-10-03T03:12:44Z",
                "team": "dev",
            },
        ],
        token=source.token,
    )
    assert response.json() == {"received": 3, "created": 3, "updated": 0}
    teams = dict(Alert.objects.values_list("identity", "team__slug"))
    assert teams == {
        "web042/Apache Busy Workers": "web",
        "nas1/Backups": "dev",
        "web043/Apache Busy Workers": "dev",
    }


def test_nagios_form_problem_then_recovery_closes_the_alert(ops, sample):
    source = AlertSourceFactory(name="nagios", kind="nagios", team=ops)
    fields = dict(
        line.split("=", 1)
        for line in sample("nagios-notification.txt").splitlines()
        if line and line[0] != "#"
    )
    response = APIClient().post(
        "/api/v1/alerts/nagios/", fields, HTTP_AUTHORIZATION=f"Token {source.token}"
    )  # form-encoded, as Nagios' curl sends it
    assert response.json() == {"received": 1, "created": 1, "updated": 0}

    recovery = {**fields, "NOTIFICATIONTYPE": "RECOVERY", "SERVICESTATE": "OK", "TIMET": "1791013364"}
    response = post("/api/v1/alerts/nagios/", recovery, token=source.token)
    assert response.json() == {"received": 1, "created": 0, "updated": 1}
    alert = Alert.objects.get()
    assert (alert.state, alert.team) == ("OK", ops)
    assert alert.resolved_at == dt.datetime(2026, 10, 3, 7, 42, 44, tzinfo=UTC)


def test_nagios_acknowledgements_change_nothing():
    source = AlertSourceFactory(name="nagios", kind="nagios")
    response = post(
        "/api/v1/alerts/nagios/",
        {"NOTIFICATIONTYPE": "ACKNOWLEDGEMENT", "HOSTNAME": "web042", "TIMET": "1791011564"},
        token=source.token,
    )
    assert response.json() == {"received": 0, "created": 0, "updated": 0}


def test_nagios_without_a_timestamp_is_refused_naming_the_field():
    source = AlertSourceFactory(name="nagios", kind="nagios")
    response = post(
        "/api/v1/alerts/nagios/", {"NOTIFICATIONTYPE": "PROBLEM", "HOSTNAME": "web042"}, token=source.token
    )
    assert response.status_code == 400
    assert response.json()["errors"] == {"LONGDATETIME": ["LONGDATETIME is missing."]}


def test_a_batch_with_bad_alerts_stores_the_good_ones_and_names_the_bad_by_index():
    source = AlertSourceFactory(name="generic", kind="generic")
    response = post(
        "/api/v1/alerts/",
        [
            {"check": "Backups", "fired_at": "2026-10-03T03:00:00Z"},
            {"fired_at": "2026-10-03T03:00:00Z"},
            {"check": "Backups", "fired_at": "the day before"},
        ],
        token=source.token,
    )
    assert response.status_code == 200
    body = response.json()
    assert (body["received"], body["created"], body["updated"]) == (3, 1, 0)
    assert body["detail"] == "2 of 3 alerts were refused; the other 1 were stored."
    assert [error["index"] for error in body["errors"]] == [1, 2]
    assert body["errors"][0]["detail"] == "check is missing."
    assert Alert.objects.count() == 1


def test_a_batch_of_only_bad_alerts_is_a_400():
    source = AlertSourceFactory(name="generic", kind="generic")
    response = post("/api/v1/alerts/", {"check": "Backups"}, token=source.token)
    assert response.status_code == 400
    assert response.json()["errors"] == [{"index": 0, "detail": "fired_at is missing."}]


def test_malformed_json_is_a_400_sentence(alertmanager):
    response = post("/api/v1/alerts/alertmanager/", '{"alerts": [', token=alertmanager.token)
    assert response.status_code == 400
    assert "JSON parse error" in response.json()["detail"]


def test_an_alert_storm_is_stored_whole_in_one_request(alertmanager, django_assert_max_num_queries):
    # Alertmanager does not retry a 4xx, so a group refused for its size would be lost.
    alerts = [
        {
            "status": "firing",
            "labels": {"alertname": "InstanceDown", "instance": f"web{number:04}:9100", "team": "ops"},
            "annotations": {},
            "startsAt": "2026-10-03T02:14:07Z",
            "endsAt": "0001-01-01T00:00:00Z",
            "fingerprint": f"{number:016x}",
        }
        for number in range(2_000)
    ]
    # Batched inserts (SQLite takes fewer rows a statement than PostgreSQL), never a query an alert.
    with django_assert_max_num_queries(100):
        response = post(
            "/api/v1/alerts/alertmanager/", {"version": "4", "alerts": alerts}, token=alertmanager.token
        )
    assert response.status_code == 200, response.json()
    assert response.json() == {"received": 2000, "created": 2000, "updated": 0}
    assert Alert.objects.count() == 2000


def test_a_body_over_the_upload_limit_is_a_413_naming_the_setting(alertmanager, settings):
    settings.DATA_UPLOAD_MAX_MEMORY_SIZE = 1_000
    alert = {"labels": {"alertname": "A"}, "startsAt": "2026-10-03T02:14:07Z"}
    response = post("/api/v1/alerts/alertmanager/", {"alerts": [alert] * 50}, token=alertmanager.token)
    assert response.status_code == 413
    assert "DATA_UPLOAD_MAX_MEMORY_SIZE" in response.json()["detail"]
    assert not Alert.objects.exists()


@pytest.mark.parametrize("token", [None, "not-a-token"])
def test_missing_or_unknown_tokens_are_401(token, sample, alertmanager):
    response = post("/api/v1/alerts/alertmanager/", sample("alertmanager-firing.json"), token=token)
    assert response.status_code == 401
    assert "token" in response.json()["detail"]


def test_revoked_tokens_are_401(alertmanager, sample):
    alertmanager.revoke()
    response = post(
        "/api/v1/alerts/alertmanager/", sample("alertmanager-firing.json"), token=alertmanager.token
    )
    assert response.status_code == 401
    assert response.json()["detail"] == "The token of alert source prometheus was revoked."


def test_a_persons_api_token_does_not_open_a_receiver(api, sample):
    response = api.post("/api/v1/alerts/", {"check": "x", "fired_at": 0}, format="json")
    assert response.status_code == 401


def test_a_signed_in_browser_session_needs_no_csrf_token_on_a_receiver(person, alertmanager, sample):
    client = Client(enforce_csrf_checks=True)
    client.force_login(person)
    response = client.post(
        f"/api/v1/alerts/alertmanager/?token={alertmanager.token}",
        sample("alertmanager-firing.json"),
        content_type="application/json",
    )
    assert response.status_code == 200


def test_a_token_sent_to_another_kind_of_receiver_is_refused(alertmanager):
    response = post(
        "/api/v1/alerts/nagios/",
        {"NOTIFICATIONTYPE": "PROBLEM", "HOSTNAME": "h", "TIMET": "1"},
        token=alertmanager.token,
    )
    assert response.status_code == 403
    assert "own receiver" in response.json()["detail"]
