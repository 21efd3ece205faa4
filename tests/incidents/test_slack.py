"""Running an incident from Slack: signed slash commands, the incident's channel, its history in the timeline.

Slack is a loopback fake of its Web API (tests/incidents/slack_fake.py); requests are
signed with the official SDK's SignatureVerifier (slack_sdk.signature), so Morgue's
check is held to Slack's own definition rather than to itself.
"""

import datetime as dt
import json
import time
from urllib.parse import urlencode

import pytest
import time_machine
from django.core import mail
from slack_sdk.signature import SignatureVerifier
from slack_sdk.web import WebClient

import incidents.tasks  # noqa: F401  (registers the tasks by name)
from incidents import slack_api
from incidents.models import (
    ChannelSetup,
    EventKind,
    Incident,
    IncidentChannel,
    RoleAssignment,
    Status,
    StatusUpdate,
    UpdateDelivery,
    UpdateDeliveryStatus,
)
from incidents.services import chat as chat_services
from incidents.services import chat_channel, running
from incidents.services.incident import change_status
from incidents.tasks import chat as chat_tasks
from morgue.celery import app
from tests.factories import ProfileFactory, TeamFactory, UserFactory, member_of, responder
from tests.incidents.slack_fake import TOKEN, fake_slack

pytestmark = pytest.mark.django_db
# The signing secret of Slack's own example (https://api.slack.com/authentication/verifying-requests-from-slack).
SECRET = "8f742231b10e8888abcd99yyyzzz85a5"


@pytest.fixture
def slack(settings):
    with fake_slack() as fake:
        settings.SLACK_API_URL = fake.url
        settings.SLACK_BOT_TOKEN = TOKEN
        settings.SLACK_SIGNING_SECRET = SECRET
        settings.MORGUE_OUTBOUND_ALLOW_LOOPBACK = True
        yield fake


@pytest.fixture
def queue(monkeypatch):
    """The tasks code under test enqueues, by name, in order."""
    queued: list[tuple[str, tuple]] = []
    monkeypatch.setattr(app, "send_task", lambda name, args, **options: queued.append((name, tuple(args))))
    return queued


@pytest.fixture
def run_queue(queue, django_capture_on_commit_callbacks):
    """Run what was enqueued (and what that enqueues), as a worker would, each task by its name.

    A task that asks to be retried goes to the back of the queue, as its retry would.
    """

    def run() -> list[str]:
        ran = []
        retries = 0
        while queue:
            name, args = queue.pop(0)
            try:
                with django_capture_on_commit_callbacks(execute=True):
                    app.tasks[name](*args)
            except (running.DeliveryPending, chat_channel.ChatPending):
                retries += 1
                assert retries < 10, f"{name}{args} keeps failing"
                queue.append((name, args))
            ran.append(name)
        return ran

    return run


@pytest.fixture
def lena():
    """A responder, who may declare and run incidents nobody owns yet."""
    return responder(
        ProfileFactory(user=UserFactory(username="lena", email="lena@example.com"), display_name="Lena").user
    )


@pytest.fixture
def sam():
    return ProfileFactory(user=UserFactory(username="sam", email="sam@example.com"), display_name="Sam").user


def signed(body: str, *, timestamp: int | None = None, secret: str = SECRET) -> dict[str, str]:
    timestamp = int(time.time()) if timestamp is None else timestamp
    signature = SignatureVerifier(secret).generate_signature(timestamp=str(timestamp), body=body)
    return {"HTTP_X_SLACK_REQUEST_TIMESTAMP": str(timestamp), "HTTP_X_SLACK_SIGNATURE": signature}


