"""`/morgue oncall`, `/morgue ack` and `/morgue update` from Slack, and the card's buttons at /actions/.

Slack is the loopback fake of its Web API (tests/incidents/slack_fake.py), which
says who is asking (users.info → the profile's e-mail); requests are signed with
the official SDK's SignatureVerifier. Who is on call is checked against oncall's
one definition (oncall.selectors.person_on_call), not against the code under test.
"""

import datetime as dt
import json
import time
from urllib.parse import urlencode

import pytest
import time_machine
from slack_sdk.signature import SignatureVerifier

import incidents.tasks  # noqa: F401  (registers the tasks by name)
from incidents.models import ChatProvider, Incident, IncidentChannel, Status, StatusUpdate
from morgue.models import display_name
from oncall import selectors as oncall_selectors
from oncall import services as oncall_services
from oncall.models import Level, Page, PageStatus
from tests.factories import IncidentFactory, ProfileFactory, UserFactory, make_rotation, member_of, responder
from tests.incidents.slack_fake import TOKEN, fake_slack

pytestmark = pytest.mark.django_db
SECRET = "8f742231b10e8888abcd99yyyzzz85a5"  # Slack's own example signing secret
# A Tuesday noon: the Ops rotation (3-day shifts from Monday 5 January, handoff 10:00 UTC) changed at 10:00.
NOW = dt.datetime(2026, 2, 10, 12, tzinfo=dt.UTC)


@pytest.fixture
def slack(settings):
    with fake_slack() as fake:
        settings.SLACK_API_URL = fake.url
        settings.SLACK_BOT_TOKEN = TOKEN
        settings.SLACK_SIGNING_SECRET = SECRET
        settings.MORGUE_OUTBOUND_ALLOW_LOOPBACK = True
        yield fake


@pytest.fixture
def lena(slack):
    """A Berliner in Slack and in Morgue (by the same e-mail), in no team yet."""
    slack.add_user("U1LENA", email="lena@example.com", name="Lena")
    user = UserFactory(username="lena", email="lena@example.com")
    return ProfileFactory(user=user, display_name="Lena", time_zone="Europe/Berlin").user


@pytest.fixture
def ops():
    return make_rotation(slug="ops-primary", people=("ana", "ben", "cy")).team


def signed(body: str) -> dict[str, str]:
    timestamp = str(int(time.time()))
    signature = SignatureVerifier(SECRET).generate_signature(timestamp=timestamp, body=body)
    return {"HTTP_X_SLACK_REQUEST_TIMESTAMP": timestamp, "HTTP_X_SLACK_SIGNATURE": signature}


def command(client, text: str, *, user: str = "U1LENA", channel: str = "C0GENERAL"):
    body = urlencode(
        {
            "team_id": "T0001",
            "channel_id": channel,
            "user_id": user,
            "command": "/morgue",
            "text": text,
            "response_url": "https://hooks.slack.com/commands/1234/5678",
        }
    )
    response = client.post(
        "/integrations/slack/commands/",
        data=body,
        content_type="application/x-www-form-urlencoded",
        **signed(body),
    )
    assert response.status_code == 200
    return response.json()


def holder(team, level):
    return oncall_selectors.person_on_call(team=team, at=NOW, level=level)


# --- /morgue oncall ------------------------------------------------------------------------------


def test_oncall_for_a_named_team_says_l1_and_l2_until_when_on_the_askers_clock(client, lena, ops):
    first, second = holder(ops, Level.L1), holder(ops, Level.L2)
    assert first is not None and second is not None and first != second
    with time_machine.travel(NOW, tick=False):
        answer = command(client, "oncall ops")
        by_name = command(client, "oncall OPS")
    assert answer == by_name
    assert answer["response_type"] == "ephemeral"
    lines = answer["text"].splitlines()
    # The shift ends at Friday's 10:00 handoff, UTC: 11:00 on a Berlin clock in February.
    assert lines == [
        "*Ops*",
        f"• L1: {display_name(first)}, until Fri 13 Feb 11:00",
        f"• L2: {display_name(second)}, until Fri 13 Feb 11:00",
        "Times are in Europe/Berlin.",
    ]


def test_oncall_without_a_team_answers_for_the_askers_teams_only(client, lena, ops):
    payments = make_rotation(slug="payments-primary", people=("gus", "hana"), has_l2=False).team
    support = make_rotation(slug="support-primary", people=("kofi", "lucia")).team
    member_of(ops, "viewer", user=lena)
    member_of(payments, "responder", user=lena)
    with time_machine.travel(NOW, tick=False):
        text = command(client, "oncall")["text"]
    assert "*Ops*" in text and "*Payments*" in text and support.name not in text
    assert f"L1: {display_name(holder(payments, Level.L1))}" in text
    assert "Payments*\n• L1" in text and text.count("• L2") == 1  # Payments' rotation has no L2


def test_oncall_with_a_quiet_team_an_unknown_team_or_no_team_is_a_sentence(client, lena, ops):
    with time_machine.travel(NOW, tick=False):
        no_team = command(client, "oncall")["text"]
        unknown = command(client, "oncall databases")["text"]
    assert no_team == "You are in no team; name one: `/morgue oncall ops`."
    assert "Morgue has no team 'databases'" in unknown
    # Long after the rotation's materialised shifts run out: nobody holds Ops.
    with time_machine.travel(NOW + dt.timedelta(days=400), tick=False):
        quiet = command(client, "oncall ops")["text"]
    assert quiet.startswith("*Ops*: nobody is on call now")


