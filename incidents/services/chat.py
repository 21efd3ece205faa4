"""Running an incident from Slack or Mattermost: the `/morgue` commands, the incident's channel, its history.

A command arrives signed (incidents.views.chat checks that), is read by the one
parser (incidents.chat_commands), and is carried out AS the Morgue person the
chat user is: a Slack user by the e-mail address of their Slack profile
(`users.info`), a Mattermost user by user name. Nobody matching means nothing
is done and the person is told so, privately. The work is done by the same
services as the incident page and the API (declare_incident, post_status_update,
assign_role, change_status), so the rules, the timeline and the subscribers'
copies are the same whichever way it came.

Slack's channel for an incident is set up by a task after the declaration
commits (`set_up_slack_channel`: conversations.create, conversations.invite,
chat.postMessage of the incident card), each step stored as it is done. When the
incident is resolved, `pull_channel_history` reads the channel
(conversations.history and the threads' conversations.replies, between impact
start and resolution), names the speakers (users.info), leaves out Morgue's own
posts (tagged with message metadata), and imports the rest into the timeline
through the chat-log import, with its skipping rules and its de-duplication.
"""

import datetime as dt
import json
import logging
from dataclasses import dataclass
from typing import Any
from zoneinfo import ZoneInfo

from django.conf import settings
from django.contrib.auth.models import User
from django.db import transaction
from django.db.models import F, Q
from django.utils import timezone
from django.utils.text import slugify

from incidents import chat_commands, slack_api
from incidents.models import (
    ChannelSetup,
    ChatProvider,
    Incident,
    IncidentChannel,
    RoleAssignment,
    Status,
)
from morgue.exceptions import MorgueError
from morgue.models import display_name
from morgue.tasking import enqueue, enqueue_on_commit

from . import running
from .chatlog import ChatImport, import_chat_log
from .incident import change_status
from .rooms import METADATA_EVENT, post_slack

logger = logging.getLogger(__name__)

SET_UP_TASK = "incidents.tasks.chat.set_up_slack_channel"
INVITE_TASK = "incidents.tasks.chat.invite_role_holders"
HISTORY_TASK = "incidents.tasks.chat.pull_channel_history"
# A setup left "sending" this long belongs to a worker that died mid-way.
CLAIM_LEASE = dt.timedelta(minutes=15)
MAX_CHANNEL_NAME = 80  # Slack's limit
HISTORY_PAGE = 200
MAX_HISTORY_MESSAGES = 20_000
# conversations.invite answers these when there is nothing (more) to do.
ALREADY_DONE = {"already_in_channel", "cant_invite_self"}


class ChatPending(Exception):
    """Slack could not be reached or asked Morgue to wait: the task tries again (after `retry_after`)."""

    def __init__(self, message: str, *, retry_after: float | None = None) -> None:
        super().__init__(message)
        self.retry_after = retry_after


@dataclass(frozen=True)
class ChatReply:
    """What the command answers: `public` replies are shown to the channel, the rest to the person only."""

    text: str
    public: bool = False


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


def channel_name(incident: Incident) -> str:
    """`inc-<id>-<slug of the title>`, within Slack's rules (lower case, digits, - and _; 80 characters)."""
    name = f"inc-{incident.pk}-{slugify(incident.title)}"[:MAX_CHANNEL_NAME]
    return name.rstrip("-_")


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


def _claim_setup(room_id: int) -> IncidentChannel | None:
    now = timezone.now()
    claimable = Q(setup__in=[ChannelSetup.PENDING, ChannelSetup.FAILED]) | Q(
        setup=ChannelSetup.SENDING, claimed_at__lt=now - CLAIM_LEASE
    )
    rows = IncidentChannel.objects.filter(pk=room_id, provider=ChatProvider.SLACK)
    if not rows.filter(claimable).update(
        setup=ChannelSetup.SENDING, claimed_at=now, attempts=F("attempts") + 1
    ):
        return None
    return rows.select_related("incident").get()


def _slack_ids_of_role_holders(incident: Incident) -> list[str]:
    emails = (
        RoleAssignment.objects.current()
        .filter(incident=incident)
        .exclude(user__email="")
        .values_list("user__email", flat=True)
    )
    ids = [slack_api.user_id_for_email(email) for email in dict.fromkeys(emails)]
    return [user_id for user_id in ids if user_id]


def _invite(room: IncidentChannel) -> None:
    user_ids = _slack_ids_of_role_holders(room.incident)
    if not user_ids:
        return
    try:
        slack_api.call("conversations.invite", channel=room.channel_id, users=",".join(user_ids))
    except slack_api.SlackError as error:
        if error.transient:
            raise
        if error.error not in ALREADY_DONE:
            # A guest account or a deactivated user must not keep the channel from its card.
            logger.warning("Slack refused inviting to #%s: %s", room.name, error.error)


