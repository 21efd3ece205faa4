"""Reaching a person: contact methods, notification rules, and each notification sent exactly once.

A page step plans one `Notification` row per method the person's rules name
(and one per team channel), each due after its rule's delay. Sending one is
claim, send, mark sent: a conditional UPDATE moves the row to "sending", so a
duplicated task, a retry and the sweep never send it twice. A failed send is
tried again with backoff (the task retries); when it keeps failing, or the
provider reports it undelivered, the person's next method is sent at once and
the page shows both. Acknowledging the page cancels what has not gone out.
"""

import datetime as dt
import logging
import secrets

from django.conf import settings
from django.contrib.auth.models import User
from django.core import signing
from django.db import IntegrityError, transaction
from django.db.models import F, Q
from django.urls import reverse
from django.utils import timezone

from morgue import audit, metrics
from morgue.emails import send_email, was_sent
from morgue.tasking import enqueue, enqueue_on_commit

from .. import contact, providers
from ..models import (
    ContactKind,
    ContactMethod,
    Notification,
    NotificationRule,
    NotificationStatus,
    Page,
    PageStatus,
    PageStep,
)

logger = logging.getLogger(__name__)

SEND_TASK = "oncall.tasks.send_notification"
PAGE_EMAIL = "oncall-page"
DRILL_EMAIL = "oncall-drill"
# A claim older than this belongs to a worker that died mid-send: far longer than any send's timeout.
CLAIM_LEASE = dt.timedelta(minutes=5)


def claim_lease() -> dt.timedelta:
    """CLAIM_LEASE, or the settings' NOTIFICATION_CLAIM_LEASE (the worker tests shorten it to seconds)."""
    lease = getattr(settings, "NOTIFICATION_CLAIM_LEASE", None)
    return lease if isinstance(lease, dt.timedelta) else CLAIM_LEASE


# The sweep leaves a due notification this long to its own task before sending it itself.
SWEEP_GRACE = dt.timedelta(minutes=1)
# How long a one-tap acknowledge link works.
ACKNOWLEDGE_LINK_AGE = dt.timedelta(hours=24)
ACKNOWLEDGE_SALT = "oncall.acknowledge"
# Twilio's word for a message or call that did not reach the person.
UNDELIVERED = {"failed", "undelivered", "no-answer", "busy", "canceled"}
DELIVERED = {"delivered", "completed"}
WAITING = (NotificationStatus.PENDING, NotificationStatus.RETRYING)


class RetryLater(Exception):
    """A send failed and will be tried again after `countdown` seconds (the task retries)."""

    def __init__(self, message: str, *, countdown: int) -> None:
        super().__init__(message)
        self.countdown = countdown


# ---- contact methods and rules ---------------------------------------------------------------


@transaction.atomic
def add_contact_method(*, user: User, kind: str, address: str, label: str = "") -> ContactMethod:
    """Add a way to reach `user`; raises contact.InvalidAddress for an address its kind cannot use."""
    address = contact.check_address(kind, address)
    method, created = ContactMethod.objects.get_or_create(
        user=user, kind=kind, address=address, defaults={"label": label}
    )
    if created:
        audit.record_created(method)
    return method


@transaction.atomic
def remove_contact_method(*, method: ContactMethod) -> None:
    """Remove a contact method and the rules that name it."""
    audit.record_deleted(method)
    method.delete()


@transaction.atomic
def add_notification_rule(
    *, user: User, contact_method: ContactMethod, delay_minutes: int
) -> NotificationRule:
    """Send to one of a person's methods this many minutes after a page names them (a method once)."""
    if contact_method.user_id != user.pk:
        raise contact.InvalidAddress("A rule can only name your own contact methods.")
    existing = NotificationRule.objects.filter(user=user, contact_method=contact_method).first()
    before = audit.values(existing) if existing is not None else None
    rule, _ = NotificationRule.objects.update_or_create(
        user=user, contact_method=contact_method, defaults={"delay_minutes": delay_minutes}
    )
    if before is None:
        audit.record_created(rule)
    else:
        audit.record_changes(rule, before=before, after=audit.values(rule))
    return rule


