"""Slack user groups kept to who is on call: `@ops-oncall` names the people holding the team's levels now.

Staff configure a group (incidents.SlackUserGroup: its id, the team or one of
its rotations, L1 or L1 and L2). Every minute a beat task asks which groups'
holders differ from what was last set (a handoff, an override, a swap) and
enqueues one task per group; that task maps each holder to a Slack user by
e-mail (`users.lookupByEmail`) and replaces the group's members
(`usergroups.users.update`), through incidents.slack_api with its timeout and
address rule; a 429 is retried after exactly Slack's Retry-After. Who holds a
level is oncall's one definition (oncall.selectors.Holders for a team, the
first piece covering the instant in HOLDER_ORDER for one rotation).

Slack cannot empty a user group (it must be disabled instead,
https://api.slack.com/methods/usergroups.users.update), so in a gap, when
nobody holds, the group is left as it was until someone does.
"""

import datetime as dt
import logging

from django.contrib.auth.models import User
from django.db import transaction
from django.utils import timezone

from incidents import slack_api
from incidents.models import SlackUserGroup
from morgue.models import Team, display_name
from morgue.tasking import enqueue_on_commit
from oncall.models import Level, Rotation, Shift
from oncall.selectors import Holders

from .chat_channel import ChatPending

logger = logging.getLogger(__name__)

SYNC_TASK = "incidents.tasks.chat.sync_slack_user_group"


def holders(*, group: SlackUserGroup, at: dt.datetime) -> list[User]:
    """The people the group should name at an instant: L1's holder, then L2's when asked, each once."""
    levels = [Level.L1, Level.L2] if group.include_l2 else [Level.L1]
    people: list[User] = []
    for level in levels:
        if group.rotation_id is not None:
            shift = (
                Shift.objects.holding(level=level, at=at)
                .filter(rotation_id=group.rotation_id)
                .select_related("user")
                .first()
            )
            person = shift.user if shift else None
        else:
            person = Holders(level=level, team_ids=[group.team_id], instants=[at]).person(group.team_id, at)
        if person is not None and person not in people:
            people.append(person)
    return people


def _key(people: list[User]) -> str:
    return ",".join(str(pk) for pk in sorted({person.pk for person in people}))


@transaction.atomic
def configure_user_group(
    *,
    usergroup_id: str,
    team: Team,
    rotation: Rotation | None = None,
    include_l2: bool = False,
    group: SlackUserGroup | None = None,
) -> SlackUserGroup:
    """Keep a Slack user group to a team's (or rotation's) holders; it is set at once, then at each change."""
    group = group or SlackUserGroup()
    group.usergroup_id = usergroup_id
    group.team = team
    group.rotation = rotation
    group.include_l2 = include_l2
    group.synced_holders = ""  # whatever was set for the old configuration, set it for this one
    group.error = ""
    group.full_clean()
    group.save()
    enqueue_on_commit(SYNC_TASK, group.pk)
    return group


def enqueue_user_group_syncs(*, now: dt.datetime | None = None) -> list[int]:
    """Beat: enqueue a sync for each group whose holders are not the ones last set; their ids."""
    if not slack_api.configured():
        return []
    now = now or timezone.now()
    due = []
    for group in SlackUserGroup.objects.all():
        key = _key(holders(group=group, at=now))
        if key and key != group.synced_holders:
            enqueue_on_commit(SYNC_TASK, group.pk)
            due.append(group.pk)
    return due


def sync_user_group(*, group_id: int, now: dt.datetime | None = None) -> SlackUserGroup | None:
    """Set the Slack user group to the people on call now; nothing when they are the ones last set.

    ChatPending when Slack asks to wait or cannot be reached (the task retries).
    """
    now = now or timezone.now()
    group = SlackUserGroup.objects.filter(pk=group_id).first()
    if group is None or not slack_api.configured():
        return group
    people = holders(group=group, at=now)
    key = _key(people)
    if not key or key == group.synced_holders:
        return group
    slack_ids: list[str] = []
    unknown: list[str] = []
    error = ""
    try:
        for person in people:
            slack_id = slack_api.user_id_for_email(person.email) if person.email else ""
            if slack_id:
                slack_ids.append(slack_id)
            else:
                unknown.append(display_name(person))
        if slack_ids:
            slack_api.call("usergroups.users.update", usergroup=group.usergroup_id, users=",".join(slack_ids))
    except slack_api.SlackError as failure:
        if failure.transient:
            raise ChatPending(
                f"usergroups.users.update: {failure.error}", retry_after=failure.retry_after
            ) from failure
        logger.warning("Slack user group %s not set: %s", group.usergroup_id, failure.error)
        error, slack_ids = f"Slack refused: {failure.error}", []
    if unknown and not error:
        error = "No Slack user has the e-mail address of " + ", ".join(unknown)
    # The claim: of two runs for the same change, only the first records it.
    SlackUserGroup.objects.filter(pk=group.pk, synced_holders=group.synced_holders).update(
        synced_holders=key, synced_at=now, slack_users=",".join(slack_ids), error=error[:200]
    )
    group.refresh_from_db()
    return group