def card_blocks(incident: Incident) -> tuple[str, list[dict[str, Any]]]:
    """The incident card: its title, severity, lead and link, and a Resolve button (Block Kit)."""
    link = f"{settings.MORGUE_BASE_URL.rstrip('/')}{incident.get_absolute_url()}"
    lead = (
        RoleAssignment.objects.current()
        .filter(incident=incident, role__slug="lead")
        .select_related("user")
        .first()
    )
    lead_text = display_name(lead.user) if lead is not None else "nobody yet"
    summary = (
        f"*{incident.title}*\nSeverity {incident.severity} · lead: {lead_text} · "
        f"impact since {incident.impact_started_at:%Y-%m-%d %H:%M} UTC"
    )
    blocks: list[dict[str, Any]] = [
        {"type": "section", "text": {"type": "mrkdwn", "text": summary}},
        {
            "type": "context",
            "elements": [
                {
                    "type": "mrkdwn",
                    "text": "`/morgue status <affected> | <doing>` · `/morgue role comms @person` · "
                    "`/morgue resolve` (this channel's messages then go into the timeline)",
                }
            ],
        },
        {
            "type": "actions",
            "elements": [
                {"type": "button", "text": {"type": "plain_text", "text": "Open in Morgue"}, "url": link},
                {
                    "type": "button",
                    "text": {"type": "plain_text", "text": "Resolve"},
                    "action_id": "resolve",
                    "value": str(incident.pk),
                    "style": "primary",
                },
            ],
        },
    ]
    return f"Incident {incident.pk}: {incident.title} ({link})", blocks


def _fail_setup(room: IncidentChannel, error: slack_api.SlackError) -> None:
    status = ChannelSetup.FAILED if error.transient else ChannelSetup.REFUSED
    IncidentChannel.objects.filter(pk=room.pk).update(setup=status, error=f"Slack: {error.error}"[:200])
    if error.transient:
        raise ChatPending(
            f"Channel {room.pk}: Slack: {error.error}", retry_after=error.retry_after
        ) from error
    logger.warning(
        "Slack refused setting up #%s for incident %s: %s", room.name, room.incident_id, error.error
    )


def set_up_slack_channel(*, room_id: int) -> IncidentChannel | None:
    """Create the incident's channel, invite the role holders, post the card: each step once, in order.

    Runs outside a transaction: each step's result is saved as soon as Slack
    answers, so a retry (after a failure, or a worker's death) does only what is
    left. A name already taken in the workspace is refused (not retried).
    """
    room = _claim_setup(room_id)
    if room is None:
        return None
    rows = IncidentChannel.objects.filter(pk=room.pk)
    try:
        if not room.channel_id:
            answer = slack_api.call("conversations.create", name=room.name, is_private=False)
            channel = answer.get("channel")
            if not isinstance(channel, dict) or not channel.get("id"):
                raise slack_api.SlackError("no_channel_in_answer")
            room.channel_id = str(channel["id"])
            rows.update(channel_id=room.channel_id)
        if not room.invited:
            _invite(room)
            room.invited = True
            rows.update(invited=True)
        if not room.card_ts:
            text, blocks = card_blocks(room.incident)
            room.card_ts = post_slack(
                channel_id=room.channel_id, incident_id=room.incident_id, text=text, blocks=blocks
            )
            rows.update(card_ts=room.card_ts)
    except slack_api.SlackError as error:
        _fail_setup(room, error)
        return room
    rows.update(setup=ChannelSetup.DONE, error="")
    room.setup = ChannelSetup.DONE
    return room


def invite_role_holders(*, room_id: int) -> None:
    """Invite whoever holds a role now to the incident's Slack channel (those already in it are skipped)."""
    room = (
        IncidentChannel.objects.filter(pk=room_id, provider=ChatProvider.SLACK)
        .select_related("incident")
        .first()
    )
    if room is None or not room.channel_id:
        return  # the setup invites them once the channel exists
    try:
        _invite(room)
    except slack_api.SlackError as error:
        if not error.transient:
            logger.warning("Slack refused inviting to #%s: %s", room.name, error.error)
            return
        raise ChatPending(
            f"Channel {room.pk}: Slack: {error.error}", retry_after=error.retry_after
        ) from error


# A setup still not done this long after the incident was declared lost its task (or keeps failing).
LOST_AFTER = dt.timedelta(minutes=10)
MAX_SETUP_ATTEMPTS = 10