def command(client, text: str, *, user: str = "U1LENA", channel: str = "C0GENERAL", **signing):
    """POST a slash command as Slack does: form-encoded, signed over the raw body."""
    body = urlencode(
        {
            "token": "deprecated-verification-token",
            "team_id": "T0001",
            "channel_id": channel,
            "user_id": user,
            "command": "/morgue",
            "text": text,
            "response_url": "https://hooks.slack.com/commands/1234/5678",
            "trigger_id": "13345224609.738474920.8088930838d88f008e0",
        }
    )
    return client.post(
        "/integrations/slack/commands/",
        data=body,
        content_type="application/x-www-form-urlencoded",
        **signed(body, **signing),
    )


def test_from_slack_a_person_declares_runs_and_resolves_an_incident_and_the_channel_becomes_the_timeline(
    client, slack, queue, run_queue, lena, sam, django_capture_on_commit_callbacks
):
    slack.add_user("U1LENA", email="Lena@Example.com", name="Lena")
    slack.add_user("U2SAM", email="sam@example.com", name="Sam")
    with django_capture_on_commit_callbacks(execute=True):
        response = command(client, "declare Card auths failing sev2")
    assert response.status_code == 200
    answer = response.json()
    incident = Incident.objects.get()
    assert answer["response_type"] == "in_channel"
    assert f"declared incident {incident.pk}" in answer["text"] and "#inc-" in answer["text"]
    assert (incident.title, incident.severity, incident.status) == ("Card auths failing", 2, Status.OPEN)
    assert RoleAssignment.objects.current().get(incident=incident).user == lena
    # The lead's role change reaches the channel once it exists (the first try finds none yet).
    assert run_queue() == [
        "incidents.tasks.running.deliver_role_change",
        "incidents.tasks.chat.set_up_slack_channel",
        "incidents.tasks.running.deliver_role_change",
    ]

    room = IncidentChannel.objects.get(incident=incident)
    (channel_id,) = slack.channels
    assert (room.channel_id, room.setup, room.name) == (
        channel_id,
        ChannelSetup.DONE,
        f"inc-{incident.pk}-card-auths-failing",
    )
    assert slack.channels[channel_id]["members"] == {"U1LENA"}
    card = slack.channels[channel_id]["messages"][0]
    assert room.card_ts == card["ts"] and "Card auths failing" in card["blocks"][0]["text"]["text"]
    assert all(call.headers["Authorization"] == f"Bearer {TOKEN}" for call in slack.calls)

    # The lead posts two status updates in the incident's channel; each reaches every subscriber once.
    running.subscribe(incident=incident, user=sam)
    mail.outbox.clear()
    for text in ("Card payments fail for a third of customers | Rolling back the release", "Rollback done"):
        with django_capture_on_commit_callbacks(execute=True):
            response = command(client, f"status {text}", channel=channel_id)
        assert response.json()["response_type"] == "ephemeral"
        assert "Status update posted" in response.json()["text"]
    run_queue()
    run_queue()  # a redelivered task sends nothing twice
    assert StatusUpdate.objects.filter(incident=incident).count() == 2
    assert (
        sorted(message.to[0] for message in mail.outbox) == ["lena@example.com"] * 2 + ["sam@example.com"] * 2
    )
    # The card, the lead's role, then the two updates.
    posts = [m["text"] for m in slack.channels[channel_id]["messages"][2:]]
    assert "Lena is incident lead." in slack.channels[channel_id]["messages"][1]["text"]
    assert len(posts) == 2 and "Rolling back the release" in posts[0] and "Rollback done" in posts[1]
    assert "Affected: Card auths failing" in posts[1]  # one half given: the title says what is affected

    # A role given by mention: Sam is invited to the channel and everyone hears it.
    mail.outbox.clear()
    with django_capture_on_commit_callbacks(execute=True):
        response = command(client, "role comms <@U2SAM|sam>", channel=channel_id)
    assert response.json() == {
        "response_type": "in_channel",
        "text": f"Sam is now communications lead of incident {incident.pk}.",
    }
    run_queue()
    assert slack.channels[channel_id]["members"] == {"U1LENA", "U2SAM"}
    assert sorted(message.to[0] for message in mail.outbox) == ["lena@example.com", "sam@example.com"]
    assert "Sam is communications lead." in slack.channels[channel_id]["messages"][-1]["text"]

    # People talk; at resolve the channel's history (threads too) becomes the timeline, less Morgue's posts.
    start = incident.impact_started_at.timestamp()  # said between the declaration and the resolution
    slack.say(channel_id, user="U2SAM", text="rolling back <@U1LENA|lena>", ts=f"{start + 0.001:.6f}")
    slack.say(
        channel_id,
        user="U1LENA",
        text="error rate falling",
        ts=f"{start + 0.003:.6f}",
        thread_ts=f"{start + 0.001:.6f}",
    )
    slack.channels[channel_id]["messages"].append(
        {
            "type": "message",
            "subtype": "channel_join",
            "user": "U2SAM",
            "text": "<@U2SAM> has joined",
            "ts": f"{start + 0.002:.6f}",
        }
    )
    slack.page_size = 2  # the history comes in pages: the cursor is followed
    with django_capture_on_commit_callbacks(execute=True):
        response = command(client, "resolve", channel=channel_id)
    assert response.json()["response_type"] == "in_channel"
    incident.refresh_from_db()
    assert incident.status == Status.RESOLVED
    assert "incidents.tasks.chat.pull_channel_history" in run_queue()
    said = list(
        incident.events.filter(kind=EventKind.COMMUNICATION, speaker__in=["Sam", "Lena"]).values_list(
            "speaker", "text"
        )
    )
    assert said == [("Sam", "rolling back @lena"), ("Lena", "error rate falling")]
    assert incident.events.exclude(speaker="").count() == 2  # none of Morgue's own posts
    assert len(slack.called("conversations.history")) >= 2
    assert slack.called("conversations.replies")
    assert chat_tasks.pull_channel_history(room.pk) == 0  # pulled again: nothing new


