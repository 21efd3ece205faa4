"""Morgue's emails: rendered from templates/emails/<name>-*, and each one sent once.

Every email goes through `send_email`, which follows one delivery policy:
claim, then send. The claim is an `EmailDelivery` row, unique per (name, key,
recipient, sequence), inserted and committed before the message leaves, so a
retried, redelivered or duplicated task finds it and sends nothing. A send
that raises marks the claim failed and re-raises: the task's retry (or a
sweep) claims it again and sends. A claim left "sending" by a worker that
died mid-send may be taken again once CLAIM_LEASE has passed.

Call it outside `transaction.atomic`: inside one, the claim is not visible
to other workers until the outer transaction commits, and a failure rolls the
failed mark back with everything else (a retry still sends, but nothing
records that it failed).
"""

import datetime as dt
import logging
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from email.utils import formataddr, parseaddr
from typing import Any

from django.conf import settings
from django.core.mail import EmailMultiAlternatives
from django.db import IntegrityError, transaction
from django.db.models import F, Q
from django.template.loader import render_to_string
from django.utils import timezone

from .models import DeliveryStatus, EmailDelivery

logger = logging.getLogger(__name__)

# Far longer than any send takes (settings.EMAIL_TIMEOUT bounds the SMTP
# connection at seconds): a claim this old belongs to a worker that died. No
# longer than a page notification's lease (NOTIFICATION_CLAIM_LEASE, 5 minutes),
# so a page email lost with its worker goes out when that lease ends.
CLAIM_LEASE = dt.timedelta(minutes=4)


def claim_lease() -> dt.timedelta:
    """CLAIM_LEASE, or the settings' EMAIL_CLAIM_LEASE (EMAIL_CLAIM_LEASE_SECONDS)."""
    lease = getattr(settings, "EMAIL_CLAIM_LEASE", None)
    return lease if isinstance(lease, dt.timedelta) else CLAIM_LEASE


Context = Mapping[str, Any] | Callable[[], Mapping[str, Any]]


@dataclass(frozen=True)
class Attachment:
    filename: str
    content: bytes | str
    mimetype: str


@dataclass(frozen=True)
class Alternative:
    """Another form of the body, after the HTML one: an invitation as `text/calendar; method=REQUEST`."""

    content: str
    mimetype: str


@dataclass(frozen=True)
class RenderedEmail:
    subject: str
    text: str
    html: str


def render_email(name: str, context: Mapping[str, Any]) -> RenderedEmail:
    """The subject (one line), plain-text body and HTML body of `templates/emails/<name>-*`."""
    # A header cannot span lines: a multi-line page message or a title with a
    # newline would make the send fail, so the subject's whitespace is folded.
    subject = " ".join(render_to_string(f"emails/{name}-subject.txt", context).split())
    return RenderedEmail(
        subject=subject,
        text=render_to_string(f"emails/{name}-body.txt", context),
        html=render_to_string(f"emails/{name}-body.html", context),
    )


def _without_charset(mimetype: str) -> str:
    """The type without a charset parameter: Django adds its own to text parts.

    `text/calendar; method=REQUEST; charset=utf-8` would otherwise go out with
    two charsets, and calendar clients may then ignore the invitation.
    """
    pieces = [piece.strip() for piece in mimetype.split(";")]
    return "; ".join(piece for piece in pieces if not piece.lower().startswith("charset="))


def build_message(
    rendered: RenderedEmail,
    *,
    to: list[str],
    attachments: Iterable[Attachment] = (),
    alternatives: Iterable[Alternative] = (),
    from_email: str | None = None,
    reply_to: Sequence[str] = (),
) -> EmailMultiAlternatives:
    """The message with its plain-text body, its HTML alternative, other alternatives and its attachments."""
    message = EmailMultiAlternatives(
        subject=rendered.subject, body=rendered.text, to=to, from_email=from_email, reply_to=list(reply_to)
    )
    message.attach_alternative(rendered.html, "text/html")
    for alternative in alternatives:
        message.attach_alternative(alternative.content, _without_charset(alternative.mimetype))
    for attachment in attachments:
        message.attach(attachment.filename, attachment.content, _without_charset(attachment.mimetype))
    return message


