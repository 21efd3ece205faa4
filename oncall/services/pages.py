"""Paging a team and escalating until someone acknowledges."""

import datetime as dt
import logging
from typing import Any

from django.conf import settings
from django.contrib.auth.models import User
from django.db import transaction
from django.urls import reverse
from django.utils import timezone

from morgue import metrics
from morgue.emails import send_email, was_sent
from morgue.tasking import enqueue_on_commit

from ..exceptions import PageClosed
from ..models import (
    Level,
    Page,
    PageStatus,
    PageStep,
    Shift,
    Team,
)
from ..selectors import person_on_call
from .notifications import plan_step_notifications
from .rotations import DEFAULT_ESCALATION_MINUTES

logger = logging.getLogger(__name__)

# Enqueued by name: tasks import services, never the other way round.
NOTIFY_TASK = "oncall.tasks.notify_page_step"
ESCALATE_TASK = "oncall.tasks.escalate_page_step"
RESOLVED_TASK = "oncall.tasks.notify_page_resolved"
# The alerts review silences (and expires) a page's alerts in their Alertmanager.
SILENCE_TASK = "alerts_review.tasks.silence_for_page"
EXPIRE_SILENCES_TASK = "alerts_review.tasks.expire_silences"
PAGE_EMAIL = "oncall-page"
RESOLVED_EMAIL = "oncall-page-resolved"
# A resolution notice whose task was lost is sent by the sweep this long after; older ones are history.
RESOLVED_NOTICE_HORIZON = dt.timedelta(days=1)


@transaction.atomic
def page_team(
    *,
    team: Team,
    message: str,
    created_by: User | None = None,
    # An incidents.Incident: oncall sits below incidents, so it cannot name the type.
    incident: Any = None,
    now: dt.datetime | None = None,
) -> Page:
    """Page a team: its current L1 is notified now; escalation runs until someone acknowledges."""
    now = now or timezone.now()
    page = Page.objects.create(
        team=team, message=message, created_by=created_by, incident=incident, created_at=now
    )
    _open_step(page=page, number=1, team=team, level=Level.L1, now=now)
    metrics.count_on_commit(metrics.pages_opened, team=team.slug)
    return page


def _timeout_for(team: Team, now: dt.datetime) -> dt.timedelta:
    shift = Shift.objects.covering(now).filter(rotation__team=team).select_related("rotation").first()
    rotation = shift.rotation if shift else team.rotations.first()
    minutes = rotation.escalation_timeout_minutes if rotation else DEFAULT_ESCALATION_MINUTES
    return dt.timedelta(minutes=minutes)


def _open_step(*, page: Page, number: int, team: Team, level: str, now: dt.datetime) -> PageStep:
    user = person_on_call(team=team, at=now, level=level)
    step = PageStep.objects.create(
        page=page,
        number=number,
        team=team,
        level=level,
        user=user,
        created_at=now,
        due_at=now + (_timeout_for(team, now) if user else dt.timedelta()),
        note="" if user else f"Nobody is {level} for {team} right now.",
    )
    if user is None:
        # Nobody to wait for: go straight to the next rung.
        escalate_page(page_id=page.pk, step_number=number, now=now)
        return step
    delay = (step.due_at - now).total_seconds()
    enqueue_on_commit(NOTIFY_TASK, step.pk)
    enqueue_on_commit(ESCALATE_TASK, page.pk, number, countdown=delay)
    return step


def _next_rung(page: Page, step: PageStep) -> tuple[Team, str] | None:
    if step.team_id == page.team_id:
        if step.level == Level.L1 and page.team.rotations.filter(has_l2=True).exists():
            return page.team, Level.L2
        fallback = page.team.escalation_team()
        if fallback is not None:
            return fallback, Level.L1
    return None


@transaction.atomic
def escalate_page(*, page_id: int, step_number: int, now: dt.datetime | None = None) -> PageStep | None:
    """Move a page on from a step that ran out; a no-op if it was acknowledged or already moved on."""
    now = now or timezone.now()
    claimed = PageStep.objects.filter(
        page_id=page_id,
        number=step_number,
        escalated_at__isnull=True,
        due_at__lte=now,
        page__status=PageStatus.OPEN,
    ).update(escalated_at=now)
    if not claimed:
        return None
    page = Page.objects.select_related("team").get(pk=page_id)
    step = page.steps.get(number=step_number)
    rung = _next_rung(page, step)
    if rung is None:
        Page.objects.filter(pk=page.pk, status=PageStatus.OPEN).update(status=PageStatus.EXHAUSTED)
        return None
    team, level = rung
    return _open_step(page=page, number=step_number + 1, team=team, level=level, now=now)


