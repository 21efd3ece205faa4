"""Running an incident from Mattermost: the command token, the same commands, posts through its webhook.

Mattermost's custom slash command POSTs form fields (`token`, `channel_id`,
`channel_name`, `user_name`, `text`, …) and reads `{"response_type", "text"}` back
(https://developers.mattermost.com/integrate/slash-commands/custom/); its incoming
webhook takes Slack's `text` with `channel` and `username` overrides
(https://developers.mattermost.com/integrate/webhooks/incoming/). The webhook is a
loopback fake (tests/oncall/fakes.py).
"""

import json

import pytest
from django.core import mail

import incidents.tasks  # noqa: F401
from incidents.models import Incident, IncidentChannel, RoleAssignment, StatusUpdate
from incidents.services import running
from tests.factories import ProfileFactory, UserFactory, responder
from tests.oncall.fakes import fake_server

pytestmark = pytest.mark.django_db
TOKEN = "xr3j5x3p4pfjpeb4bgkdqh9wqy"


@pytest.fixture
def mattermost(settings):
    with fake_server() as webhook:
        settings.MATTERMOST_COMMAND_TOKEN = TOKEN
        settings.MATTERMOST_WEBHOOK_URL = f"{webhook.url}/hooks/abc123"
        settings.MORGUE_OUTBOUND_ALLOW_LOOPBACK = True
        yield webhook


@pytest.fixture
def lena():
    """A responder, who may declare and run incidents nobody owns yet."""
    return responder(
        ProfileFactory(user=UserFactory(username="lena", email="lena@example.com"), display_name="Lena").user
    )


def command(client, text: str, *, user: str = "lena", token: str = TOKEN, channel: str = "town-square"):
    fields = {
        "channel_id": f"id-{channel}",
        "channel_name": channel,
        "command": "/morgue",
        "team_domain": "ops",
        "text": text,
        "token": token,
        "user_id": f"id-{user}",
        "user_name": user,
    }
    return client.post("/integrations/mattermost/commands/", fields)


def test_a_wrong_or_missing_token_is_refused_and_nothing_is_done(client, mattermost, settings, lena):
    wrong = command(client, "declare Disk full", token="guess")
    settings.MATTERMOST_COMMAND_TOKEN = ""
    unset = command(client, "declare Disk full")
    assert (wrong.status_code, unset.status_code) == (401, 401)
    assert wrong.content.decode() == "The slash command's token does not match MATTERMOST_COMMAND_TOKEN."
    assert "MATTERMOST_COMMAND_TOKEN is not set" in unset.content.decode()
    assert not Incident.objects.exists() and not mattermost.requests


def test_from_mattermost_a_person_declares_updates_hands_over_and_resolves(
    client, mattermost, lena, django_capture_on_commit_callbacks
):
    sam = ProfileFactory(user=UserFactory(username="sam", email="sam@example.com"), display_name="Sam").user
    with django_capture_on_commit_callbacks(execute=True):
        declared = command(client, "declare Search is slow sev3").json()
    incident = Incident.objects.get()
    assert declared["response_type"] == "in_channel" and "posted here" in declared["text"]
    room = IncidentChannel.objects.get(incident=incident)
    assert (room.provider, room.channel_id, room.name) == ("mattermost", "id-town-square", "town-square")

    update = command(client, "status Search results | Adding capacity").json()
    assert update["response_type"] == "ephemeral" and "Status update posted" in update["text"]
    role = command(client, "role scribe @sam").json()
    assert role == {"response_type": "in_channel", "text": f"Sam is now scribe of incident {incident.pk}."}
    assert RoleAssignment.objects.current().get(incident=incident, role__slug="scribe").user == sam

    status_update = StatusUpdate.objects.get()
    assert running.deliver_status_update(update_id=status_update.pk) == 2  # Lena's e-mail, the channel
    assert running.deliver_status_update(update_id=status_update.pk) == 0
    post = json.loads(mattermost.requests[0].body)
    assert mattermost.requests[0].path == "/hooks/abc123"
    assert (post["channel"], post["username"]) == ("town-square", "Morgue")
    assert "Adding capacity" in post["text"]
    assert [message.to for message in mail.outbox] == [["lena@example.com"]]

    unknown = command(client, "role lead @nobody").json()
    assert unknown["text"] == "@nobody has no Morgue account; nothing was changed."
    stranger = command(client, "resolve", user="guest").json()
    assert stranger == {
        "response_type": "ephemeral",
        "text": "Morgue has no person named guest, so nothing was done.",
    }
    resolved = command(client, "resolve").json()
    assert resolved["response_type"] == "in_channel"
    incident.refresh_from_db()
    assert incident.resolved_at is not None
    again = command(client, "resolve").json()
    assert again["text"] == f"Incident {incident.pk} is already resolved."


def test_refusals_of_the_services_are_told_and_change_nothing(client, mattermost, lena):
    command(client, "declare Search is slow")
    incident = Incident.objects.get()
    running.set_public(incident=incident, by=lena, public=True)
    answer = command(client, "status db-7.internal.example.com is down | restarting").json()
    assert answer["response_type"] == "ephemeral" and answer["text"].startswith("Nothing was done: ")
    assert not StatusUpdate.objects.exists()
    nope = command(client, "role nosuchrole @lena").json()
    assert nope["text"] == "Nothing was done: nosuchrole is not a role."


def test_a_person_without_the_role_is_told_which_role_and_nothing_is_half_made(client, mattermost, lena):
    ProfileFactory(user=UserFactory(username="ana", email="ana@example.com"), display_name="Ana")  # a viewer
    declared = command(client, "declare Search is slow", user="ana").json()
    assert declared == {
        "response_type": "ephemeral",
        "text": "Nothing was done: Only a responder of a team may declare incidents.",
    }
    assert not Incident.objects.exists() and not IncidentChannel.objects.exists()
    command(client, "declare Search is slow")
    incident = Incident.objects.get()
    refused = "Nothing was done: Only a responder of a team may edit its incidents and their postmortems."
    for text in ("status Search results | Adding capacity", "role lead @ana", "resolve"):
        assert command(client, text, user="ana").json() == {"response_type": "ephemeral", "text": refused}
    assert not StatusUpdate.objects.exists() and not mattermost.requests
    assert RoleAssignment.objects.current().get(incident=incident).user == lena
    incident.refresh_from_db()
    assert (incident.status_posted_at, incident.resolved_at) == (None, None)
