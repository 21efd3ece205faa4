"""Running an incident from Slack or Mattermost: the `/morgue` commands.

A command arrives signed (incidents.views.chat checks that), is read by the one
parser (incidents.chat_commands), and is carried out AS the Morgue person the
chat user is: a Slack user by the e-mail address of their Slack profile
(`users.info`), a Mattermost user by user name. Nobody matching means nothing
is done and the person is told so, privately. The work is done by the same
services as the incident page and the API (declare_incident, post_status_update,
assign_role, change_status), so the rules, the timeline and the subscribers'
copies are the same whichever way it came. The person's role is checked as the
page checks it (morgue.permissions): declaring asks `declare`, the rest `edit`
on the incident; a refusal is told privately, with the role it needs, and
nothing changes. A declaration from Slack opens the
incident's channel (incidents.services.chat_channel); one from Mattermost makes
the channel it was typed in the incident's. `oncall` and `ack` need no incident:
they are oncall's reads and acknowledgement (incidents.services.chat_oncall).
"""

import logging
from typing import Any

from django.conf import settings
from django.contrib.auth.models import User
from django.db import transaction
from django.utils import timezone

from incidents import chat_commands, slack_api
from incidents.models import ChannelSetup, ChatProvider, Incident, IncidentChannel, Status
from morgue import permissions
from morgue.exceptions import MorgueError
from morgue.models import display_name
from morgue.tasking import enqueue_on_commit

from . import chat_oncall, running
from .chat_channel import SET_UP_TASK, channel_name
from .chat_reply import ChatReply as ChatReply  # the views answer with it
from .incident import change_status

logger = logging.getLogger(__name__)


# --- Who is asking ---------------------------------------------------------------------


def person_by_email(email: str) -> User | None:
    """The active Morgue person with this e-mail address (the oldest account when several share it)."""
    if not email:
        return None
    return User.objects.filter(email__iexact=email, is_active=True).order_by("pk").first()


def person_by_username(username: str) -> User | None:
    return User.objects.filter(username__iexact=username, is_active=True).order_by("pk").first()


def slack_person(user_id: str) -> User | None:
    """The Morgue person behind a Slack user, by the e-mail of their Slack profile; SlackError passes."""
    return person_by_email(slack_api.user_email(user_id))


# --- Channels --------------------------------------------------------------------------


def incident_in_channel(*, provider: str, channel_id: str) -> Incident | None:
    """The incident run in a channel: the open one, else the latest (Mattermost channels host several)."""
    rooms = IncidentChannel.objects.filter(provider=provider, channel_id=channel_id).select_related(
        "incident"
    )
    room = (
        rooms.filter(incident__resolved_at__isnull=True).order_by("-pk").first()
        or rooms.order_by("-pk").first()
    )
    if room is None or room.incident.deleted_at is not None:
        return None
    return room.incident


def _open_room(
    *, incident: Incident, provider: str, channel_id: str, channel_name_given: str
) -> IncidentChannel:
    if provider == ChatProvider.MATTERMOST:
        return IncidentChannel.objects.create(
            incident=incident,
            provider=provider,
            channel_id=channel_id,
            name=channel_name_given,
            setup=ChannelSetup.DONE,
        )
    room = IncidentChannel.objects.create(incident=incident, provider=provider, name=channel_name(incident))
    enqueue_on_commit(SET_UP_TASK, room.pk)
    return room


# --- Commands --------------------------------------------------------------------------


def _link(incident: Incident) -> str:
    return f"{settings.MORGUE_BASE_URL.rstrip('/')}{incident.get_absolute_url()}"


NOT_IN_A_CHANNEL = (
    "This channel runs no incident: run the command in the incident's channel, "
    "or `/morgue declare <title>` to open one."
)


@transaction.atomic
def _declare(
    *, command: chat_commands.Declare, person: User, provider: str, channel_id: str, channel_name_given: str
) -> ChatReply:
    incident = running.declare_incident(by=person, title=command.title, severity=command.severity, team=None)
    where = ""
    if provider == ChatProvider.MATTERMOST:
        _open_room(
            incident=incident, provider=provider, channel_id=channel_id, channel_name_given=channel_name_given
        )
        where = " Status updates and role changes will be posted here."
    elif slack_api.configured():
        room = _open_room(incident=incident, provider=provider, channel_id="", channel_name_given="")
        where = f" Its channel is #{room.name} (being created; you are invited)."
    return ChatReply(
        f"{display_name(person)} declared incident {incident.pk}: *{incident.title}* "
        f"(severity {incident.severity}), and leads it.{where} {_link(incident)}",
        public=True,
    )


def _role(
    *, command: chat_commands.Role, incident: Incident, person: User, assignee: User | None, mention: str
) -> ChatReply:
    if assignee is None:
        return ChatReply(f"{mention} has no Morgue account; nothing was changed.")
    role = running.role_kind(command.role)
    running.assign_role(incident=incident, role=role, user=assignee, by=person)
    return ChatReply(
        f"{display_name(assignee)} is now {role.name.lower()} of incident {incident.pk}.", public=True
    )


