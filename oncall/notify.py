"""The edge a page goes out through besides email (morgue.emails): a team's webhook, with a timeout."""

import ipaddress
import json
import logging
import socket
import urllib.request
from urllib.parse import urlsplit

from django.conf import settings

logger = logging.getLogger(__name__)

WEBHOOK_TIMEOUT_SECONDS = 5


class WebhookRefused(Exception):
    pass


def check_webhook_address(url: str) -> None:
    """Refuse webhook targets inside our own network (no SSRF through a team's settings)."""
    parts = urlsplit(url)
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise WebhookRefused(f"{url} is not an http(s) address.")
    if getattr(settings, "MORGUE_WEBHOOK_ALLOW_PRIVATE", False):
        return
    try:
        addresses = {info[4][0] for info in socket.getaddrinfo(parts.hostname, parts.port or 443)}
    except OSError as error:
        raise WebhookRefused(f"{parts.hostname} does not resolve.") from error
    # Tests talk to loopback fakes: this setting (never read from the environment) lets loopback only through.
    loopback_allowed = getattr(settings, "MORGUE_OUTBOUND_ALLOW_LOOPBACK", False)
    for address in addresses:
        # An IPv6 address may carry a zone (fe80::1%eth0); the stubs allow an int for other families.
        ip = ipaddress.ip_address(str(address).split("%")[0])
        if ip.is_loopback and loopback_allowed:
            continue
        if ip.is_private or ip.is_loopback or ip.is_link_local or ip.is_reserved or ip.is_multicast:
            raise WebhookRefused(f"{parts.hostname} points inside the private network.")


def post_webhook(url: str, payload: dict) -> int:
    """POST JSON to a team's webhook and return the HTTP status; raises on failure."""
    check_webhook_address(url)
    request = urllib.request.Request(  # noqa: S310 - scheme checked above
        url,
        data=json.dumps(payload).encode(),
        headers={"Content-Type": "application/json", "User-Agent": "Morgue"},
        method="POST",
    )
    with urllib.request.urlopen(request, timeout=WEBHOOK_TIMEOUT_SECONDS) as response:  # noqa: S310
        return response.status
