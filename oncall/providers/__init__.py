"""The outside systems a notification goes out through, each behind one small interface.

`send(kind, address, message)` delivers one message and returns a `Receipt`,
or raises `DeliveryFailed`. Each provider is configured from the environment
(settings read at call time, so tests can point them at a local fake) and
every outbound call has a timeout and goes through `oncall.notify.post`
(morgue.outbound's SSRF rule, redirects re-checked, the checked address pinned).
Email is not here: it goes through `morgue.emails`, which keeps its own once-only claim.
"""

from collections.abc import Callable

from . import chat, ntfy, twilio
from .base import DeliveryFailed, Message, Receipt

SENDERS: dict[str, Callable[[str, Message], Receipt]] = {
    "sms": twilio.send_sms,
    "voice": twilio.call,
    "push": ntfy.publish,
    "slack": chat.post_slack,
    "teams": chat.post_teams,
    "webhook": chat.post_team_webhook,
}


def send(kind: str, address: str, message: Message) -> Receipt:
    """Deliver `message` to `address` by `kind`; raises DeliveryFailed."""
    sender = SENDERS.get(kind)
    if sender is None:
        raise DeliveryFailed(f"Nothing sends {kind!r} notifications.", permanent=True)
    return sender(address, message)


__all__ = ["DeliveryFailed", "Message", "Receipt", "send"]