def test_a_bad_signature_an_old_timestamp_or_no_secret_is_refused_and_nothing_is_done(
    client, slack, settings, lena
):
    slack.add_user("U1LENA", email="lena@example.com", name="Lena")
    bad = command(client, "declare Disk full", secret="not-the-secret")
    old = command(client, "declare Disk full", timestamp=int(time.time()) - 6 * 60)
    settings.SLACK_SIGNING_SECRET = ""
    unset = command(client, "declare Disk full")
    assert [response.status_code for response in (bad, old, unset)] == [401, 401, 401]
    assert bad.content.decode() == "The request's X-Slack-Signature does not match its body."
    assert "more than five minutes" in old.content.decode()
    assert "SLACK_SIGNING_SECRET is not set" in unset.content.decode()
    assert not Incident.objects.exists() and not slack.calls


@pytest.mark.parametrize("body", ["", "text=declare+x", "payload=%7B%7D&x=%E2%9C%93", "a" * 5000])
def test_the_signature_check_agrees_with_slacks_own_sdk(body):
    verifier = SignatureVerifier(SECRET)
    now = int(time.time())
    signature = verifier.generate_signature(timestamp=str(now), body=body)
    assert chat_args_ok(body, str(now), signature, now)
    assert verifier.is_valid(body=body, timestamp=str(now), signature=signature)
    tampered = body + " "
    assert not chat_args_ok(tampered, str(now), signature, now)
    assert not verifier.is_valid(body=tampered, timestamp=str(now), signature=signature)
    assert not chat_args_ok(
        body, str(now - 301), verifier.generate_signature(timestamp=str(now - 301), body=body), now
    )


def chat_args_ok(body: str, timestamp: str, signature: str, now: int) -> bool:
    return not slack_api.signature_problem(
        secret=SECRET, timestamp=timestamp, body=body.encode(), signature=signature, now=now
    )