def notify_step(*, step_id: int, now: dt.datetime | None = None) -> PageStep | None:
    """Notify the person a step names by their rules (and the team's channels), once; nothing if acknowledged.

    How a person is reached lives in `oncall.services.notifications`.
    """
    return plan_step_notifications(step_id=step_id, now=now)


@transaction.atomic
def acknowledge_page(*, page: Page, user: User, silence: bool = True, now: dt.datetime | None = None) -> Page:
    """Stop a page's escalation; acknowledging twice changes nothing.

    Only an open page (Page.can_be_acknowledged) is acknowledged: one that ran
    out or resolved raises PageClosed. With `silence`, its alerts from an
    Alertmanager with a URL are silenced there until they resolve
    (alerts_review.silences; a no-op for other pages).
    """
    now = now or timezone.now()
    team_slug = page.team.slug  # before refresh_from_db forgets the team
    # The conditional UPDATE is the claim: a late escalation or a second tap sees the new status.
    claimed = Page.objects.filter(pk=page.pk, status=PageStatus.OPEN).update(
        status=PageStatus.ACKNOWLEDGED, acknowledged_by=user, acknowledged_at=now
    )
    page.refresh_from_db()
    if not claimed and page.why_not_acknowledgeable():
        raise PageClosed(page.why_not_acknowledgeable())
    if claimed and silence:
        enqueue_on_commit(SILENCE_TASK, page.pk, user.get_username())
    if claimed:
        metrics.count_on_commit(metrics.pages_acknowledged, team=team_slug)
    return page


@transaction.atomic
def resolve_page(*, page: Page, now: dt.datetime | None = None) -> Page:
    """End a page: escalation stops and the people it reached are told; resolving twice changes nothing."""
    now = now or timezone.now()
    claimed = (
        Page.objects.filter(pk=page.pk)
        .exclude(status=PageStatus.RESOLVED)
        .update(status=PageStatus.RESOLVED, resolved_at=now)
    )
    if claimed:
        enqueue_on_commit(RESOLVED_TASK, page.pk)
        enqueue_on_commit(EXPIRE_SILENCES_TASK, page.pk)
    page.refresh_from_db()
    return page


def notify_page_resolved(*, page_id: int, now: dt.datetime | None = None) -> Page | None:
    """Tell everyone a resolved page notified that it is over, once (morgue.emails claims each address)."""
    now = now or timezone.now()
    waiting = Page.objects.filter(pk=page_id, status=PageStatus.RESOLVED, resolution_notified_at__isnull=True)
    page = waiting.select_related("team").first()
    if page is None:
        return None
    steps = page.steps.filter(notified_at__isnull=False, user__isnull=False).select_related("user", "team")
    recipients = sorted(
        {
            address
            for step in steps
            for address in (step.user.email if step.user else "", step.team.email)
            if address
        }
    )
    if recipients:
        link = settings.MORGUE_BASE_URL + reverse("oncall:page-detail", args=[page.pk])
        sent = send_email(
            name=RESOLVED_EMAIL, key=str(page.pk), to=recipients, context={"page": page, "link": link}
        )
        if sent is None and not was_sent(name=RESOLVED_EMAIL, key=str(page.pk)):
            return None  # another run is sending it, and marks the page when it has
    if not waiting.update(resolution_notified_at=now):
        return None
    page.resolution_notified_at = now
    return page


def sweep_pages(*, now: dt.datetime | None = None) -> int:
    """The safety net: escalate overdue steps, notify steps and resolutions whose task was lost."""
    now = now or timezone.now()
    moved = 0
    overdue = PageStep.objects.filter(
        escalated_at__isnull=True, due_at__lte=now, page__status=PageStatus.OPEN
    ).values_list("page_id", "number")
    for page_id, number in list(overdue):
        if escalate_page(page_id=page_id, step_number=number, now=now) is not None:
            moved += 1
    lost = PageStep.objects.filter(
        notified_at__isnull=True,
        user__isnull=False,
        created_at__lte=now - dt.timedelta(minutes=1),
        page__status=PageStatus.OPEN,
    ).values_list("pk", flat=True)
    for step_id in list(lost):
        try:
            notify_step(step_id=step_id, now=now)
        except OSError as error:  # SMTP refused or unreachable: the next sweep tries again
            logger.warning("page step %s could not be emailed: %s", step_id, error)
    unannounced = Page.objects.filter(
        status=PageStatus.RESOLVED,
        resolution_notified_at__isnull=True,
        resolved_at__lte=now - dt.timedelta(minutes=1),
        resolved_at__gt=now - RESOLVED_NOTICE_HORIZON,
    ).values_list("pk", flat=True)
    for page_id in list(unannounced):
        try:
            notify_page_resolved(page_id=page_id, now=now)
        except OSError as error:
            logger.warning("page %s's resolution could not be emailed: %s", page_id, error)
    return moved