def requeue_lost_channel_setups(*, now: dt.datetime | None = None) -> list[int]:
    """Beat sweep: Slack channels whose setup task was lost are enqueued again, up to MAX_SETUP_ATTEMPTS."""
    now = now or timezone.now()
    lost = IncidentChannel.objects.filter(
        Q(setup__in=[ChannelSetup.PENDING, ChannelSetup.FAILED])
        | Q(setup=ChannelSetup.SENDING, claimed_at__lt=now - CLAIM_LEASE),
        provider=ChatProvider.SLACK,
        created_at__lt=now - LOST_AFTER,
        attempts__lt=MAX_SETUP_ATTEMPTS,
    )
    requeued = []
    for room_id in list(lost.values_list("pk", flat=True)[:100]):
        try:
            enqueue(SET_UP_TASK, room_id)
        except Exception as error:  # noqa: BLE001 - the broker is down: the next sweep tries again
            logger.warning("could not enqueue the setup of channel %s: %s", room_id, error)
            break
        requeued.append(room_id)
    return requeued


# --- The channel's history -------------------------------------------------------------


def _slack_ts(moment: dt.datetime) -> str:
    return f"{moment.timestamp():.6f}"


def _pages(method: str, **arguments: Any) -> list[dict[str, Any]]:
    """Every message of a paginated conversations.* call, following `response_metadata.next_cursor`."""
    messages: list[dict[str, Any]] = []
    cursor = ""
    while len(messages) < MAX_HISTORY_MESSAGES:
        answer = slack_api.call(method, limit=HISTORY_PAGE, cursor=cursor or None, **arguments)
        messages += [message for message in answer.get("messages") or [] if isinstance(message, dict)]
        cursor = str((answer.get("response_metadata") or {}).get("next_cursor") or "")
        if not cursor:
            break
    return messages


def _is_morgues(message: dict[str, Any]) -> bool:
    metadata = message.get("metadata")
    return isinstance(metadata, dict) and metadata.get("event_type") == METADATA_EVENT


def channel_messages(
    room: IncidentChannel, *, oldest: dt.datetime, latest: dt.datetime
) -> list[dict[str, Any]]:
    """The channel's messages in a window, with threads' replies and speakers' names, less Morgue's."""
    window = {"channel": room.channel_id, "oldest": _slack_ts(oldest), "latest": _slack_ts(latest)}
    messages = _pages("conversations.history", include_all_metadata=True, inclusive=True, **window)
    replies: list[dict[str, Any]] = []
    for message in messages:
        if message.get("reply_count") and message.get("thread_ts") == message.get("ts"):
            thread = _pages("conversations.replies", ts=message["ts"], include_all_metadata=True, **window)
            replies += [reply for reply in thread if reply.get("ts") != message.get("ts")]
    kept = [message for message in messages + replies if not _is_morgues(message)]
    names: dict[str, str] = {}
    for message in kept:
        user = str(message.get("user") or "")
        if user and not message.get("bot_id") and not message.get("user_profile"):
            if user not in names:
                try:
                    names[user] = slack_api.user_name(user) or user
                except slack_api.SlackError as error:
                    if error.transient:
                        raise
                    names[user] = user
            message["user_name"] = names[user]
    return kept


def pull_channel_history(*, room_id: int) -> ChatImport | None:
    """Import the Slack channel's messages from impact start to resolution into the timeline (once)."""
    room = (
        IncidentChannel.objects.filter(pk=room_id, provider=ChatProvider.SLACK)
        .select_related("incident")
        .first()
    )
    if room is None or not room.channel_id:
        return None
    incident = room.incident
    latest = incident.resolved_at or timezone.now()
    try:
        messages = channel_messages(room, oldest=incident.impact_started_at, latest=latest)
    except slack_api.SlackError as error:
        if error.transient:
            raise ChatPending(
                f"History of #{room.name}: {error.error}", retry_after=error.retry_after
            ) from error
        logger.warning("Slack refused the history of #%s: %s", room.name, error.error)
        return None
    IncidentChannel.objects.filter(pk=room.pk).update(history_pulled_at=timezone.now())
    if not messages:
        return None
    try:
        return import_chat_log(
            incident=incident, text=json.dumps(messages), zone=ZoneInfo("UTC"), confirm_dates=True, user=None
        )
    except MorgueError as error:  # not one message with text (only joins, say)
        logger.info("Nothing to import from #%s: %s", room.name, error.message)
        return None


def incident_resolved(*, incident: Incident) -> None:
    """After an incident is resolved (any way): its Slack channel's messages go into the timeline."""
    room = IncidentChannel.objects.filter(incident=incident, provider=ChatProvider.SLACK).first()
    if room is not None:
        enqueue_on_commit(HISTORY_TASK, room.pk)


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