def test_a_slack_user_unknown_to_morgue_is_told_privately_and_nothing_is_done(client, slack, lena):
    slack.add_user("U9GUEST", email="guest@elsewhere.example", name="Guest")
    response = command(client, "declare Disk full", user="U9GUEST")
    assert response.status_code == 200
    assert response.json() == {"response_type": "ephemeral", "text": chat_services.NO_SLACK_PERSON}
    assert not Incident.objects.exists()
    assert [call.method for call in slack.calls] == ["users.info"]


def test_a_person_without_the_role_is_told_which_role_privately_and_nothing_changes(
    client, slack, queue, lena, django_capture_on_commit_callbacks
):
    payments = TeamFactory(slug="payments", name="Payments", email="")
    member_of(payments, "responder", user=lena)
    ana = ProfileFactory(user=UserFactory(username="ana", email="ana@example.com"), display_name="Ana").user
    member_of(payments, "viewer", user=ana)
    slack.add_user("U3ANA", email="ana@example.com", name="Ana")
    with django_capture_on_commit_callbacks(execute=True):
        declared = command(client, "declare Disk full", user="U3ANA").json()
    assert declared == {
        "response_type": "ephemeral",
        "text": "Nothing was done: Only a responder of a team may declare incidents.",
    }
    assert not Incident.objects.exists() and not IncidentChannel.objects.exists()
    assert queue == []

    incident = running.declare_incident(by=lena, title="Card auths failing", severity=2, team=payments)
    IncidentChannel.objects.create(
        incident=incident, provider="slack", channel_id="C0INC", name="inc-card", setup=ChannelSetup.DONE
    )
    events = incident.events.count()
    sentence = "Only a responder of Payments may edit its incidents and their postmortems."
    refused = {"response_type": "ephemeral", "text": f"Nothing was done: {sentence}"}
    with django_capture_on_commit_callbacks(execute=True):
        for text in ("status Card payments fail | Rolling back", "role scribe <@U3ANA|ana>", "resolve"):
            assert command(client, text, user="U3ANA", channel="C0INC").json() == refused, text
        payload = {
            "type": "block_actions",
            "user": {"id": "U3ANA"},
            "actions": [{"action_id": "resolve", "value": str(incident.pk)}],
        }
        body = urlencode({"payload": json.dumps(payload)})
        pressed = client.post(
            "/integrations/slack/interactions/",
            data=body,
            content_type="application/x-www-form-urlencoded",
            **signed(body),
        )
    assert pressed.json() == refused
    incident.refresh_from_db()
    assert incident.status == Status.OPEN and not StatusUpdate.objects.exists()
    holders = RoleAssignment.objects.current().filter(incident=incident)
    assert list(holders.values_list("role__slug", "user__username")) == [("lead", "lena")]
    assert incident.events.count() == events
    assert queue == [] and not slack.called("chat.postMessage")


def test_commands_outside_an_incident_channel_and_bad_commands_are_answered_privately(client, slack, lena):
    slack.add_user("U1LENA", email="lena@example.com", name="Lena")
    answers = [command(client, text).json() for text in ("status all good", "frobnicate", "help")]
    assert answers[0] == {"response_type": "ephemeral", "text": chat_services.NOT_IN_A_CHANNEL}
    assert "`frobnicate` is not a Morgue command" in answers[1]["text"]
    assert "/morgue declare" in answers[2]["text"] and answers[2]["response_type"] == "ephemeral"
    assert not StatusUpdate.objects.exists()


