"""Chat: a Slack-compatible incoming webhook (Mattermost, Rocket.Chat accept it), Teams, a team webhook.

Slack: https://api.slack.com/messaging/webhooks — POST JSON with `text` (mrkdwn
links as <url|label>). Teams: https://learn.microsoft.com/en-us/microsoftteams/platform/webhooks-and-connectors/how-to/connectors-using
— a message whose `attachments` hold one Adaptive Card
(`contentType: application/vnd.microsoft.card.adaptive`).
"""

from typing import Any

from .. import notify
from .base import DeliveryFailed, Message, Receipt, post_json


def slack_payload(message: Message) -> dict[str, Any]:
    lines = [f"*{message.title}*", message.text, f"<{message.link}|Open the page>"]
    if message.acknowledge_url:
        lines.append(f"<{message.acknowledge_url}|Acknowledge>")
    return {"text": "\n".join(lines)}


def teams_payload(message: Message) -> dict[str, Any]:
    actions: list[dict[str, str]] = [
        {"type": "Action.OpenUrl", "title": "Open the page", "url": message.link}
    ]
    if message.acknowledge_url:
        actions.insert(0, {"type": "Action.OpenUrl", "title": "Acknowledge", "url": message.acknowledge_url})
    card = {
        "$schema": "http://adaptivecards.io/schemas/adaptive-card.json",
        "type": "AdaptiveCard",
        "version": "1.4",
        "body": [
            {"type": "TextBlock", "text": message.title, "weight": "Bolder", "size": "Medium", "wrap": True},
            {"type": "TextBlock", "text": message.text, "wrap": True},
        ],
        "actions": actions,
    }
    return {
        "type": "message",
        "attachments": [
            {"contentType": "application/vnd.microsoft.card.adaptive", "contentUrl": None, "content": card}
        ],
    }


def post_slack(address: str, message: Message) -> Receipt:
    status, body = post_json(address, slack_payload(message))
    return Receipt(provider_id="", detail=f"HTTP {status} {body[:60].decode(errors='replace')}".strip())


def post_teams(address: str, message: Message) -> Receipt:
    status, _ = post_json(address, teams_payload(message))
    return Receipt(provider_id="", detail=f"HTTP {status}")


def post_team_webhook(address: str, message: Message) -> Receipt:
    """A team's own webhook: Morgue's JSON (page, team, level, user, message, acknowledge_url)."""
    payload = {**message.extra, "message": message.text, "acknowledge_url": message.link}
    try:
        status = notify.post_webhook(address, payload)
    except notify.WebhookRefused as error:
        raise DeliveryFailed(str(error), permanent=True) from error
    except notify.WebhookFailed as error:
        raise DeliveryFailed(str(error), permanent=error.permanent) from error
    return Receipt(provider_id="", detail=f"HTTP {status}")