def test_oncall_costs_the_same_few_queries_however_many_teams_the_asker_is_in(
    client, lena, ops, django_assert_max_num_queries
):
    for slug in ("payments-primary", "support-primary", "search-primary"):
        member_of(make_rotation(slug=slug, people=(slug[:3] + "1", slug[:3] + "2")).team, user=lena)
    member_of(ops, user=lena)
    with time_machine.travel(NOW, tick=False), django_assert_max_num_queries(6):
        text = command(client, "oncall")["text"]
    assert text.count("• L1") == 4


# --- /morgue ack ---------------------------------------------------------------------------------


def test_the_person_paged_acknowledges_from_slack_once(client, slack, ops):
    paged = holder(ops, Level.L1)
    slack.add_user("U2PAGED", email=paged.email, name="Paged")
    with time_machine.travel(NOW, tick=False):
        page = oncall_services.page_team(team=ops, message="Card auths failing", now=NOW)
        answer = command(client, "ack", user="U2PAGED")
        again = command(client, "ack", user="U2PAGED")
    page.refresh_from_db()
    assert (page.status, page.acknowledged_by) == (PageStatus.ACKNOWLEDGED, paged)
    assert answer == {
        "response_type": "in_channel",
        "text": f"{display_name(paged)} acknowledged page {page.pk} to Ops (Card auths failing).",
    }
    assert again["response_type"] == "ephemeral"
    assert again["text"] == (
        f"Nothing left to acknowledge: already acknowledged: page {page.pk} to Ops (Card auths failing) "
        f"by {display_name(paged)}."
    )
    acknowledged_at = page.acknowledged_at
    page.refresh_from_db()
    assert page.acknowledged_at == acknowledged_at


def test_ack_from_someone_no_page_reached_acknowledges_nothing(client, lena, ops):
    member_of(ops, user=lena)
    with time_machine.travel(NOW, tick=False):
        page = oncall_services.page_team(team=ops, message="Disk full", now=NOW)
        answer = command(client, "ack")
    assert answer == {
        "response_type": "ephemeral",
        "text": "No page has reached you, so there is nothing to acknowledge.",
    }
    page.refresh_from_db()
    assert page.status == PageStatus.OPEN


def test_ack_of_a_page_whose_escalation_ran_out_says_so(client, slack, ops):
    paged = holder(ops, Level.L1)
    slack.add_user("U2PAGED", email=paged.email, name="Paged")
    with time_machine.travel(NOW, tick=False):
        page = oncall_services.page_team(team=ops, message="Disk full", now=NOW)
        Page.objects.filter(pk=page.pk).update(status=PageStatus.EXHAUSTED)
        answer = command(client, "ack", user="U2PAGED")
    assert "escalation has run out" in answer["text"] and f"page {page.pk} to Ops" in answer["text"]
    page.refresh_from_db()
    assert page.status == PageStatus.EXHAUSTED and page.acknowledged_by is None


def test_ack_acknowledges_every_open_page_that_reached_the_person(client, slack, ops):
    paged = holder(ops, Level.L1)
    slack.add_user("U2PAGED", email=paged.email, name="Paged")
    with time_machine.travel(NOW, tick=False):
        pages = [oncall_services.page_team(team=ops, message=message, now=NOW) for message in ("Disk", "CPU")]
        text = command(client, "ack", user="U2PAGED")["text"]
    assert all(f"page {page.pk} to Ops" in text for page in pages)
    assert set(Page.objects.values_list("status", "acknowledged_by")) == {(PageStatus.ACKNOWLEDGED, paged.pk)}


# --- /morgue update and the card's buttons at the address ---------------------------------


def test_update_posts_a_status_update_on_the_channels_incident(client, lena):
    responder(lena)
    incident = IncidentFactory(title="Checkout is failing")
    IncidentChannel.objects.create(
        incident=incident, provider=ChatProvider.SLACK, channel_id="C0INC", name="inc-checkout"
    )
    answer = command(client, "update Card payments | Rolling back the release", channel="C0INC")
    assert answer["text"].startswith(f"Status update posted on incident {incident.pk}")
    update = StatusUpdate.objects.get(incident=incident)
    assert (update.affected, update.doing, update.author) == (
        "Card payments",
        "Rolling back the release",
        lena,
    )


def test_the_cards_buttons_also_arrive_at_slack_actions(client, lena):
    responder(lena)
    incident = IncidentFactory(title="Queue backlog")
    payload = {
        "type": "block_actions",
        "user": {"id": "U1LENA", "username": "lena", "team_id": "T0001"},
        "actions": [{"action_id": "resolve", "block_id": "b1", "value": str(incident.pk), "type": "button"}],
    }
    body = urlencode({"payload": json.dumps(payload)})
    unsigned = client.post(
        "/integrations/slack/actions/", data=body, content_type="application/x-www-form-urlencoded"
    )
    assert unsigned.status_code == 401
    incident.refresh_from_db()
    assert incident.status == Status.OPEN
    response = client.post(
        "/integrations/slack/actions/",
        data=body,
        content_type="application/x-www-form-urlencoded",
        **signed(body),
    )
    assert response.status_code == 200
    incident.refresh_from_db()
    assert incident.status == Status.RESOLVED
    assert Incident.objects.count() == 1