def test_slack_rate_limit_is_waited_out_and_every_step_happens_once(
    client, slack, queue, run_queue, lena, monkeypatch, django_capture_on_commit_callbacks
):
    slack.add_user("U1LENA", email="lena@example.com", name="Lena")
    with django_capture_on_commit_callbacks(execute=True):
        command(client, "declare Queue backlog")
    room = IncidentChannel.objects.get()
    slack.rate_limit_once["chat.postMessage"] = 7
    retries = []

    def retry(*, exc, countdown, **options):
        retries.append(countdown)
        return exc

    monkeypatch.setattr(chat_tasks.set_up_slack_channel, "retry", retry)
    with pytest.raises(chat_channel.ChatPending):
        chat_tasks.set_up_slack_channel(room.pk)
    assert retries == [7.0]  # Retry-After, exactly
    room.refresh_from_db()
    assert (room.setup, room.error, bool(room.channel_id), room.invited, room.card_ts) == (
        ChannelSetup.FAILED,
        "Slack: ratelimited",
        True,
        True,
        "",
    )
    # A status update while the channel is not ready waits for it, then goes once.
    running.post_status_update(incident=room.incident, by=lena, affected="Queue", doing="Draining")
    update = StatusUpdate.objects.get()
    assert chat_tasks.set_up_slack_channel(room.pk) is True
    assert chat_tasks.set_up_slack_channel(room.pk) is False  # done: nothing is claimed again
    assert running.deliver_status_update(update_id=update.pk) == 2  # the lead's e-mail and the channel
    assert running.deliver_status_update(update_id=update.pk) == 0
    assert [call.method for call in slack.calls].count("conversations.create") == 1
    assert len(slack.called("chat.postMessage")) == 3  # the limited call, the card, the update
    (channel,) = slack.channels.values()
    assert len(channel["messages"]) == 2
    delivery = UpdateDelivery.objects.get(kind="slack-room")
    assert (delivery.status, delivery.address) == (UpdateDeliveryStatus.SENT, room.name)


def test_a_status_update_before_the_channel_exists_is_retried_not_lost(
    client, slack, lena, django_capture_on_commit_callbacks
):
    slack.add_user("U1LENA", email="lena@example.com", name="Lena")
    with django_capture_on_commit_callbacks(execute=True):
        command(client, "declare Queue backlog")
    room = IncidentChannel.objects.get()
    update = running.post_status_update(incident=room.incident, by=lena, affected="Queue", doing="Draining")
    with pytest.raises(running.DeliveryPending):
        running.deliver_status_update(update_id=update.pk)
    assert UpdateDelivery.objects.get().status == UpdateDeliveryStatus.FAILED
    chat_channel.set_up_slack_channel(room_id=room.pk)
    assert running.deliver_status_update(update_id=update.pk) == 1
    assert UpdateDelivery.objects.get().status == UpdateDeliveryStatus.SENT


def test_a_wrong_bot_token_refuses_the_setup_for_good(
    client, slack, settings, lena, django_capture_on_commit_callbacks
):
    slack.add_user("U1LENA", email="lena@example.com", name="Lena")
    with django_capture_on_commit_callbacks(execute=True):
        command(client, "declare Queue backlog")
    settings.SLACK_BOT_TOKEN = "xoxb-revoked"
    room = IncidentChannel.objects.get()
    chat_channel.set_up_slack_channel(room_id=room.pk)  # no ChatPending: not retried
    room.refresh_from_db()
    assert (room.setup, room.error, room.channel_id) == (ChannelSetup.REFUSED, "Slack: invalid_auth", "")
    assert slack.calls[-1].headers["Authorization"] == "Bearer xoxb-revoked"
    assert chat_channel.set_up_slack_channel(room_id=room.pk) is None