@transaction.atomic
def remove_notification_rule(*, rule: NotificationRule) -> None:
    """Remove one step of a person's rules."""
    audit.record_deleted(rule)
    rule.delete()


def _methods_and_rules(user: User) -> tuple[list[contact.Method], list[contact.Rule]]:
    methods = [
        contact.Method(id=method.pk, kind=method.kind, address=method.address)
        for method in ContactMethod.objects.filter(user=user)
    ]
    rules = [
        contact.Rule(method_id=rule.contact_method_id, delay_minutes=rule.delay_minutes)
        for rule in NotificationRule.objects.filter(user=user)
    ]
    if not methods and user.email:
        # A new person is emailed at once at their account's address.
        methods = [contact.Method(id=0, kind=ContactKind.EMAIL, address=user.email)]
    return methods, rules


# ---- one-tap acknowledge ------------------------------------------------------------------------


def acknowledge_token(*, page: Page, user: User) -> str:
    return signing.dumps({"page": page.pk, "user": user.pk}, salt=ACKNOWLEDGE_SALT, compress=True)


def acknowledge_url(*, page: Page, user: User) -> str:
    token = acknowledge_token(page=page, user=user)
    return settings.MORGUE_BASE_URL + reverse("oncall:one-tap", args=[token])


# ---- planning a step's notifications -------------------------------------------------------------


def plan_step_notifications(*, step_id: int, now: dt.datetime | None = None) -> PageStep | None:
    """Plan the notifications of the person a step names (and its team's channels), once.

    The step's `notified_at` and its notification rows are written in one
    transaction: a step is either planned with every row, or not at all (and
    its task or the sweep plans it). Each row then sends on its own.
    """
    now = now or timezone.now()
    with transaction.atomic():
        waiting = PageStep.objects.filter(
            pk=step_id, notified_at__isnull=True, user__isnull=False, page__status=PageStatus.OPEN
        )
        step = waiting.select_related("page__team", "team", "user").first()
        if step is None or step.user is None or not waiting.update(notified_at=now):
            return None
        key = f"step:{step.pk}"
        methods, rules = _methods_and_rules(step.user)
        for planned in contact.plan(methods, rules):
            _create(
                key=key,
                step=step,
                user=step.user,
                method=planned.method,
                due_at=now + dt.timedelta(minutes=planned.delay_minutes),
            )
        # The team's own channels, as before contact methods: its address and its webhook.
        if step.team.email:
            _create(
                key=key,
                step=step,
                user=None,
                method=contact.Method(0, ContactKind.EMAIL, step.team.email),
                due_at=now,
            )
        if step.team.webhook_url:
            _create(
                key=key,
                step=step,
                user=None,
                method=contact.Method(0, "webhook", step.team.webhook_url),
                due_at=now,
            )
    step.notified_at = now
    return step


def _create(
    *,
    key: str,
    step: PageStep | None,
    user: User | None,
    method: contact.Method,
    due_at: dt.datetime,
    fallback_for: Notification | None = None,
) -> Notification | None:
    """The row for one message (None when it exists), and its send task enqueued for when it is due."""
    try:
        with transaction.atomic():
            notification = Notification.objects.create(
                key=key,
                step=step,
                user=user,
                contact_method_id=method.id or None,
                kind=method.kind,
                address=method.address,
                due_at=due_at,
                fallback_for=fallback_for,
            )
    except IntegrityError:
        return None  # the same message is planned already (a duplicate method of the team and the person)
    countdown = max((due_at - timezone.now()).total_seconds(), 0)
    enqueue_on_commit(SEND_TASK, notification.pk, countdown=countdown or None)
    return notification


# ---- sending one -----------------------------------------------------------------------------------


