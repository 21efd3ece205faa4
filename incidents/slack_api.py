"""Slack, the one module that talks to it: request signatures in, Web API calls out.

Inbound (https://api.slack.com/authentication/verifying-requests-from-slack):
Slack signs each request with `X-Slack-Signature: v0=<hex HMAC-SHA256 of
"v0:{X-Slack-Request-Timestamp}:{raw body}" under the signing secret>`; a
timestamp more than five minutes from now is a replay and refused.

Outbound (https://api.slack.com/web): `POST {SLACK_API_URL}/{method}` with the
bot token as `Authorization: Bearer`, form-encoded arguments (every method takes
them; JSON bodies are refused by some read methods), and an answer
`{"ok": true, …}` or `{"ok": false, "error": "…"}` with HTTP 200. A rate-limited
call is answered 429 with `Retry-After` (seconds), which the caller must wait
out (https://api.slack.com/apis/rate-limits). The calls go through
morgue.outbound's rule (resolved once, checked, pinned), with a timeout.
"""

import hashlib
import hmac
import http.client
import json
import logging
from typing import Any
from urllib.parse import urlencode

from django.conf import settings

from morgue import outbound

logger = logging.getLogger(__name__)

REPLAY_WINDOW_SECONDS = 5 * 60
TIMEOUT_SECONDS = 5
MAX_ANSWER_BYTES = 4 * 1024 * 1024
# Slack's own errors that may pass on a retry; every other `error` is the request's fault.
TRANSIENT_ERRORS = {"ratelimited", "internal_error", "fatal_error", "service_unavailable", "request_timeout"}


class SlackError(Exception):
    """A Web API call that failed: Slack's `error` code, whether a retry may pass, how long to wait first."""

    def __init__(self, error: str, *, transient: bool = False, retry_after: float | None = None) -> None:
        super().__init__(error)
        self.error = error
        self.transient = transient
        self.retry_after = retry_after


def signature_problem(*, secret: str, timestamp: str, body: bytes, signature: str, now: float) -> str:
    """Why a request is not Slack's own, in a sentence; "" when the signature and time are right."""
    if not secret:
        return "Slack requests are not accepted: SLACK_SIGNING_SECRET is not set."
    try:
        sent_at = int(timestamp)
    except ValueError:
        return "The request has no X-Slack-Request-Timestamp."
    if abs(now - sent_at) > REPLAY_WINDOW_SECONDS:
        return "The request's timestamp is more than five minutes away from now; it may be a replay."
    base = b"v0:" + timestamp.encode() + b":" + body
    expected = "v0=" + hmac.new(secret.encode(), base, hashlib.sha256).hexdigest()
    if not hmac.compare_digest(expected.encode(), signature.encode()):
        return "The request's X-Slack-Signature does not match its body."
    return ""


def configured() -> bool:
    return bool(settings.SLACK_BOT_TOKEN)


def _loopback_allowed() -> bool:
    # Tests talk to a loopback fake: this setting (never read from the environment) lets loopback through.
    return bool(getattr(settings, "MORGUE_OUTBOUND_ALLOW_LOOPBACK", False))


def _post(url: str, body: bytes, headers: dict[str, str], timeout: float) -> tuple[int, str, bytes]:
    """POST under morgue.outbound's rule; (status, Retry-After, body). Slack's API does not redirect."""
    target = outbound.split(url)
    address = outbound.resolve(target.host, target.port, allow_loopback=_loopback_allowed())
    connection = outbound.pinned_connection(target, address, timeout)
    try:
        connection.request("POST", target.path, body=body, headers=headers)
        response = connection.getresponse()
        return response.status, response.getheader("Retry-After") or "", response.read(MAX_ANSWER_BYTES)
    except (OSError, http.client.HTTPException) as error:
        raise outbound.OutboundError(
            f"{target.host}: {type(error).__name__}: {error}", transient=True
        ) from error
    finally:
        connection.close()


def _form_value(value: object) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, (dict, list)):
        return json.dumps(value)
    return str(value)


def call(method: str, *, timeout: float = TIMEOUT_SECONDS, **arguments: object) -> dict[str, Any]:
    """Call one Web API method with the bot token; Slack's answer when `ok`, else SlackError."""
    if not settings.SLACK_BOT_TOKEN:
        raise SlackError("not_configured")
    url = f"{settings.SLACK_API_URL.rstrip('/')}/{method}"
    body = urlencode({name: _form_value(value) for name, value in arguments.items() if value is not None})
    headers = {
        "Authorization": f"Bearer {settings.SLACK_BOT_TOKEN}",
        "Content-Type": "application/x-www-form-urlencoded; charset=utf-8",
        "User-Agent": "Morgue",
    }
    try:
        status, retry_after, answer = _post(url, body.encode(), headers, timeout)
    except outbound.AddressRefused as error:
        logger.warning("Slack API address refused: %s", error.reason)
        raise SlackError("address_refused") from error
    except outbound.OutboundError as error:
        logger.warning("Slack API %s unreachable: %s", method, error.reason)
        raise SlackError("unreachable", transient=True) from error
    if status == 429:
        try:
            wait = max(1.0, float(retry_after))
        except ValueError:
            wait = 30.0
        raise SlackError("ratelimited", transient=True, retry_after=wait)
    if status >= 500:
        raise SlackError(f"http_{status}", transient=True)
    try:
        data = json.loads(answer)
    except ValueError as error:
        raise SlackError(f"http_{status}_not_json", transient=status >= 500) from error
    if not isinstance(data, dict):
        raise SlackError("not_an_object")
    if not data.get("ok"):
        error_code = str(data.get("error") or f"http_{status}")
        raise SlackError(error_code, transient=error_code in TRANSIENT_ERRORS)
    return data


def user_email(user_id: str) -> str:
    """The e-mail address of a Slack user (users.info; needs the users:read.email scope), or ""."""
    user = call("users.info", user=user_id, timeout=2.5).get("user")
    profile = user.get("profile") if isinstance(user, dict) else None
    return str(profile.get("email") or "") if isinstance(profile, dict) else ""


def user_name(user_id: str) -> str:
    """How the chat shows a Slack user: display name, else real name, else the handle."""
    user = call("users.info", user=user_id).get("user") or {}
    profile = user.get("profile") or {}
    return str(
        profile.get("display_name")
        or profile.get("real_name")
        or user.get("real_name")
        or user.get("name")
        or ""
    )


def user_id_for_email(email: str) -> str:
    """The Slack user with this e-mail address (users.lookupByEmail), or "" when there is none."""
    try:
        user = call("users.lookupByEmail", email=email).get("user") or {}
    except SlackError as error:
        if error.error == "users_not_found":
            return ""
        raise
    return str(user.get("id") or "")
