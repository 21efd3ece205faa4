"""What every provider shares: the message, the receipt, the failure, and one HTTP POST with a timeout."""

import json
from dataclasses import dataclass, field
from typing import Any

from .. import notify

TIMEOUT_SECONDS = 10


@dataclass(frozen=True)
class Message:
    """What a notification says, ready for any channel."""

    title: str  # one line
    text: str  # the page's message as written
    link: str  # the page in Morgue
    acknowledge_url: str  # the signed one-tap link (empty for a drill)
    status_callback: str = ""  # where a provider reports delivery (Twilio StatusCallback)
    code: str = ""  # what to reply to an SMS to acknowledge ("ACK <code>")
    extra: dict[str, Any] = field(default_factory=dict)  # a team webhook's own fields


@dataclass(frozen=True)
class Receipt:
    provider_id: str
    detail: str


class DeliveryFailed(Exception):
    """A send that did not go out. Permanent failures (a 4xx, a refused address) are not retried."""

    def __init__(self, message: str, *, permanent: bool = False) -> None:
        super().__init__(message)
        self.permanent = permanent


def post(
    url: str, *, body: bytes, headers: dict[str, str], timeout: float = TIMEOUT_SECONDS
) -> tuple[int, bytes]:
    """POST under the SSRF rule (oncall.notify.post); the status and body, or DeliveryFailed."""
    try:
        return notify.post(url, body=body, headers=headers, timeout=timeout)
    except notify.WebhookRefused as error:
        raise DeliveryFailed(str(error), permanent=True) from error
    except notify.WebhookFailed as error:
        raise DeliveryFailed(str(error), permanent=error.permanent) from error


def post_json(url: str, payload: dict[str, Any], headers: dict[str, str] | None = None) -> tuple[int, bytes]:
    return post(
        url,
        body=json.dumps(payload).encode(),
        headers={"Content-Type": "application/json", **(headers or {})},
    )