def test_the_cards_resolve_button_resolves_as_the_person_who_pressed_it(
    client, slack, lena, django_capture_on_commit_callbacks
):
    slack.add_user("U1LENA", email="lena@example.com", name="Lena")
    with django_capture_on_commit_callbacks(execute=True):
        command(client, "declare Queue backlog")
    incident = Incident.objects.get()
    payload = {
        "type": "block_actions",
        "user": {"id": "U1LENA", "username": "lena", "team_id": "T0001"},
        "channel": {"id": "C00000001", "name": "inc"},
        "actions": [{"action_id": "resolve", "block_id": "b1", "value": str(incident.pk), "type": "button"}],
    }
    body = urlencode({"payload": json.dumps(payload)})
    unsigned = client.post(
        "/integrations/slack/interactions/", data=body, content_type="application/x-www-form-urlencoded"
    )
    assert unsigned.status_code == 401
    incident.refresh_from_db()
    assert incident.status == Status.OPEN
    response = client.post(
        "/integrations/slack/interactions/",
        data=body,
        content_type="application/x-www-form-urlencoded",
        **signed(body),
    )
    assert response.status_code == 200
    incident.refresh_from_db()
    assert incident.status == Status.RESOLVED
    assert incident.revisions.order_by("-pk").first().author == lena


def test_the_fake_answers_as_the_official_sdk_expects(slack):
    """The fake's shapes hold for slack_sdk's WebClient: pagination by cursor, `ok`, `error`, ids and ts."""
    client = WebClient(token=TOKEN, base_url=slack.url + "/")
    channel = client.conversations_create(name="inc-1-sdk")["channel"]["id"]
    for number in range(5):
        slack.say(channel, user="U1", text=f"line {number}", ts=f"{1700000000 + number}.000100")
    slack.page_size = 2
    # The SDK's response is one object that becomes each page in turn.
    sizes = [len(page["messages"]) for page in client.conversations_history(channel=channel, limit=2)]
    assert sizes == [2, 2, 1]
    assert client.chat_postMessage(channel=channel, text="hi")["ts"]
    with pytest.raises(Exception, match="name_taken"):
        client.conversations_create(name="inc-1-sdk")


def test_a_lost_channel_setup_is_enqueued_again_by_the_beat_sweep(slack, queue, lena):
    incident = running.declare_incident(by=lena, title="Queue backlog", severity=3, team=None)
    room = IncidentChannel.objects.create(incident=incident, provider="slack", name="inc-1-queue-backlog")
    assert chat_channel.requeue_lost_channel_setups() == []  # just declared: its own task is on the way
    later = room.created_at + chat_channel.LOST_AFTER + dt.timedelta(seconds=1)
    assert chat_channel.requeue_lost_channel_setups(now=later) == [room.pk]
    assert queue[-1] == ("incidents.tasks.chat.set_up_slack_channel", (room.pk,))
    chat_channel.set_up_slack_channel(room_id=room.pk)
    assert chat_channel.requeue_lost_channel_setups(now=later) == []
    assert "incidents.tasks.chat.requeue_lost_channel_setups" in {
        entry["task"] for entry in app.conf.beat_schedule.values()
    }


def test_when_slack_cannot_say_who_is_asking_nothing_is_done(client, slack, settings, lena):
    slack.add_user("U1LENA", email="lena@example.com", name="Lena")
    slack.rate_limit_once["users.info"] = 30
    busy = command(client, "declare Disk full").json()
    settings.SLACK_BOT_TOKEN = ""
    unset = command(client, "declare Disk full").json()
    assert busy == {"response_type": "ephemeral", "text": chat_services.SLACK_UNREACHABLE}
    assert "SLACK_BOT_TOKEN" in unset["text"]
    assert not Incident.objects.exists()


@pytest.mark.parametrize(
    "payload",
    ["not json", "[]", '"text"', '{"type": "block_actions"}', '{"user": {"id": "U1"}, "actions": []}'],
)
def test_an_interaction_that_is_not_slacks_shape_is_refused_with_a_sentence(client, slack, payload):
    body = urlencode({"payload": payload})
    response = client.post(
        "/integrations/slack/interactions/",
        data=body,
        content_type="application/x-www-form-urlencoded",
        **signed(body),
    )
    assert response.status_code in (200, 400)
    if response.status_code == 400:
        assert response.content.decode() == "The payload is not a Slack interaction."