def _message(notification: Notification) -> providers.Message:
    base = settings.MORGUE_BASE_URL
    status_callback = base + reverse("oncall:twilio-status", args=[notification.pk])
    step = notification.step
    if step is None:
        return providers.Message(
            title="Morgue test page: this is a fire drill, nothing is wrong",
            text="A test notification from your Morgue profile. Nothing to acknowledge.",
            link=base + reverse("profile"),
            acknowledge_url="",
            status_callback=status_callback,
        )
    page = step.page
    person = notification.user or step.user
    return providers.Message(
        title=contact.one_line(f"[Morgue page] {step.team.name} {step.level}: {page.message}", limit=200),
        text=page.message,
        link=base + reverse("oncall:page-detail", args=[page.pk]),
        acknowledge_url=acknowledge_url(page=page, user=person) if person else "",
        status_callback=status_callback,
        code=str(page.pk),
        extra={
            "page": page.pk,
            "team": step.team.slug,
            "level": step.level,
            "user": step.user.username if step.user else "",
        },
    )


def _send(notification: Notification, message: providers.Message) -> providers.Receipt | None:
    """Hand the message to its provider; None when another worker's email claim holds it."""
    if notification.kind != ContactKind.EMAIL:
        return providers.send(notification.kind, notification.address, message)
    email_key = f"notification:{notification.pk}"
    step = notification.step
    name = PAGE_EMAIL if step else DRILL_EMAIL
    context = {
        "page": step.page if step else None,
        "step": step,
        "link": message.link,
        "acknowledge_url": message.acknowledge_url,
        "code": message.code,
    }
    sent = send_email(name=name, key=email_key, to=[notification.address], context=context)
    if sent is None:
        return providers.Receipt("", "sent") if was_sent(name=name, key=email_key) else None
    return providers.Receipt(provider_id=str(sent.pk), detail="accepted by the mail server")


def send_notification(*, notification_id: int, now: dt.datetime | None = None) -> Notification | None:
    """Send one notification once: claim it, send, mark it sent; None when there is nothing to send.

    Raises RetryLater when a send failed and will be tried again; after
    MAX_ATTEMPTS, or a failure no retry mends, the person's next method is sent.
    """
    now = now or timezone.now()
    rows = Notification.objects.filter(pk=notification_id)
    notification = rows.select_related("step__page", "step__team", "step__user", "user").first()
    if notification is None:
        return None
    if notification.step is not None and notification.step.page.status != PageStatus.OPEN:
        # Answered (or over) before this went out: nobody needs waking.
        rows.filter(status__in=WAITING).update(status=NotificationStatus.CANCELLED)
        return None
    # Small slack for a task that runs a moment before its row's due time.
    claimable = Q(status__in=WAITING, due_at__lte=now + dt.timedelta(seconds=5)) | Q(
        status=NotificationStatus.SENDING, claimed_at__lt=now - claim_lease()
    )
    if not rows.filter(claimable).update(
        status=NotificationStatus.SENDING, claimed_at=now, attempts=F("attempts") + 1
    ):
        return None
    notification.refresh_from_db()
    try:
        receipt = _send(notification, _message(notification))
    except Exception as error:  # noqa: BLE001 - every failure of the edge is recorded and retried or moved on
        return _failed(notification, error=error, now=now)
    if receipt is None:
        return None  # another worker holds the email claim and marks it when sent
    metrics.notification_deliveries.labels(method=notification.kind, result="sent").inc()
    rows.filter(status=NotificationStatus.SENDING, claimed_at=notification.claimed_at).update(
        status=NotificationStatus.SENT,
        sent_at=timezone.now(),
        provider_id=receipt.provider_id,
        receipt=receipt.detail[:200],
        error="",
    )
    notification.refresh_from_db()
    return notification


def _failed(notification: Notification, *, error: Exception, now: dt.datetime) -> Notification:
    text = f"{type(error).__name__}: {error}"[:200]
    logger.warning("notification %s (%s) failed: %s", notification.pk, notification.kind, text)
    permanent = isinstance(error, providers.DeliveryFailed) and error.permanent
    rows = Notification.objects.filter(
        pk=notification.pk, status=NotificationStatus.SENDING, claimed_at=notification.claimed_at
    )
    retrying = not permanent and notification.attempts < contact.MAX_ATTEMPTS
    result = "retrying" if retrying else "failed"
    metrics.notification_deliveries.labels(method=notification.kind, result=result).inc()
    if retrying:
        countdown = contact.backoff_seconds(notification.attempts)
        rows.update(
            status=NotificationStatus.RETRYING, error=text, due_at=now + dt.timedelta(seconds=countdown)
        )
        raise RetryLater(text, countdown=countdown) from error
    rows.update(status=NotificationStatus.FAILED, error=text)
    notification.refresh_from_db()
    move_to_next_method(notification=notification, now=now)
    return notification