def run_command(
    *,
    command: chat_commands.Command,
    person: User,
    provider: str,
    channel_id: str,
    channel_name_given: str = "",
    assignee: User | None = None,
    mention: str = "",
) -> ChatReply:
    """Carry out one parsed command as `person`; what to answer. MorgueError passes (its sentence answers)."""
    if isinstance(command, chat_commands.Help):
        return ChatReply(chat_commands.HELP)
    if isinstance(command, chat_commands.OnCall):
        return chat_oncall.on_call(person=person, team_words=command.team, now=timezone.now())
    if isinstance(command, chat_commands.Acknowledge):
        return chat_oncall.acknowledge(person=person)
    if isinstance(command, chat_commands.Declare):
        return _declare(
            command=command,
            person=person,
            provider=provider,
            channel_id=channel_id,
            channel_name_given=channel_name_given,
        )
    incident = incident_in_channel(provider=provider, channel_id=channel_id)
    if incident is None:
        return ChatReply(NOT_IN_A_CHANNEL)
    # A status update, a role and resolving are edits of the incident: the services ask the page's
    # rule (morgue.permissions) before they write anything, and a refusal is told like any other.
    if isinstance(command, chat_commands.StatusUpdate):
        running.post_status_update(
            incident=incident, by=person, affected=command.affected or incident.title, doing=command.doing
        )
        return ChatReply(f"Status update posted on incident {incident.pk}; the subscribers are being told.")
    if isinstance(command, chat_commands.Role):
        return _role(command=command, incident=incident, person=person, assignee=assignee, mention=mention)
    return resolve(incident=incident, person=person)


def resolve(*, incident: Incident, person: User) -> ChatReply:
    """Resolve the incident as `person`; an incident already resolved stays as it is."""
    if incident.status != Status.OPEN:
        return ChatReply(f"Incident {incident.pk} is already {incident.get_status_display().lower()}.")
    change_status(incident=incident, status=Status.RESOLVED, by=person)
    return ChatReply(
        f"{display_name(person)} resolved incident {incident.pk}. "
        "The channel's messages go into its timeline. "
        f"{_link(incident)}",
        public=True,
    )


# --- The two chats' edges ----------------------------------------------------------------

NO_SLACK_PERSON = (
    "Morgue knows nobody with the e-mail address of your Slack profile, so nothing was done. "
    "Ask an admin to add it to your Morgue account."
)
SLACK_UNREACHABLE = "Slack did not say who you are in time, so nothing was done; try again in a moment."


def _who_failed(error: slack_api.SlackError) -> ChatReply:
    """The private answer when users.info did not tell who is asking."""
    logger.warning("Slack users.info failed: %s", error.error)
    if error.transient:
        return ChatReply(SLACK_UNREACHABLE)
    if error.error == "not_configured":
        return ChatReply("Morgue has no Slack bot token (SLACK_BOT_TOKEN), so it cannot tell who you are.")
    return ChatReply(f"Slack would not say who you are ({error.error}), so nothing was done.")


def _parse(text: str) -> chat_commands.Command | ChatReply:
    try:
        return chat_commands.parse(text)
    except chat_commands.CommandError as error:
        return ChatReply(str(error))


def _carried_out(**arguments: Any) -> ChatReply:
    try:
        return run_command(**arguments)
    except MorgueError as error:
        return ChatReply(f"Nothing was done: {error.message}")


def slack_command(*, user_id: str, channel_id: str, text: str) -> ChatReply:
    """`/morgue …` from Slack (already verified): who is asking, by their Slack e-mail, then the command."""
    command = _parse(text)
    if isinstance(command, ChatReply):
        return command
    if isinstance(command, chat_commands.Help):
        return ChatReply(chat_commands.HELP)
    try:
        person = slack_person(user_id)
        assignee, mention = None, ""
        if isinstance(command, chat_commands.Role):
            mention = f"@{command.person.slack_id or command.person.username}"
            if not command.person.slack_id:
                return ChatReply(
                    "Mention the person so Slack links the name (type @ and pick them); nothing was changed."
                )
            assignee = slack_person(command.person.slack_id) if person is not None else None
    except slack_api.SlackError as error:
        return _who_failed(error)
    if person is None:
        return ChatReply(NO_SLACK_PERSON)
    return _carried_out(
        command=command,
        person=person,
        provider=ChatProvider.SLACK,
        channel_id=channel_id,
        assignee=assignee,
        mention=mention,
    )


def slack_button(*, user_id: str, action_id: str, value: str) -> ChatReply:
    """A button on Morgue's incident card (Slack's block_actions): Resolve."""
    if action_id != "resolve":
        return ChatReply(f"Morgue has no button {action_id!r}.")
    is_id = value.isascii() and value.isdigit() and len(value) < 10  # never a number the database cannot hold
    incident = Incident.objects.visible().filter(pk=int(value)).first() if is_id else None
    if incident is None:
        return ChatReply("That incident no longer exists.")
    try:
        person = slack_person(user_id)
    except slack_api.SlackError as error:
        return _who_failed(error)
    if person is None:
        return ChatReply(NO_SLACK_PERSON)
    try:
        permissions.require(person, "edit", incident)
        return resolve(incident=incident, person=person)
    except MorgueError as error:
        return ChatReply(f"Nothing was done: {error.message}")


def mattermost_command(*, user_name: str, channel_id: str, channel_name_given: str, text: str) -> ChatReply:
    """`/morgue …` from Mattermost (token already checked): its user name is the Morgue user name."""
    command = _parse(text)
    if isinstance(command, ChatReply):
        return command
    person = person_by_username(user_name)
    if person is None:
        return ChatReply(f"Morgue has no person named {user_name}, so nothing was done.")
    assignee, mention = None, ""
    if isinstance(command, chat_commands.Role):
        mention = f"@{command.person.username or command.person.slack_id}"
        assignee = person_by_username(command.person.username) if command.person.username else None
    return _carried_out(
        command=command,
        person=person,
        provider=ChatProvider.MATTERMOST,
        channel_id=channel_id,
        channel_name_given=channel_name_given,
        assignee=assignee,
        mention=mention,
    )
