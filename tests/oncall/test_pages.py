import datetime as dt
from unittest import mock

import pytest
import time_machine
from django.core import mail

from morgue.celery import app
from oncall import services, tasks
from oncall.models import Level, Notification, NotificationStatus, Page, PageStatus, Shift
from tests.factories import TeamFactory, make_rotation
from tests.oncall.delivery import deliver

UTC = dt.UTC
pytestmark = pytest.mark.django_db
NOW = dt.datetime(2026, 2, 10, 12, tzinfo=UTC)


@pytest.fixture
def teams():
    ops = make_rotation(slug="ops-primary", people=("ana", "ben", "cy"), escalation_timeout_minutes=15)
    payments = make_rotation(
        slug="payments-primary",
        people=("gus", "hana"),
        experienced=("gus", "hana"),
        escalation_timeout_minutes=10,
    )
    return ops.team, payments.team


def with_webhook(team):
    team.webhook_url = "https://hooks.example.com/payments"
    team.save()
    return team


def on_call(team, level):
    return Shift.objects.covering(NOW).get(rotation__team=team, level=level).user


def test_a_page_notifies_l1_by_email_and_webhook_with_an_acknowledge_link(
    teams, django_capture_on_commit_callbacks
):
    payments = with_webhook(teams[1])
    with mock.patch("oncall.notify.post_webhook") as post, django_capture_on_commit_callbacks() as callbacks:
        page = services.page_team(team=payments, message="Card auths failing", now=NOW)
    # Notify now, escalate later (and count the page for /metrics).
    assert len(callbacks) == 3
    step = page.steps.get()
    assert step.user == on_call(payments, Level.L1)
    assert step.due_at == NOW + dt.timedelta(minutes=10)
    with mock.patch.object(app, "send_task") as send_task:
        for callback in callbacks:
            callback()
    assert send_task.call_args_list == [
        mock.call(tasks.notify_page_step.name, args=(step.pk,)),
        mock.call(tasks.escalate_page_step.name, args=(page.pk, 1), countdown=600.0),
    ]

    with mock.patch("oncall.notify.post_webhook") as post:
        tasks.notify_page_step(step.pk)
        tasks.notify_page_step(step.pk)  # a repeated task never notifies twice
        deliver()
        deliver()  # nor does a repeated send

    # The person by their rules (a new person: email at once), the team's address and its webhook.
    assert len(mail.outbox) == 2
    message, team_message = mail.outbox
    assert message.subject == "[Morgue page] Payments L1: Card auths failing"
    assert f"http://127.0.0.1:8000/oncall/pages/{page.pk}/" in message.body
    assert "http://127.0.0.1:8000/oncall/ack/" in message.body
    assert (message.to, team_message.to) == ([step.user.email], ["payments@example.com"])
    assert f'<a href="http://127.0.0.1:8000/oncall/pages/{page.pk}/">' in message.alternatives[0].content
    post.assert_called_once()
    url, payload = post.call_args.args
    assert url == "https://hooks.example.com/payments"
    assert payload["user"] == step.user.username and payload["acknowledge_url"].endswith(f"/pages/{page.pk}/")
    assert set(step.notifications.values_list("status", flat=True)) == {NotificationStatus.SENT}


def test_unacknowledged_page_escalates_l1_then_l2_then_the_fallback_team(teams):
    ops, payments = teams
    page = services.page_team(team=payments, message="Card auths failing", now=NOW)

    # Too early: nothing happens.
    assert services.escalate_page(page_id=page.pk, step_number=1, now=NOW + dt.timedelta(minutes=9)) is None
    second = services.escalate_page(page_id=page.pk, step_number=1, now=NOW + dt.timedelta(minutes=10))
    assert (second.team, second.level, second.user) == (payments, Level.L2, on_call(payments, Level.L2))
    # A late duplicate of the same task does nothing.
    assert services.escalate_page(page_id=page.pk, step_number=1, now=NOW + dt.timedelta(minutes=30)) is None
    third = services.escalate_page(page_id=page.pk, step_number=2, now=NOW + dt.timedelta(minutes=20))
    assert (third.team, third.level, third.user) == (ops, Level.L1, on_call(ops, Level.L1))
    services.escalate_page(page_id=page.pk, step_number=3, now=NOW + dt.timedelta(minutes=40))

    page.refresh_from_db()
    assert page.status == PageStatus.EXHAUSTED
    assert list(page.steps.values_list("number", flat=True)) == [1, 2, 3]


