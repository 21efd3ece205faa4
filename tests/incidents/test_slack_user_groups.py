"""A Slack user group (`@ops-oncall`) kept to who is on call: set at each handoff, once, after Retry-After.

Slack is the loopback fake of its Web API (tests/incidents/slack_fake.py):
usergroups.users.update replaces the group's whole member list and refuses an
empty or unknown one (https://api.slack.com/methods/usergroups.users.update);
users.lookupByEmail maps the holders. Who should be in the group is checked
against oncall's one definition (oncall.selectors.person_on_call).
"""

import datetime as dt

import pytest
import time_machine
from slack_sdk.errors import SlackApiError
from slack_sdk.web import WebClient

import incidents.tasks  # noqa: F401  (registers the tasks by name)
from incidents.models import SlackUserGroup
from incidents.services import chat_channel, slack_groups
from incidents.tasks import chat as chat_tasks
from morgue.celery import app
from oncall import selectors as oncall_selectors
from oncall.models import Level
from tests.factories import make_rotation
from tests.incidents.slack_fake import TOKEN, fake_slack

pytestmark = pytest.mark.django_db
SYNC = "incidents.tasks.chat.sync_slack_user_group"
# The Ops rotation: 3-day shifts from Monday 5 January, handed over at 10:00 UTC; Tuesday 10 February
# at noon is two hours into a shift, which ends on Friday the 13th at 10:00.
NOW = dt.datetime(2026, 2, 10, 12, tzinfo=dt.UTC)
HANDOFF = dt.datetime(2026, 2, 13, 10, tzinfo=dt.UTC)
PEOPLE = {"ana": "U0ANA", "ben": "U0BEN", "cy": "U0CY"}


@pytest.fixture
def slack(settings):
    with fake_slack() as fake:
        settings.SLACK_API_URL = fake.url
        settings.SLACK_BOT_TOKEN = TOKEN
        settings.MORGUE_OUTBOUND_ALLOW_LOOPBACK = True
        for username, slack_id in PEOPLE.items():
            fake.add_user(slack_id, email=f"{username}@example.com", name=username.title())
        fake.add_usergroup("S0OPSONCALL", handle="ops-oncall", users=["U0CY"])
        yield fake


@pytest.fixture
def queue(monkeypatch):
    queued: list[tuple[str, tuple]] = []
    monkeypatch.setattr(app, "send_task", lambda name, args, **options: queued.append((name, tuple(args))))
    return queued


@pytest.fixture
def ops():
    return make_rotation(slug="ops-primary", people=tuple(PEOPLE)).team


def slack_id_of(team, level, at):
    return PEOPLE[oncall_selectors.person_on_call(team=team, at=at, level=level).username]


def beat(at, capture):
    """The beat task at an instant, with what it enqueues sent."""
    with time_machine.travel(at, tick=False), capture(execute=True):
        return chat_tasks.sync_slack_user_groups()


def test_at_each_handoff_the_group_names_the_new_holder_once(
    slack, queue, ops, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True):
        group = slack_groups.configure_user_group(usergroup_id="S0OPSONCALL", team=ops)
    assert queue == [(SYNC, (group.pk,))]  # set at once, not at the next handoff
    queue.clear()

    assert beat(NOW, django_capture_on_commit_callbacks) == 1
    assert queue == [(SYNC, (group.pk,))]
    with time_machine.travel(NOW, tick=False):
        chat_tasks.sync_slack_user_group(group.pk)
        chat_tasks.sync_slack_user_group(group.pk)  # the task run twice: Slack is called once
    before = slack_id_of(ops, Level.L1, NOW)
    assert slack.usergroups["S0OPSONCALL"]["users"] == [before]
    assert len(slack.called("usergroups.users.update")) == 1
    group.refresh_from_db()
    assert (group.slack_users, group.error) == (before, "")

    queue.clear()
    # Until the handoff nothing changed: the beat enqueues nothing and Slack is not asked.
    assert beat(HANDOFF - dt.timedelta(minutes=1), django_capture_on_commit_callbacks) == 0
    assert queue == []
    assert beat(HANDOFF + dt.timedelta(minutes=1), django_capture_on_commit_callbacks) == 1
    with time_machine.travel(HANDOFF + dt.timedelta(minutes=1), tick=False):
        chat_tasks.sync_slack_user_group(group.pk)
    after = slack_id_of(ops, Level.L1, HANDOFF)
    assert after != before
    assert slack.usergroups["S0OPSONCALL"]["users"] == [after]
    assert len(slack.called("usergroups.users.update")) == 2
    call = slack.called("usergroups.users.update")[-1]
    assert call.arguments == {"usergroup": "S0OPSONCALL", "users": after}
    assert call.headers["Authorization"] == f"Bearer {TOKEN}"


def test_a_group_for_one_rotation_with_l2_names_both_holders(slack, ops):
    group = slack_groups.configure_user_group(
        usergroup_id="S0OPSONCALL", team=ops, rotation=ops.rotations.get(), include_l2=True
    )
    with time_machine.travel(NOW, tick=False):
        slack_groups.sync_user_group(group_id=group.pk)
    assert slack.usergroups["S0OPSONCALL"]["users"] == [
        slack_id_of(ops, Level.L1, NOW),
        slack_id_of(ops, Level.L2, NOW),
    ]


