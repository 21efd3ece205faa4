"""Acknowledging a page silences its alerts in the real Alertmanager (Debian's); resolving expires them."""

import datetime as dt
import json

import pytest
from django.core import mail
from django.utils import timezone
from rest_framework.test import APIClient

import alerts_review.tasks
import oncall.tasks
from alerts_review.models import Alert, AlertSilence
from morgue.celery import app
from oncall.models import Page, PageStatus
from tests.factories import make_rotation

from . import test_alertmanager
from .conftest import paged, wait_for
from .test_alertmanager import amtool, rfc3339

pytestmark = [pytest.mark.integration, pytest.mark.django_db(transaction=True)]

UTC = dt.UTC
# The real Alertmanager on loopback, sending to the live Morgue (test_alertmanager's fixtures).
alertmanager = test_alertmanager.alertmanager
start_alertmanager = test_alertmanager.start_alertmanager
source = test_alertmanager.source
TASKS = (alerts_review.tasks, oncall.tasks)  # registered with the app, so they run by name below


@pytest.fixture
def run_tasks(monkeypatch):
    """Run what Morgue enqueues at once, in the process (the live server's thread or the test's).

    Escalation timers (a countdown) are left alone: nobody escalates in these tests.
    """

    def send_task(name, args=(), countdown=None, **options):
        if countdown is None:
            app.tasks[name].apply(args=args, throw=True)

    monkeypatch.setattr(app, "send_task", send_task)


@pytest.fixture
def ops():
    now = timezone.now()
    rotation = make_rotation(
        slug="ops-primary",
        people=("ana",),
        has_l2=False,
        first_shift_date=now.date() - dt.timedelta(days=7),
        now=now,
    )
    return rotation.team


def silences(alertmanager_url: str, *args: str) -> list[dict]:
    return json.loads(amtool(alertmanager_url, "silence", "query", "-o", "json", *args))


def test_acknowledging_silences_the_alert_until_it_resolves(
    alertmanager, daemons, source, ops, run_tasks, settings
):
    settings.ALERTMANAGER_ALLOWED_HOSTS = [alertmanager.removeprefix("http://")]
    source.team = ops
    source.alertmanager_url = alertmanager
    source.full_clean()
    source.save()
    started = dt.datetime.now(UTC).replace(microsecond=0) - dt.timedelta(minutes=2)
    labels = ["alertname=DatabaseDown", "instance=db12:9100", "severity=critical", "team=ops"]
    amtool(alertmanager, "alert", "add", *labels, f"--start={rfc3339(started)}")

    page = wait_for(
        "Morgue to page ops' L1",
        paged(Page.objects.first, beat=alerts_review.tasks.sweep_paging.apply),
        daemons=daemons,
    )
    alert = Alert.objects.get(check_name="DatabaseDown")
    assert alert.page == page and page.status == PageStatus.OPEN
    l1 = page.steps.get().user
    assert l1.username == "ana"
    assert any(l1.email in message.to and "DatabaseDown" in message.body for message in mail.outbox)

    client = APIClient()
    client.force_authenticate(l1)
    answer = client.post(f"/api/v1/pages/{page.pk}/acknowledge/", {}, format="json")
    assert answer.status_code == 200, answer.content
    assert answer.json()["status"] == "acknowledged"

    (silence,) = silences(alertmanager)
    assert silence["status"]["state"] == "active" and silence["createdBy"] == "morgue"
    assert {(m["name"], m["value"], m["isEqual"], m["isRegex"]) for m in silence["matchers"]} == {
        (name, value, True, False) for name, value in alert.labels.items()
    }
    assert "ana" in silence["comment"] and f"page {page.pk}" in silence["comment"]
    held = AlertSilence.objects.get()
    assert (held.page, held.alert, held.silence_id, held.expired_at) == (page, alert, silence["id"], None)
    # Acknowledging again creates nothing more.
    client.post(f"/api/v1/pages/{page.pk}/acknowledge/", {}, format="json")
    assert len(silences(alertmanager)) == 1

    ended = dt.datetime.now(UTC).replace(microsecond=0) - dt.timedelta(seconds=5)
    amtool(alertmanager, "alert", "add", *labels, f"--start={rfc3339(started)}", f"--end={rfc3339(ended)}")

    def page_resolved():
        # Alertmanager mutes the resolution of a silenced alert: the beat's sweep asks it instead.
        alerts_review.tasks.sweep_paging.apply(throw=True)
        page.refresh_from_db()
        return page.status == PageStatus.RESOLVED

    wait_for("Morgue to resolve the page", page_resolved, daemons=daemons)
    held.refresh_from_db()
    assert held.expired_at is not None
    assert silences(alertmanager) == []
    (expired,) = silences(alertmanager, "--expired")
    assert expired["id"] == held.silence_id and expired["status"]["state"] == "expired"