def test_an_acknowledged_page_never_escalates_or_notifies(teams):
    _, payments = teams
    page = services.page_team(team=payments, message="Card auths failing", now=NOW)
    services.acknowledge_page(page=page, user=on_call(payments, Level.L1), now=NOW + dt.timedelta(minutes=2))

    assert services.escalate_page(page_id=page.pk, step_number=1, now=NOW + dt.timedelta(hours=1)) is None
    assert tasks.notify_page_step(page.steps.get().pk) is False
    assert services.sweep_pages(now=NOW + dt.timedelta(hours=1)) == 0
    assert page.steps.count() == 1
    assert mail.outbox == []


def test_the_beat_sweep_escalates_steps_whose_task_was_lost(teams):
    _, payments = teams
    page = services.page_team(team=payments, message="Card auths failing", now=NOW)

    assert services.sweep_pages(now=NOW + dt.timedelta(minutes=11)) == 1
    assert services.sweep_pages(now=NOW + dt.timedelta(minutes=11)) == 0
    assert page.steps.count() == 2
    # Lost notifications are planned by the sweep too, once, after a minute's grace.
    assert Notification.objects.count() == 2  # step 1's person and team
    services.sweep_pages(now=NOW + dt.timedelta(minutes=13))
    services.sweep_pages(now=NOW + dt.timedelta(minutes=14))
    assert Notification.objects.count() == 4
    deliver(NOW + dt.timedelta(minutes=14))
    assert len(mail.outbox) == 4


def test_a_failing_webhook_is_recorded_and_does_not_stop_the_email(teams):
    payments = with_webhook(teams[1])
    page = services.page_team(team=payments, message="x", now=NOW)
    step = page.steps.get()
    services.notify_step(step_id=step.pk, now=NOW)
    with mock.patch("oncall.notify.post_webhook", side_effect=TimeoutError("timed out")):
        deliver(NOW)
    webhook = step.notifications.get(kind="webhook")
    assert (webhook.status, webhook.error) == (NotificationStatus.RETRYING, "TimeoutError: timed out")
    assert len(mail.outbox) == 2


def test_a_page_email_that_fails_is_retried_sent_once_and_never_holds_back_the_webhook(teams):
    payments = with_webhook(teams[1])
    page = services.page_team(team=payments, message="Card auths failing", now=NOW)
    step = page.steps.get()
    services.notify_step(step_id=step.pk, now=NOW)
    smtp_down = mock.patch("django.core.mail.EmailMultiAlternatives.send", side_effect=OSError("SMTP down"))
    with smtp_down, mock.patch("oncall.notify.post_webhook") as post:
        deliver(NOW)
    post.assert_called_once()  # the team's webhook went out while the mail server was down
    person = step.notifications.get(user=step.user)
    assert (person.status, person.attempts) == (NotificationStatus.RETRYING, 1)
    assert person.due_at == NOW + dt.timedelta(seconds=30)  # backoff
    assert "SMTP down" in person.error

    deliver(NOW + dt.timedelta(seconds=10))  # not due again yet
    with smtp_down:  # still down half a minute later: tried again, later again
        deliver(NOW + dt.timedelta(seconds=30))
    person.refresh_from_db()
    assert (person.status, person.attempts) == (NotificationStatus.RETRYING, 2)
    deliver(NOW + dt.timedelta(minutes=5))
    deliver(NOW + dt.timedelta(minutes=6))
    assert tasks.notify_page_step(step.pk) is False

    assert [message.to for message in mail.outbox] == [[step.user.email], ["payments@example.com"]]
    person.refresh_from_db()
    assert (person.status, person.attempts) == (NotificationStatus.SENT, 3)


def test_a_page_message_of_several_lines_is_emailed_with_a_one_line_subject(teams):
    page = services.page_team(team=teams[1], message="Card auths failing\nsince the deploy", now=NOW)

    tasks.notify_page_step(page.steps.get().pk)
    deliver()

    message, _ = mail.outbox
    assert message.subject == "[Morgue page] Payments L1: Card auths failing since the deploy"
    assert "Card auths failing<br>since the deploy" in message.alternatives[0].content


