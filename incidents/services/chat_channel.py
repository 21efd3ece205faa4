"""An incident's Slack channel: set up once, read back into the timeline at resolution.

The setup runs in a task after the declaration commits (`set_up_slack_channel`:
conversations.create, conversations.invite of the role holders, chat.postMessage
of the incident card), each step stored as it is done, so a retry does only what
is left; a beat sweep enqueues setups whose task was lost. When the incident is
resolved (from the chat, the page or the API), `pull_channel_history` reads the
channel (conversations.history and the threads' conversations.replies, between
impact start and resolution), names the speakers (users.info), leaves out
Morgue's own posts (tagged with message metadata), and imports the rest into
the timeline through the chat-log import, with its skipping rules and its
de-duplication.
"""

import datetime as dt
import json
import logging
from typing import Any
from zoneinfo import ZoneInfo

from django.conf import settings
from django.db.models import F, Q
from django.utils import timezone
from django.utils.text import slugify

from incidents import slack_api
from incidents.models import ChannelSetup, ChatProvider, Incident, IncidentChannel, RoleAssignment
from morgue.exceptions import MorgueError
from morgue.models import display_name
from morgue.tasking import enqueue, enqueue_on_commit

from .chatlog import ChatImport, import_chat_log
from .rooms import METADATA_EVENT, post_slack

logger = logging.getLogger(__name__)

SET_UP_TASK = "incidents.tasks.chat.set_up_slack_channel"
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


# --- Setting up a Slack channel ------------------------------------------------------


def channel_name(incident: Incident) -> str:
    """`inc-<id>-<slug of the title>`, within Slack's rules (lower case, digits, - and _; 80 characters)."""
    name = f"inc-{incident.pk}-{slugify(incident.title)}"[:MAX_CHANNEL_NAME]
    return name.rstrip("-_")


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
