"""SMS and voice through a Twilio-compatible REST API.

Messages: https://www.twilio.com/docs/messaging/api/message-resource#create-a-message-resource
— POST form-encoded `To`, `From`, `Body`, `StatusCallback` to
`{TWILIO_API_URL}/2010-04-01/Accounts/{AccountSid}/Messages.json` with HTTP
Basic auth (Account SID, auth token); the answer is JSON with the `sid`.
Calls: https://www.twilio.com/docs/voice/api/call-resource#create-a-call-resource
— the same with `Twiml` instead of `Body` to `…/Calls.json`.
Status callbacks and inbound messages are signed with `X-Twilio-Signature`
(https://www.twilio.com/docs/usage/security#validating-requests), checked by
`signature_is_valid` with the `twilio` package's own RequestValidator.
"""

import base64
import json
from urllib.parse import urlencode
from xml.sax.saxutils import escape

from django.conf import settings

from .base import DeliveryFailed, Message, Receipt, post

SMS_LIMIT = 320


def _config() -> tuple[str, str, str, str]:
    sid = getattr(settings, "TWILIO_ACCOUNT_SID", "")
    token = getattr(settings, "TWILIO_AUTH_TOKEN", "")
    sender = getattr(settings, "TWILIO_FROM", "")
    if not (sid and token and sender):
        raise DeliveryFailed(
            "SMS and calls are not set up: TWILIO_ACCOUNT_SID, TWILIO_AUTH_TOKEN and TWILIO_FROM.",
            permanent=True,
        )
    base = getattr(settings, "TWILIO_API_URL", "https://api.twilio.com").rstrip("/")
    return base, sid, token, sender


def _create(resource: str, fields: dict[str, str]) -> Receipt:
    base, sid, token, sender = _config()
    credentials = base64.b64encode(f"{sid}:{token}".encode()).decode()
    status, body = post(
        f"{base}/2010-04-01/Accounts/{sid}/{resource}.json",
        body=urlencode({"From": sender, **fields}).encode(),
        headers={
            "Content-Type": "application/x-www-form-urlencoded",
            "Authorization": f"Basic {credentials}",
        },
    )
    try:
        answer = json.loads(body)
    except ValueError:
        answer = {}
    return Receipt(
        provider_id=str(answer.get("sid", ""))[:64], detail=f"HTTP {status} {answer.get('status', '')}"
    )


def sms_body(message: Message) -> str:
    tail = f" Ack: {message.acknowledge_url}" if message.acknowledge_url else ""
    if message.code:
        tail += f" or reply ACK {message.code}"
    room = max(SMS_LIMIT - len(tail), 40)
    head = " ".join(f"{message.title}".split())
    if len(head) > room:
        head = head[: room - 1] + "…"
    return head + tail


def send_sms(address: str, message: Message) -> Receipt:
    fields = {"To": address, "Body": sms_body(message)}
    if message.status_callback:
        fields["StatusCallback"] = message.status_callback
    return _create("Messages", fields)


def twiml(message: Message) -> str:
    said = escape(" ".join(message.title.split()))
    return f'<Response><Say>Morgue page. {said}</Say><Pause length="1"/><Say>{said}</Say></Response>'


def call(address: str, message: Message) -> Receipt:
    fields = {"To": address, "Twiml": twiml(message)}
    if message.status_callback:
        fields["StatusCallback"] = message.status_callback
        fields["StatusCallbackEvent"] = "completed"
    return _create("Calls", fields)


def signature_is_valid(url: str, params: dict[str, str], signature: str) -> bool:
    """Whether Twilio (holding our auth token) signed this request."""
    from twilio.request_validator import RequestValidator  # type: ignore[import-untyped]

    token = getattr(settings, "TWILIO_AUTH_TOKEN", "")
    return bool(token and signature) and RequestValidator(token).validate(url, params, signature)
