"""Alert-source tokens: shown once, kept as a prefix and a hash, replaceable; older tokens still work."""

import importlib
import secrets

import pytest
from rest_framework.test import APIClient

from alerts_review import services
from alerts_review.models import AlertSource
from morgue.models import AuditEntry
from tests.factories import AlertSourceFactory

pytestmark = pytest.mark.django_db

RECEIVER = "/api/v1/alerts/alertmanager/"
FIRING = {
    "version": "4",
    "status": "firing",
    "receiver": "morgue",
    "groupKey": '{}:{alertname="DiskSpaceLow"}',
    "alerts": [
        {
            "status": "firing",
            "labels": {"alertname": "DiskSpaceLow", "instance": "db12:9100"},
            "annotations": {},
            "startsAt": "2026-11-30T10:00:00Z",
            "endsAt": "0001-01-01T00:00:00Z",
            "fingerprint": "a1",
        }
    ],
}


def _send(token: str):
    return APIClient().post(RECEIVER, FIRING, format="json", HTTP_AUTHORIZATION=f"Bearer {token}")


def test_a_source_keeps_only_a_prefix_and_a_hash_of_its_token():
    source = services.create_alert_source(name="prometheus", kind="alertmanager")
    token = source.token or ""

    stored = AlertSource.objects.filter(pk=source.pk).values().get()
    assert token not in str(stored)
    assert stored["token_prefix"] == token[:8]
    assert _send(token).status_code == 200
    # The same prefix with another secret is refused.
    assert _send(token[:8] + secrets.token_urlsafe(32)).status_code == 401


def test_a_new_token_replaces_the_old_and_the_trail_shows_no_token():
    source = AlertSourceFactory(kind="alertmanager")
    old = source.token or ""

    new = services.reset_source_token(source=source).token or ""

    assert new != old
    assert _send(old).status_code == 401
    assert _send(new).status_code == 200
    entry = AuditEntry.objects.get(kind="alerts_review.alertsource", action="token reset")
    assert old not in str(entry.changes) and new not in str(entry.changes)


def test_a_token_from_before_hashing_keeps_working():
    """What migration 0015 does to each existing token: senders configured with it are still let in."""
    legacy = secrets.token_urlsafe(32)  # how tokens were made before
    migration = importlib.import_module("alerts_review.migrations.0015_source_tokens_hashed")
    source = AlertSourceFactory(kind="alertmanager")
    source.token_prefix, source.token_hash = migration.prefix_and_hash(legacy)
    source.save()

    assert _send(legacy).status_code == 200


def test_the_admin_shows_a_new_sources_token_once(client, staff):
    staff.is_superuser = True
    staff.save()
    client.force_login(staff)

    response = client.post(
        "/admin/alerts_review/alertsource/add/",
        {"name": "grafana", "kind": "grafana", "time_zone": "UTC", "alertmanager_url": ""},
        follow=True,
    )

    page = response.content.decode()
    source = AlertSource.objects.get(name="grafana")
    token = page.split("The token of grafana is ", 1)[1].split(" ", 1)[0]
    assert token[:8] == source.token_prefix
    assert _send(token).status_code == 200
    assert token not in client.get(f"/admin/alerts_review/alertsource/{source.pk}/change/").content.decode()


def test_the_admin_action_gives_new_tokens_shown_once(client, staff):
    staff.is_superuser = True
    staff.save()
    client.force_login(staff)
    source = AlertSourceFactory(name="prometheus", kind="alertmanager")
    old = source.token or ""

    response = client.post(
        "/admin/alerts_review/alertsource/",
        {"action": "reset_token", "_selected_action": [source.pk]},
        follow=True,
    )

    token = response.content.decode().split("The token of prometheus is ", 1)[1].split(" ", 1)[0]
    assert _send(token).status_code == 200
    assert _send(old).status_code == 401