def on_behalf_of(name: str) -> str:
    """An address the server may send from, named for whom it sends: "Dana Reyes via Morgue" <morgue@…>."""
    server_name, address = parseaddr(settings.DEFAULT_FROM_EMAIL)
    return formataddr((f"{name} via {server_name or 'Morgue'}", address))


def send_email(
    *,
    name: str,
    key: str,
    to: Iterable[str],
    context: Context,
    recipient: str = "",
    sequence: int = 0,
    attachments: Iterable[Attachment] = (),
    alternatives: Iterable[Alternative] = (),
    from_email: str | None = None,
    reply_to: Sequence[str] = (),
) -> EmailDelivery | None:
    """Send email `name` about `key` once; None when it was sent already or another worker is sending it.

    `context` may be a function, called only once the claim is won, when
    building it costs queries. A failure to render or send marks the claim
    failed and raises, so a retry sends it.
    """
    addresses = list(to)
    if not addresses:
        raise ValueError(f"The {name} email about {key} has nobody to go to.")
    delivery = _claim(
        name=name, key=key, recipient=recipient, sequence=sequence, recipient_count=len(addresses)
    )
    if delivery is None:
        logger.info("%s email about %s (sequence %s) was already sent or is being sent", name, key, sequence)
        return None
    try:
        rendered = render_email(name, context() if callable(context) else context)
        message = build_message(
            rendered,
            to=addresses,
            attachments=attachments,
            alternatives=alternatives,
            from_email=from_email,
            reply_to=reply_to,
        )
        message.send()
    except Exception as error:
        # Only our own claim: a worker that took it over after the lease keeps its own.
        EmailDelivery.objects.filter(
            pk=delivery.pk, status=DeliveryStatus.SENDING, claimed_at=delivery.claimed_at
        ).update(status=DeliveryStatus.FAILED, error=f"{type(error).__name__}: {error}"[:200])
        raise
    delivery.status = DeliveryStatus.SENT
    delivery.sent_at = timezone.now()
    EmailDelivery.objects.filter(pk=delivery.pk).update(status=delivery.status, sent_at=delivery.sent_at)
    return delivery


def was_sent(*, name: str, key: str, recipient: str = "", sequence: int = 0) -> bool:
    """Whether this email has gone out (by any worker)."""
    return (
        EmailDelivery.objects.of(name=name, key=key, recipient=recipient, sequence=sequence).sent().exists()
    )


def _claim(
    *, name: str, key: str, recipient: str, sequence: int, recipient_count: int
) -> EmailDelivery | None:
    """Claim the delivery for this worker, or None when it is sent or someone else holds it."""
    now = timezone.now()
    identity = {"name": name, "key": key, "recipient": recipient, "sequence": sequence}
    try:
        # The unique constraint decides between two workers inserting at once.
        with transaction.atomic():
            return EmailDelivery.objects.create(
                **identity, status=DeliveryStatus.SENDING, recipient_count=recipient_count, claimed_at=now
            )
    except IntegrityError:
        pass
    # A conditional UPDATE decides between two workers retrying at once.
    retryable = Q(status=DeliveryStatus.FAILED) | Q(
        status=DeliveryStatus.SENDING, claimed_at__lt=now - claim_lease()
    )
    taken = (
        EmailDelivery.objects.of(name=name, key=key, recipient=recipient, sequence=sequence)
        .filter(retryable)
        .update(
            status=DeliveryStatus.SENDING,
            claimed_at=now,
            attempts=F("attempts") + 1,
            recipient_count=recipient_count,
            error="",
        )
    )
    if not taken:
        return None
    return EmailDelivery.objects.of(name=name, key=key, recipient=recipient, sequence=sequence).get()