def test_a_team_with_nobody_on_call_goes_straight_to_its_fallback(teams):
    ops, _ = teams
    empty = TeamFactory(slug="search", name="Search", fallback_team=ops)
    page = services.page_team(team=empty, message="help", now=NOW)
    steps = list(page.steps.order_by("number"))
    assert steps[0].user is None and "Nobody" in steps[0].note
    assert (steps[1].team, steps[1].user) == (ops, on_call(ops, Level.L1))


def test_pages_api_creates_and_acknowledges(api, teams):
    # At NOW the rotations have someone on call, so the page is open (not run out) when acknowledged.
    with time_machine.travel(NOW):
        response = api.post(
            "/api/v1/pages/", {"team": "payments", "message": "Card auths failing"}, format="json"
        )
        assert response.status_code == 201, response.json()
        page_id = response.json()["id"]
        assert response.json()["steps"][0]["level"] == "L1"

        response = api.post(f"/api/v1/pages/{page_id}/acknowledge/")
    assert response.json()["status"] == "acknowledged"
    assert response.json()["acknowledged_by"] == "pat"
    assert Page.objects.get(pk=page_id).status == PageStatus.ACKNOWLEDGED


def test_a_page_for_an_unknown_team_or_without_a_message_is_refused(api, teams):
    response = api.post("/api/v1/pages/", {"team": "nope", "message": "x"}, format="json")
    assert response.status_code == 400
    assert response.json()["errors"]["team"] == ["There is no team nope."]
    assert (
        "message"
        in api.post("/api/v1/pages/", {"team": "ops", "message": " "}, format="json").json()["errors"]
    )
    assert not Page.objects.exists()


def test_webhook_addresses_inside_the_network_are_refused():
    from oncall.notify import WebhookRefused, check_webhook_address

    for url in ("http://127.0.0.1/x", "http://10.0.0.5/hook", "file:///etc/passwd", "http://[::1]/"):
        with pytest.raises(WebhookRefused):
            check_webhook_address(url)


def test_tasks_escalate_and_sweep_by_id(teams):
    import time_machine

    _, payments = teams
    page = services.page_team(team=payments, message="x", now=NOW)
    with time_machine.travel(NOW + dt.timedelta(minutes=5), tick=False):
        assert tasks.escalate_page_step(page.pk, 1) is False  # not due yet
    with time_machine.travel(NOW + dt.timedelta(minutes=10), tick=False):
        assert tasks.escalate_page_step(page.pk, 1) is True
        assert tasks.escalate_page_step(page.pk, 1) is False
    with time_machine.travel(NOW + dt.timedelta(minutes=21), tick=False):
        assert tasks.sweep_pages() == 1
    assert page.steps.count() == 3


def test_beat_schedule_runs_the_sweep_and_the_top_up():
    from morgue.celery import app

    tasks_scheduled = {entry["task"] for entry in app.conf.beat_schedule.values()}
    assert {"oncall.tasks.sweep_pages", "oncall.tasks.extend_rotations"} <= tasks_scheduled


def test_webhook_posts_json_with_a_timeout(monkeypatch):
    import json

    from morgue import outbound
    from oncall import notify
    from tests.oncall.fakes import fake_server

    public = [(2, 1, 6, "", ("93.184.216.34", 443))]
    timeouts = []
    real_connect = outbound._connect
    with fake_server() as hook:
        port = int(hook.url.rsplit(":", 1)[1])

        def connect(address, target_port, timeout):
            timeouts.append(timeout)
            return real_connect("127.0.0.1", port, timeout)  # the public server, played by a local fake

        monkeypatch.setattr(outbound, "_connect", connect)
        with mock.patch("socket.getaddrinfo", return_value=public):
            assert notify.post_webhook("http://hooks.example.com/x", {"page": 1}) == 200
    assert timeouts == [notify.WEBHOOK_TIMEOUT_SECONDS]
    (request,) = hook.requests
    assert request.method == "POST" and json.loads(request.body) == {"page": 1}
