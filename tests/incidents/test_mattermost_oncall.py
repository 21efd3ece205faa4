"""`/morgue oncall`, `/morgue ack` and `/morgue update` from Mattermost: the same commands as Slack's.

Mattermost's custom slash command POSTs form fields with the command's token and
reads `{"response_type", "text"}` back
(https://developers.mattermost.com/integrate/slash-commands/custom/); its user
name is the Morgue user name.
"""

import datetime as dt

import pytest
import time_machine

from incidents.models import Incident, StatusUpdate
from morgue.models import display_name
from oncall import selectors as oncall_selectors
from oncall import services as oncall_services
from oncall.models import Level, PageStatus
from tests.factories import ProfileFactory, UserFactory, make_rotation, member_of, responder

pytestmark = pytest.mark.django_db
TOKEN = "xr3j5x3p4pfjpeb4bgkdqh9wqy"
NOW = dt.datetime(2026, 2, 10, 12, tzinfo=dt.UTC)


@pytest.fixture(autouse=True)
def token(settings):
    settings.MATTERMOST_COMMAND_TOKEN = TOKEN
    settings.MATTERMOST_WEBHOOK_URL = ""


def command(client, text: str, *, user: str, channel: str = "town-square"):
    fields = {
        "channel_id": f"id-{channel}",
        "channel_name": channel,
        "command": "/morgue",
        "text": text,
        "token": TOKEN,
        "user_name": user,
    }
    response = client.post("/integrations/mattermost/commands/", fields)
    assert response.status_code == 200
    return response.json()


def test_oncall_and_ack_from_mattermost(client):
    ops = make_rotation(slug="ops-primary", people=("ana", "ben", "cy")).team
    nia = ProfileFactory(user=UserFactory(username="nia"), time_zone="America/New_York").user
    member_of(ops, "viewer", user=nia)
    paged = oncall_selectors.person_on_call(team=ops, at=NOW, level=Level.L1)
    with time_machine.travel(NOW, tick=False):
        answer = command(client, "oncall", user="nia")
        page = oncall_services.page_team(team=ops, message="Disk full", now=NOW)
        not_paged = command(client, "ack", user="nia")
        acknowledged = command(client, "ack", user=paged.username)
    assert answer["response_type"] == "ephemeral"
    # Friday's 10:00 UTC handoff is 05:00 in New York.
    assert f"• L1: {display_name(paged)}, until Fri 13 Feb 05:00" in answer["text"]
    assert answer["text"].endswith("Times are in America/New_York.")
    assert not_paged["text"] == "No page has reached you, so there is nothing to acknowledge."
    assert acknowledged["response_type"] == "in_channel"
    page.refresh_from_db()
    assert (page.status, page.acknowledged_by) == (PageStatus.ACKNOWLEDGED, paged)


def test_update_from_the_incidents_mattermost_channel(client):
    lena = responder(ProfileFactory(user=UserFactory(username="lena")).user)
    command(client, "declare Disk full", user="lena", channel="inc-disk")
    incident = Incident.objects.get()
    answer = command(client, "update Uploads fail | Freeing space", user="lena", channel="inc-disk")
    assert answer["text"].startswith(f"Status update posted on incident {incident.pk}")
    update = StatusUpdate.objects.get()
    assert (update.affected, update.doing, update.author) == ("Uploads fail", "Freeing space", lena)