def test_a_rate_limit_is_waited_out_for_exactly_retry_after_then_the_group_is_set(slack, ops, monkeypatch):
    group = slack_groups.configure_user_group(usergroup_id="S0OPSONCALL", team=ops)
    slack.rate_limit_once["usergroups.users.update"] = 9
    retries = []

    def retry(*, exc, countdown, **options):
        retries.append(countdown)
        return exc

    monkeypatch.setattr(chat_tasks.sync_slack_user_group, "retry", retry)
    with time_machine.travel(NOW, tick=False):
        with pytest.raises(chat_channel.ChatPending):
            chat_tasks.sync_slack_user_group(group.pk)
        assert retries == [9.0]
        group.refresh_from_db()
        assert group.synced_holders == ""  # not recorded: the retry still sets it
        chat_tasks.sync_slack_user_group(group.pk)
    assert slack.usergroups["S0OPSONCALL"]["users"] == [slack_id_of(ops, Level.L1, NOW)]


def test_a_group_slack_does_not_know_is_recorded_and_not_retried_until_the_next_handoff(
    slack, queue, ops, django_capture_on_commit_callbacks
):
    group = slack_groups.configure_user_group(usergroup_id="S0GONE", team=ops)
    with time_machine.travel(NOW, tick=False):
        slack_groups.sync_user_group(group_id=group.pk)
    group.refresh_from_db()
    assert group.error == "Slack refused: no_such_subteam" and group.slack_users == ""
    queue.clear()
    assert beat(NOW + dt.timedelta(minutes=1), django_capture_on_commit_callbacks) == 0
    assert len(slack.called("usergroups.users.update")) == 1


def test_a_holder_without_a_slack_account_is_named_and_nobody_on_call_leaves_the_group(slack, ops):
    holder = oncall_selectors.person_on_call(team=ops, at=NOW, level=Level.L1)
    slack.users.pop(PEOPLE[holder.username])
    group = slack_groups.configure_user_group(usergroup_id="S0OPSONCALL", team=ops, include_l2=True)
    with time_machine.travel(NOW, tick=False):
        slack_groups.sync_user_group(group_id=group.pk)
    group.refresh_from_db()
    assert slack.usergroups["S0OPSONCALL"]["users"] == [slack_id_of(ops, Level.L2, NOW)]
    assert group.error.startswith("No Slack user has the e-mail address of")
    # Long after the rotation's materialised shifts: nobody holds, and Slack cannot empty a group.
    calls = len(slack.calls)
    with time_machine.travel(NOW + dt.timedelta(days=400), tick=False):
        slack_groups.sync_user_group(group_id=group.pk)
        assert slack_groups.enqueue_user_group_syncs() == []
    assert len(slack.calls) == calls


def test_without_a_bot_token_nothing_is_enqueued_or_called(slack, queue, ops, settings):
    SlackUserGroup.objects.create(usergroup_id="S0OPSONCALL", team=ops)
    settings.SLACK_BOT_TOKEN = ""
    assert slack_groups.enqueue_user_group_syncs(now=NOW) == []
    assert slack.calls == []


def test_a_rotation_of_another_team_is_refused(slack, ops):
    other = make_rotation(slug="payments-primary", people=("gus", "hana"))
    with pytest.raises(Exception, match="must be one of the team's"):
        slack_groups.configure_user_group(usergroup_id="S0OPSONCALL", team=ops, rotation=other)
    assert not SlackUserGroup.objects.exists()


def test_staff_configure_a_group_in_the_admin_and_it_is_set_at_once(
    admin_client, slack, queue, ops, django_capture_on_commit_callbacks
):
    add = "/admin/incidents/slackusergroup/add/"
    wrong = admin_client.post(add, {"usergroup_id": "@ops-oncall", "team": ops.pk})
    assert wrong.status_code == 200 and b"starts with S" in wrong.content
    assert not SlackUserGroup.objects.exists()
    with django_capture_on_commit_callbacks(execute=True):
        response = admin_client.post(add, {"usergroup_id": "S0OPSONCALL", "team": ops.pk, "include_l2": "on"})
    assert response.status_code == 302
    group = SlackUserGroup.objects.get()
    assert (group.team, group.rotation, group.include_l2) == (ops, None, True)
    assert queue == [(SYNC, (group.pk,))]


def test_the_fakes_user_groups_answer_as_the_official_sdk_expects(slack):
    """slack_sdk's WebClient sends `users` as a list joined by commas; the fake answers the group."""
    client = WebClient(token=TOKEN, base_url=slack.url + "/")
    answer = client.usergroups_users_update(usergroup="S0OPSONCALL", users=["U0ANA", "U0BEN"])
    assert answer["usergroup"]["users"] == ["U0ANA", "U0BEN"] and answer["usergroup"]["id"] == "S0OPSONCALL"
    for arguments, error in [
        ({"usergroup": "S0NOPE", "users": ["U0ANA"]}, "no_such_subteam"),
        ({"usergroup": "S0OPSONCALL", "users": ["U0NOBODY"]}, "invalid_users"),
    ]:
        with pytest.raises(SlackApiError, match=error):
            client.usergroups_users_update(**arguments)
    assert slack.usergroups["S0OPSONCALL"]["users"] == ["U0ANA", "U0BEN"]
