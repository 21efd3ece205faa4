"""The edge a page goes out through besides email (morgue.emails): a team's webhook, chat and push URLs.

Every call goes through morgue.outbound (the one rule for addresses someone
typed): resolved once, every address checked, the connection pinned to the
checked address, redirects followed only after checking their target. A person
sees a generic sentence when the other end cannot be reached; the detail (which
address, which port, refused or timed out) goes to the log only, so the form
cannot be used to scan ports inside the network.
"""

import json
import logging

from django.conf import settings

from morgue import outbound

logger = logging.getLogger(__name__)

WEBHOOK_TIMEOUT_SECONDS = 5
UNREACHABLE = "The webhook could not be reached."
PRIVATE = "The webhook address points inside the private network or is not a public address."


class WebhookRefused(Exception):
    """The address is not one Morgue calls; retrying will not help."""


class WebhookFailed(Exception):
    """The call did not succeed; `permanent` when retrying will not help (a 4xx)."""

    def __init__(self, message: str, *, permanent: bool = False) -> None:
        super().__init__(message)
        self.permanent = permanent


def _loopback_allowed() -> bool:
    # Tests talk to loopback fakes: this setting (never read from the environment) lets loopback only through.
    return bool(getattr(settings, "MORGUE_OUTBOUND_ALLOW_LOOPBACK", False))


def check_webhook_address(url: str) -> None:
    """Refuse webhook targets that are not http(s) or not public (no SSRF through a team's settings)."""
    try:
        target = outbound.split(url)
        outbound.resolve(target.host, target.port, allow_loopback=_loopback_allowed())
    except outbound.PrivateAddress as error:
        logger.warning("webhook address refused: %s", error.reason)
        raise WebhookRefused(PRIVATE) from error
    except outbound.AddressRefused as error:
        raise WebhookRefused(error.reason) from error
    except outbound.OutboundError as error:
        logger.warning("webhook address %s: %s", url.split("?")[0], error.reason)
        raise WebhookRefused(UNREACHABLE) from error


def post(
    url: str, *, body: bytes, headers: dict[str, str], timeout: float = WEBHOOK_TIMEOUT_SECONDS
) -> tuple[int, bytes]:
    """POST to an outside address under morgue.outbound's rule; the status and body of a 2xx or 3xx.

    Raises WebhookRefused (a refused address, also as a redirect target) or
    WebhookFailed (unreachable, too slow, or an HTTP error status).
    """
    try:
        status, answer = outbound.post(
            url,
            body=body,
            headers={"User-Agent": "Morgue", **headers},
            timeout=timeout,
            allow_loopback=_loopback_allowed(),
        )
    except outbound.PrivateAddress as error:
        logger.warning("outbound call to %s refused: %s", url.split("?")[0], error.reason)
        raise WebhookRefused(PRIVATE) from error
    except outbound.AddressRefused as error:
        raise WebhookRefused(error.reason) from error
    except outbound.OutboundError as error:
        logger.warning("outbound call to %s failed: %s", url.split("?")[0], error.reason)
        raise WebhookFailed(UNREACHABLE) from error
    if status >= 400:
        # A 4xx will not succeed on retry (bad number, revoked webhook); 408, 429 and 5xx may.
        permanent = status < 500 and status not in (408, 429)
        raise WebhookFailed(f"HTTP {status} from {url.split('?')[0]}", permanent=permanent)
    return status, answer


def post_webhook(url: str, payload: dict) -> int:
    """POST JSON to a team's webhook and return the HTTP status; raises WebhookRefused or WebhookFailed."""
    status, _ = post(url, body=json.dumps(payload).encode(), headers={"Content-Type": "application/json"})
    return status
