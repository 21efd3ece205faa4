"""A page step reaches its person by their rules, each notification exactly once, never lost."""

import datetime as dt
from unittest import mock

import pytest
import time_machine
from django.core import mail
from kombu.exceptions import OperationalError

from morgue.celery import app
from oncall import services, tasks
from oncall.models import (
    ContactMethod,
    Notification,
    NotificationRule,
    NotificationStatus,
    Page,
    PageStatus,
)
from oncall.providers import DeliveryFailed, Receipt
from oncall.services import notifications
from tests.factories import make_rotation
from tests.oncall.delivery import deliver

pytestmark = pytest.mark.django_db
NOW = dt.datetime(2026, 2, 10, 12, tzinfo=dt.UTC)


@pytest.fixture
def team():
    return make_rotation(slug="payments-primary", people=("gus", "hana"), escalation_timeout_minutes=10).team


def page_step(team):
    page = services.page_team(team=team, message="Card auths failing", now=NOW)
    step = page.steps.get()
    team.email = ""
    team.save()
    return page, step


def with_rules(user, *rules):
    """Give `user` contact methods with delays: (kind, address, minutes)."""
    for kind, address, minutes in rules:
        method = notifications.add_contact_method(user=user, kind=kind, address=address)
        notifications.add_notification_rule(user=user, contact_method=method, delay_minutes=minutes)


def sent_by(kind):
    return mock.patch.dict(
        "oncall.providers.SENDERS", {kind: mock.Mock(return_value=Receipt("SM1", "queued"))}
    )


def test_a_step_follows_the_persons_rules_push_and_email_at_once_sms_later_a_call_last(team):
    page, step = page_step(team)
    with_rules(
        step.user,
        ("push", "gus-pages", 0),
        ("email", "gus@work.example", 0),
        ("sms", "+14155550123", 2),
        ("voice", "+14155550123", 5),
    )
    services.notify_step(step_id=step.pk, now=NOW)
    planned = {(row.kind, row.due_at - NOW) for row in step.notifications.all()}
    assert planned == {
        ("push", dt.timedelta()),
        ("email", dt.timedelta()),
        ("sms", dt.timedelta(minutes=2)),
        ("voice", dt.timedelta(minutes=5)),
    }

    with sent_by("push") as push, sent_by("sms") as sms, sent_by("voice"):
        deliver(NOW + dt.timedelta(minutes=1))
        assert push["push"].call_count == 1 and sms["sms"].call_count == 0
        assert [message.to for message in mail.outbox] == [["gus@work.example"]]
        deliver(NOW + dt.timedelta(minutes=2))
        assert sms["sms"].call_count == 1
        message = sms["sms"].call_args.args[1]
        assert message.code == str(page.pk) and "/oncall/ack/" in message.acknowledge_url


def test_acknowledging_cancels_what_has_not_gone_out(team):
    page, step = page_step(team)
    with_rules(step.user, ("email", "gus@work.example", 0), ("sms", "+14155550123", 2))
    services.notify_step(step_id=step.pk, now=NOW)
    deliver(NOW)
    services.acknowledge_page(page=page, user=step.user)
    with sent_by("sms") as senders:
        deliver(NOW + dt.timedelta(minutes=3))
        senders["sms"].assert_not_called()
    assert step.notifications.get(kind="sms").status == NotificationStatus.CANCELLED


def test_a_notification_claimed_by_another_worker_is_not_sent_again(team):
    """Duplicate task delivery: the second worker finds the row claimed and sends nothing."""
    _, step = page_step(team)
    services.notify_step(step_id=step.pk, now=NOW)
    row = step.notifications.get()
    Notification.objects.filter(pk=row.pk).update(status=NotificationStatus.SENDING, claimed_at=NOW)

    assert notifications.send_notification(notification_id=row.pk, now=NOW + dt.timedelta(minutes=1)) is None
    assert mail.outbox == []
    # A worker killed mid-send: after the lease the row is taken again, and sent once.
    later = NOW + notifications.CLAIM_LEASE + dt.timedelta(seconds=1)
    assert (
        notifications.send_notification(notification_id=row.pk, now=later).status == NotificationStatus.SENT
    )
    assert notifications.send_notification(notification_id=row.pk, now=later) is None
    assert len(mail.outbox) == 1