@pytest.mark.parametrize("value", ["²", "99999999999999999999", "", "7; DROP"])
def test_a_resolve_button_with_an_odd_value_resolves_nothing(client, slack, lena, value):
    slack.add_user("U1LENA", email="lena@example.com", name="Lena")
    payload = {
        "type": "block_actions",
        "user": {"id": "U1LENA"},
        "actions": [{"action_id": "resolve", "value": value}],
    }
    body = urlencode({"payload": json.dumps(payload)})
    response = client.post(
        "/integrations/slack/interactions/",
        data=body,
        content_type="application/x-www-form-urlencoded",
        **signed(body),
    )
    assert response.status_code == 200
    assert response.json()["text"] == "That incident no longer exists."


def test_the_incident_page_shows_its_channel_and_how_its_setup_went(client, slack, lena):
    incident = running.declare_incident(by=lena, title="Queue backlog", severity=3, team=None)
    room = IncidentChannel.objects.create(incident=incident, provider="slack", name="inc-1-queue-backlog")
    client.force_login(lena)
    waiting = client.get(incident.get_absolute_url()).content.decode()
    assert "#inc-1-queue-backlog</a>" not in waiting and "(waiting for a worker)" in waiting
    chat_channel.set_up_slack_channel(room_id=room.pk)
    room.refresh_from_db()
    done = client.get(incident.get_absolute_url()).content.decode()
    link = f"https://slack.com/app_redirect?channel={room.channel_id}"
    assert f'<a href="{link}">#inc-1-queue-backlog</a> in Slack.' in done


def test_a_role_holder_slack_will_not_invite_does_not_keep_the_channel_from_its_card(
    slack, lena, monkeypatch
):
    slack.add_user("U1LENA", email="lena@example.com", name="Lena")
    incident = running.declare_incident(by=lena, title="Queue backlog", severity=3, team=None)
    room = IncidentChannel.objects.create(incident=incident, provider="slack", name="inc-1-queue-backlog")
    monkeypatch.setattr(
        slack, "m_conversations_invite", lambda arguments: {"ok": False, "error": "user_is_restricted"}
    )
    chat_channel.set_up_slack_channel(room_id=room.pk)
    room.refresh_from_db()
    assert (room.setup, bool(room.card_ts)) == (ChannelSetup.DONE, True)


def test_resolving_on_the_page_also_reads_the_channel_and_a_rate_limit_mid_way_is_waited_out(
    slack, queue, lena, django_capture_on_commit_callbacks
):
    slack.add_user("U1LENA", email="lena@example.com", name="Lena")
    incident = running.declare_incident(by=lena, title="Queue backlog", severity=3, team=None)
    room = IncidentChannel.objects.create(incident=incident, provider="slack", name="inc-1-queue-backlog")
    chat_channel.set_up_slack_channel(room_id=room.pk)
    room.refresh_from_db()
    start = incident.impact_started_at.timestamp()
    for number in range(3):
        slack.say(room.channel_id, user="U1LENA", text=f"step {number}", ts=f"{start + number / 10:.6f}")
    resolved = incident.impact_started_at + dt.timedelta(minutes=5)
    with time_machine.travel(resolved, tick=False), django_capture_on_commit_callbacks(execute=True):
        change_status(incident=incident, status=Status.RESOLVED, by=lena)
    assert queue[-1] == ("incidents.tasks.chat.pull_channel_history", (room.pk,))
    slack.page_size = 2
    slack.rate_limit_once["users.info"] = 3
    with pytest.raises(chat_channel.ChatPending) as pending:
        chat_channel.pull_channel_history(room_id=room.pk)
    assert pending.value.retry_after == 3.0
    assert not incident.events.filter(speaker="Lena").exists()
    assert chat_channel.pull_channel_history(room_id=room.pk).imported == 3
    assert list(incident.events.filter(speaker="Lena").values_list("text", flat=True)) == [
        "step 0",
        "step 1",
        "step 2",
    ]
