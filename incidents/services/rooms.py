"""Posting to an incident's own chat channel (incidents.models.chat.IncidentChannel).

One function per direction the fan-out needs: `post_to_room` sends one message
and raises oncall.providers.DeliveryFailed like every other subscriber channel,
so status updates and role changes reach the room through the same claimed
delivery as a subscriber's webhook (incidents.services.running). Slack goes
through the Web API (`chat.postMessage`, tagged with Morgue's message metadata
so the channel's history, read back at resolve, leaves Morgue's own posts out);
Mattermost through its incoming webhook, naming the channel.
"""

import json

from django.conf import settings

from incidents import slack_api
from incidents.models import ChatProvider, IncidentChannel
from oncall import notify
from oncall.providers import DeliveryFailed, Message

# The `event_type` of the metadata on Morgue's own Slack posts (https://api.slack.com/metadata).
METADATA_EVENT = "morgue_post"


def slack_text(message: Message) -> str:
    return f"*{message.title}*\n{message.text}\n<{message.link}|Open the incident in Morgue>"


def post_slack(
    *, channel_id: str, incident_id: int, text: str, blocks: list[dict[str, object]] | None = None
) -> str:
    """One chat.postMessage to a channel, tagged as Morgue's; the message's `ts`. Raises SlackError."""
    answer = slack_api.call(
        "chat.postMessage",
        channel=channel_id,
        text=text,
        blocks=blocks,
        unfurl_links=False,
        metadata={"event_type": METADATA_EVENT, "event_payload": {"incident": incident_id}},
    )
    return str(answer.get("ts") or "")


def post_mattermost(*, channel: str, text: str) -> None:
    """One post through the Mattermost incoming webhook to the named channel (a Slack-compatible payload)."""
    if not settings.MATTERMOST_WEBHOOK_URL:
        raise DeliveryFailed("MATTERMOST_WEBHOOK_URL is not set.", permanent=True)
    body = json.dumps({"channel": channel, "text": text, "username": "Morgue"}).encode()
    try:
        notify.post(settings.MATTERMOST_WEBHOOK_URL, body=body, headers={"Content-Type": "application/json"})
    except notify.WebhookRefused as error:
        raise DeliveryFailed(str(error), permanent=True) from error
    except notify.WebhookFailed as error:
        raise DeliveryFailed(str(error), permanent=error.permanent) from error


class RoomBusy(DeliveryFailed):
    """Slack asked Morgue to wait (429): retry no sooner than `retry_after` seconds."""

    def __init__(self, message: str, *, retry_after: float) -> None:
        super().__init__(message, permanent=False)
        self.retry_after = retry_after


def post_to_room(room: IncidentChannel, message: Message) -> None:
    """Send one message to the incident's channel; DeliveryFailed (permanent or not) when it did not go."""
    if room.provider == ChatProvider.MATTERMOST:
        post_mattermost(channel=room.name, text=slack_text(message))
        return
    if not room.channel_id:
        # The channel is still being created: the delivery is tried again after it.
        raise DeliveryFailed(f"#{room.name} is not set up yet ({room.get_setup_display()}).", permanent=False)
    try:
        post_slack(channel_id=room.channel_id, incident_id=room.incident_id, text=slack_text(message))
    except slack_api.SlackError as error:
        if error.retry_after is not None:
            raise RoomBusy(f"Slack: {error.error}", retry_after=error.retry_after) from error
        raise DeliveryFailed(f"Slack: {error.error}", permanent=not error.transient) from error