def test_a_send_that_keeps_failing_moves_to_the_next_method_and_shows_on_the_page(team, client):
    page, step = page_step(team)
    with_rules(step.user, ("push", "gus-pages", 0), ("sms", "+14155550123", 30))
    services.notify_step(step_id=step.pk, now=NOW)
    failing = mock.Mock(side_effect=DeliveryFailed("HTTP 503 from ntfy"))
    with mock.patch.dict("oncall.providers.SENDERS", {"push": failing}), sent_by("sms") as sms:
        for seconds in (0, 30, 150, 630):  # tried, then retried after 30 s, 2 min and 8 min
            deliver(NOW + dt.timedelta(seconds=seconds))
        assert failing.call_count == 4
        push = step.notifications.get(kind="push")
        assert (push.status, push.attempts) == (NotificationStatus.FAILED, 4)
        assert sms["sms"].call_count == 0
        deliver(NOW + dt.timedelta(seconds=630))
        # The SMS planned for minute 30 went at once instead.
        text = step.notifications.get(kind="sms")
        assert text.status == NotificationStatus.SENT and text.fallback_for == push
        assert sms["sms"].call_count == 1

    client.force_login(step.user)
    body = client.get(f"/oncall/pages/{page.pk}/").content.decode()
    assert "HTTP 503 from ntfy" in body and "Failed" in body


def test_a_refused_address_is_not_retried_and_falls_back_to_email(team, settings):
    settings.NTFY_URL = "http://127.0.0.1:9/"  # loopback: refused by the SSRF check outside tests' allowance
    settings.MORGUE_WEBHOOK_ALLOW_PRIVATE = False
    _, step = page_step(team)
    with_rules(step.user, ("push", "gus-pages", 0))
    notifications.add_contact_method(user=step.user, kind="email", address="gus@work.example")
    services.notify_step(step_id=step.pk, now=NOW)
    deliver(NOW)
    push = step.notifications.get(kind="push")
    assert (push.status, push.attempts) == (NotificationStatus.FAILED, 1)
    assert "private network" in push.error
    deliver(NOW)
    assert [message.to for message in mail.outbox] == [["gus@work.example"]]
    assert step.notifications.get(kind="email").fallback_for == push


def test_the_send_task_retries_with_backoff(team):
    _, step = page_step(team)
    services.notify_step(step_id=step.pk, now=NOW)
    row = step.notifications.get()
    smtp_down = mock.patch("django.core.mail.EmailMultiAlternatives.send", side_effect=OSError("down"))
    retrying = mock.patch.object(tasks.send_notification, "retry", side_effect=RuntimeError)
    with smtp_down, retrying as retry, pytest.raises(RuntimeError):
        tasks.send_notification(row.pk)
    assert retry.call_args.kwargs["countdown"] == 30


@pytest.mark.django_db(transaction=True)  # the enqueue runs on a real commit
def test_a_page_is_saved_and_answered_when_the_broker_is_down(api, team):
    refused = mock.patch.object(app, "send_task", side_effect=OperationalError("connection refused"))
    with time_machine.travel(NOW, tick=False), refused as send_task:
        response = api.post("/api/v1/pages/", {"team": team.slug, "message": "Checkout down"}, format="json")
    assert response.status_code == 201, response.content
    assert send_task.called
    step = Page.objects.get().steps.get()
    # What the broker did not take, the beat sweeps pick up: the step is planned, its notification sent.
    services.sweep_pages(now=step.created_at + dt.timedelta(minutes=2))
    assert step.notifications.count() == 2  # the person and the team


def test_the_sweep_enqueues_what_the_broker_did_not_take(team):
    _, step = page_step(team)
    services.notify_step(step_id=step.pk, now=NOW)
    row = step.notifications.get()
    with mock.patch.object(app, "send_task") as send_task:
        assert notifications.sweep_notifications(now=NOW + dt.timedelta(seconds=30)) == 0  # its task's turn
        assert notifications.sweep_notifications(now=NOW + dt.timedelta(minutes=2)) == 1
    send_task.assert_called_once_with(notifications.SEND_TASK, args=(row.pk,))
    with mock.patch.object(app, "send_task", side_effect=OperationalError("down")):
        assert notifications.sweep_notifications(now=NOW + dt.timedelta(minutes=3)) == 0


def test_removing_a_method_removes_its_rules_and_a_person_without_methods_gets_email(team):
    _, step = page_step(team)
    with_rules(step.user, ("push", "gus-pages", 0))
    ContactMethod.objects.get().delete()
    assert not NotificationRule.objects.exists()
    services.notify_step(step_id=step.pk, now=NOW)
    assert list(step.notifications.values_list("kind", "address")) == [("email", step.user.email)]
    assert step.page.status == PageStatus.OPEN
