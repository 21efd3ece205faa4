"""A chat command runs as the chat user's Morgue person, so it is held to that person's role.

The command endpoints are authenticated by the chat (Slack's signature,
Mattermost's command token), not by a Morgue session: the services they call
(incidents.services.running) check the rules themselves. Mattermost is used here
because its token is the simplest proof (tests/incidents/test_mattermost.py).
"""

import pytest

from incidents.models import Incident, RoleAssignment, StatusUpdate
from tests.factories import ProfileFactory, TeamFactory, UserFactory, member_of

pytestmark = pytest.mark.django_db
TOKEN = "xr3j5x3p4pfjpeb4bgkdqh9wqy"
REFUSED = "Nothing was done: Only a responder of a team may edit its incidents and their postmortems."


@pytest.fixture
def people(settings):
    settings.MATTERMOST_COMMAND_TOKEN = TOKEN
    team = TeamFactory(slug="search", name="Search")
    lena = ProfileFactory(user=UserFactory(username="lena"), display_name="Lena").user
    vic = ProfileFactory(user=UserFactory(username="vic"), display_name="Vic").user
    return member_of(team, "responder", user=lena), member_of(team, "viewer", user=vic)


def command(client, text: str, *, user: str) -> dict:
    fields = {
        "channel_id": "id-search",
        "channel_name": "search",
        "text": text,
        "token": TOKEN,
        "user_name": user,
    }
    response = client.post("/integrations/mattermost/commands/", fields)
    assert response.status_code == 200, response.content
    return response.json()


def test_a_viewer_in_the_incidents_channel_cannot_post_updates_hand_out_roles_or_resolve(client, people):
    command(client, "declare Search is slow sev3", user="lena")
    incident = Incident.objects.get()
    # Lena's first update sets "status page updated" on the incident (an edit of its own); the
    # second and later ones are what the viewer's attempt would be.
    assert "Status update posted" in command(client, "status Search | Adding capacity", user="lena")["text"]

    status = command(client, "status Search | All fine, really", user="vic")
    role = command(client, "role scribe @vic", user="vic")
    resolve = command(client, "resolve", user="vic")

    for answer in (status, role, resolve):
        assert answer == {"response_type": "ephemeral", "text": REFUSED}
    assert list(StatusUpdate.objects.values_list("author__username", flat=True)) == ["lena"]
    assert not RoleAssignment.objects.filter(role__slug="scribe").exists()
    incident.refresh_from_db()
    assert incident.resolved_at is None


def test_a_responder_who_leads_the_incident_may_hand_the_lead_to_a_viewer(client, people):
    _, vic = people
    command(client, "declare Search is slow sev3", user="lena")
    answer = command(client, "role lead @vic", user="lena")
    assert answer["response_type"] == "in_channel", answer
    assert RoleAssignment.objects.current().get(role__slug="lead").user == vic
