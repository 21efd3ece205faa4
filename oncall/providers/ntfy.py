"""Push through ntfy: https://docs.ntfy.sh/publish/

POST the text to `{NTFY_URL}/{topic}` with `Title`, `Priority: urgent`,
`Click` (the page) and `Actions` (an `http` action that POSTs the one-tap
acknowledge link, so the notification's button acknowledges without opening
anything); `Authorization: Bearer NTFY_TOKEN` when a token is set.
"""

import json

from django.conf import settings

from .base import DeliveryFailed, Message, Receipt, post


def headers_for(message: Message) -> dict[str, str]:
    # Header values must be one line of latin-1: the title is folded and, like
    # ntfy's docs suggest for non-ASCII, sent RFC 2047-encoded when it needs to be.
    title = " ".join(message.title.split())
    try:
        title.encode("latin-1")
    except UnicodeEncodeError:
        from email.header import Header

        title = Header(title, "utf-8").encode()
    headers = {"Title": title, "Priority": "urgent", "Tags": "rotating_light", "Click": message.link}
    if message.acknowledge_url:
        headers["Actions"] = f"http, Acknowledge, {message.acknowledge_url}, method=POST, clear=true"
    token = getattr(settings, "NTFY_TOKEN", "")
    if token:
        headers["Authorization"] = f"Bearer {token}"
    return headers


def publish(address: str, message: Message) -> Receipt:
    base = getattr(settings, "NTFY_URL", "")
    if not base:
        raise DeliveryFailed("Push is not set up: NTFY_URL is empty.", permanent=True)
    status, body = post(
        f"{base.rstrip('/')}/{address}", body=message.text.encode(), headers=headers_for(message)
    )
    try:
        event_id = str(json.loads(body).get("id", ""))
    except (ValueError, AttributeError):
        event_id = ""
    return Receipt(provider_id=event_id[:64], detail=f"HTTP {status}")