def move_to_next_method(*, notification: Notification, now: dt.datetime | None = None) -> Notification | None:
    """After a notification to a person failed, send their next method now (a planned one sooner)."""
    if notification.user is None or notification.step is None:
        return None  # a team channel or a drill: nothing to move to
    now = now or timezone.now()
    methods, rules = _methods_and_rules(notification.user)
    rows = {
        (row.kind, row.address): row
        for row in Notification.objects.filter(key=notification.key, user=notification.user)
    }
    # Tried: every method with a row, except one still waiting for its later delay.
    tried = {
        method.id
        for method in methods
        if (row := rows.get((method.kind, method.address))) is not None
        and not (row.status == NotificationStatus.PENDING and row.due_at > now)
    }
    method = contact.fallback(methods, rules, tried=tried)
    if method is None:
        return None
    row = rows.get((method.kind, method.address))
    if row is None:
        return _create(
            key=notification.key,
            step=notification.step,
            user=notification.user,
            method=method,
            due_at=now,
            fallback_for=notification,
        )
    sooner = Notification.objects.filter(pk=row.pk, status=NotificationStatus.PENDING, due_at__gt=now)
    if sooner.update(due_at=now, fallback_for=notification):
        enqueue_on_commit(SEND_TASK, row.pk)
        return row
    return None


def record_delivery_status(*, notification_id: int, status: str) -> Notification | None:
    """A provider's delivery report: kept when delivered; undelivered moves to the next method at once."""
    status = status.lower()
    rows = Notification.objects.filter(pk=notification_id)
    if status in DELIVERED:
        rows.filter(status=NotificationStatus.SENT).update(
            status=NotificationStatus.DELIVERED, receipt=status
        )
    elif status in UNDELIVERED:
        if rows.filter(status__in=[NotificationStatus.SENT, NotificationStatus.SENDING]).update(
            status=NotificationStatus.FAILED, error=f"The provider reports it {status}."
        ):
            notification = rows.select_related("step__page", "user").get()
            if notification.step is None or notification.step.page.status == PageStatus.OPEN:
                move_to_next_method(notification=notification)
    else:
        rows.filter(status=NotificationStatus.SENT).update(receipt=status[:200])
    return rows.first()


# ---- the sweep and the fire drill ------------------------------------------------------------------


def sweep_notifications(*, now: dt.datetime | None = None) -> int:
    """The safety net: enqueue notifications whose task the broker lost or never took."""
    now = now or timezone.now()
    lost = Notification.objects.filter(
        Q(status__in=WAITING, due_at__lte=now - SWEEP_GRACE)
        | Q(status=NotificationStatus.SENDING, claimed_at__lt=now - claim_lease())
    ).values_list("pk", flat=True)
    count = 0
    for notification_id in list(lost[:500]):
        try:
            enqueue(SEND_TASK, notification_id)
        except Exception as error:  # noqa: BLE001 - the broker is down: the next sweep tries again
            logger.warning("could not enqueue notification %s: %s", notification_id, error)
            break
        count += 1
    return count


@transaction.atomic
def fire_drill(*, user: User, now: dt.datetime | None = None) -> list[Notification]:
    """A test notification through every contact method of `user`, each with its own receipt."""
    now = now or timezone.now()
    key = f"drill:{user.pk}:{secrets.token_hex(6)}"
    methods, _ = _methods_and_rules(user)
    created = [_create(key=key, step=None, user=user, method=method, due_at=now) for method in methods]
    return [notification for notification in created if notification is not None]
