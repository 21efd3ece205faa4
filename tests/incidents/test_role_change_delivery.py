"""Role changes reach the subscribers: e-mail, chat webhooks, the team's webhook, the incident's channel."""

import datetime as dt
import json

import pytest
import time_machine
from django.core import mail

from incidents.models import (
    ChannelSetup,
    IncidentChannel,
    RoleChangeDelivery,
    UpdateDeliveryStatus,
)
from incidents.services import running as services
from incidents.tasks import running as tasks
from morgue.celery import app
from oncall.services import notifications
from tests.factories import IncidentFactory, ProfileFactory, TeamFactory, UserFactory, responder
from tests.incidents.slack_fake import TOKEN, fake_slack
from tests.oncall.fakes import fake_server

pytestmark = pytest.mark.django_db
NOW = dt.datetime(2026, 3, 2, 14, 5, tzinfo=dt.UTC)


@pytest.fixture
def people():
    # Lena hands the role over, so she runs incidents: a responder (the incidents here have no team).
    lena = responder(
        ProfileFactory(user=UserFactory(username="lena", email="lena@example.com"), display_name="Lena").user
    )
    sam = ProfileFactory(user=UserFactory(username="sam", email="sam@example.com"), display_name="Sam").user
    return lena, sam


def test_a_handover_reaches_every_subscriber_channel_once(
    people, settings, monkeypatch, django_capture_on_commit_callbacks
):
    lena, sam = people
    settings.MORGUE_OUTBOUND_ALLOW_LOOPBACK = True
    queued = []
    monkeypatch.setattr(app, "send_task", lambda name, args, **options: queued.append((name, *args)))
    with fake_server() as chat:
        team = TeamFactory(slug="support", email="support@example.com", webhook_url=f"{chat.url}/team")
        incident = IncidentFactory(
            impact_started_at=NOW - dt.timedelta(hours=1), detected_at=NOW - dt.timedelta(hours=1)
        )
        services.subscribe(incident=incident, user=lena)
        services.subscribe(incident=incident, team=team)
        notifications.add_contact_method(user=lena, kind="slack", address=f"{chat.url}/slack")
        lead = services.role_kind("lead")
        with time_machine.travel(NOW, tick=False), django_capture_on_commit_callbacks(execute=True):
            services.assign_role(incident=incident, role=lead, user=lena, by=lena)
        with (
            time_machine.travel(NOW + dt.timedelta(minutes=40), tick=False),
            django_capture_on_commit_callbacks(execute=True),
        ):
            handover = services.assign_role(incident=incident, role=lead, user=sam, by=lena)
        assert [name for name, *_ in queued] == ["incidents.tasks.running.deliver_role_change"] * 2
        mail.outbox.clear()
        chat.requests.clear()
        assert tasks.deliver_role_change(handover.pk) == 4
        assert tasks.deliver_role_change(handover.pk) == 0  # a redelivered task sends nothing twice
    assert sorted(message.to[0] for message in mail.outbox) == ["lena@example.com", "support@example.com"]
    assert "Incident lead handed over from Lena to Sam." in mail.outbox[0].body
    assert mail.outbox[0].subject == f"[sev {incident.severity}] {incident.title}: incident lead"
    bodies = {request.path: json.loads(request.body) for request in chat.requests}
    assert set(bodies) == {"/slack", "/team"}
    assert "handed over from Lena to Sam" in bodies["/slack"]["text"]
    assert (bodies["/team"]["event"], bodies["/team"]["role"], bodies["/team"]["user"]) == (
        "incident.role_change",
        "lead",
        "sam",
    )
    assert (
        RoleChangeDelivery.objects.filter(assignment=handover, status=UpdateDeliveryStatus.SENT).count() == 2
    )


def test_a_rate_limited_channel_post_is_retried_after_slacks_wait_and_the_rest_stay_sent(
    people, settings, monkeypatch
):
    lena, _ = people
    with fake_slack() as slack:
        settings.SLACK_API_URL, settings.SLACK_BOT_TOKEN = slack.url, TOKEN
        settings.MORGUE_OUTBOUND_ALLOW_LOOPBACK = True
        channel_id = slack.m_conversations_create({"name": "inc-1-x"})["channel"]["id"]
        incident = IncidentFactory()
        IncidentChannel.objects.create(
            incident=incident,
            provider="slack",
            channel_id=channel_id,
            name="inc-1-x",
            setup=ChannelSetup.DONE,
        )
        services.subscribe(incident=incident, user=lena)
        assignment = services.assign_role(
            incident=incident, role=services.role_kind("scribe"), user=lena, by=None
        )
        slack.rate_limit_once["chat.postMessage"] = 12
        countdowns = []

        def retry(*, exc, countdown, **options):
            countdowns.append(countdown)
            return exc

        monkeypatch.setattr(tasks.deliver_role_change, "retry", retry)
        with pytest.raises(services.DeliveryPending):
            tasks.deliver_role_change(assignment.pk)
        assert countdowns == [12.0]
        assert len(mail.outbox) == 1
        assert tasks.deliver_role_change(assignment.pk) == 1  # the channel; the e-mail is not sent again
        assert len(mail.outbox) == 1
        (posted,) = slack.channels[channel_id]["messages"]
        assert "Lena is scribe." in posted["text"]
        assert posted["metadata"]["event_type"] == "morgue_post"
