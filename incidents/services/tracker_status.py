"""A tracker issue and its remediation item kept in one state, both ways.

From the tracker: its webhooks, and reading the issue again when one was lost.
To the tracker: an item finished (or reopened) in Morgue closes (or reopens) it.
"""

import datetime as dt
import logging
from collections.abc import Iterator
from contextlib import contextmanager

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import transaction
from django.db.models import Q
from django.utils import timezone

from incidents import trackers
from incidents.exceptions import TrackerUnavailable
from incidents.models import (
    EventKind,
    RemediationItem,
    RemediationStatus,
    RemoteState,
    TrackerIssue,
    TrackerIssueStatus,
    TrackerKind,
)
from incidents.models.remediation import UNFINISHED
from incidents.services import remediation as remediation_services
from incidents.services.incident import add_timeline_event
from incidents.services.trackers import CLAIM, connection_for, enqueue_push, wanted_state
from morgue import audit
from morgue.tasking import enqueue

logger = logging.getLogger(__name__)

# Which stored kinds a webhook endpoint speaks for: Jira Cloud and Server post alike.
WEBHOOK_KINDS = {
    TrackerKind.GITHUB: (TrackerKind.GITHUB,),
    TrackerKind.GITLAB: (TrackerKind.GITLAB,),
    TrackerKind.JIRA: (TrackerKind.JIRA, TrackerKind.JIRA_SERVER),
}


def webhook_secret(kind: str) -> str:
    return {
        TrackerKind.GITHUB: settings.GITHUB_WEBHOOK_SECRET,
        TrackerKind.GITLAB: settings.GITLAB_WEBHOOK_SECRET,
        TrackerKind.JIRA: settings.JIRA_WEBHOOK_SECRET,
    }[TrackerKind(kind)]


def item_status_changed(*, item: RemediationItem) -> None:
    """After an item's status changed in Morgue: bring its issue (if any) to the same state."""
    issue = TrackerIssue.objects.filter(item_id=item.pk, status=TrackerIssueStatus.LINKED).first()
    if issue is not None and issue.remote_state != wanted_state(item):
        enqueue_push(issue)


def push_state(*, issue_id: int, now: dt.datetime | None = None) -> TrackerIssue | None:
    """Close (or reopen) the issue as its item now is; nothing when it already is.

    The new state is claimed by a conditional UPDATE before the call, so a
    redelivered task finds nothing to do; a failed call puts the old state back.
    """
    now = now or timezone.now()
    issue = (
        TrackerIssue.objects.select_related("item")
        .filter(pk=issue_id, status=TrackerIssueStatus.LINKED)
        .first()
    )
    if issue is None:
        return None
    wanted, was = wanted_state(issue.item), issue.remote_state
    if wanted == was:
        return issue
    # The claim also marks the call in flight (claimed_until), so reading the issue
    # meanwhile does not take the tracker's older answer for a change.
    claim = {"remote_state": wanted, "synced_at": now, "claimed_until": now + CLAIM}
    if not TrackerIssue.objects.filter(pk=issue.pk, remote_state=was).update(**claim):
        return issue
    remote = trackers.RemoteIssue(
        remote_id=issue.remote_id, key=issue.key, url=issue.url, number=issue.number, state=was
    )
    comment = (
        f"Done in Morgue: {issue.item.get_status_display().lower()}."
        if wanted == RemoteState.CLOSED
        else "Reopened in Morgue."
    )
    try:
        trackers.set_state(connection_for(issue), remote, state=wanted, comment=comment)
    except trackers.TrackerError as error:
        TrackerIssue.objects.filter(pk=issue.pk, remote_state=wanted).update(
            remote_state=was, last_error=error.message, claimed_until=None, synced_at=timezone.now()
        )
        if error.transient:
            raise TrackerUnavailable(error.message) from error
        logger.warning("Tracker issue %s could not be moved to %s: %s", issue.pk, wanted, error.message)
        return issue
    TrackerIssue.objects.filter(pk=issue.pk).update(
        synced_at=timezone.now(), last_error="", claimed_until=None
    )
    issue.refresh_from_db()
    return issue


@contextmanager
def _as_tracker(kind: str) -> Iterator[None]:
    """Record what runs inside as done by the tracker (its webhook), not by a person."""
    origin = audit.current.get()
    label = f"{TrackerKind(kind).label} (webhook)"
    token = audit.current.set(audit.Origin(user_label=label, ip=origin.ip if origin else None))
    try:
        yield
    finally:
        audit.current.reset(token)


def apply_event(*, kind: str, event: trackers.IssueEvent, now: dt.datetime | None = None) -> str:
    """Follow an issue's state from its tracker's webhook: closed marks the item done, reopened reopens it.

    Returns a sentence saying what happened; an issue Morgue does not know, or a
    delivery older than the last one applied, changes nothing.
    """
    now = now or timezone.now()
    with transaction.atomic():
        issue = (
            TrackerIssue.objects.select_for_update()
            .filter(kind__in=WEBHOOK_KINDS[TrackerKind(kind)], remote_id=event.remote_id)
            .exclude(remote_id="")
            .first()
        )
        if issue is None:
            return "Ignored: no remediation item follows this issue."
        if issue.remote_updated_at and event.updated_at and event.updated_at < issue.remote_updated_at:
            return "Ignored: this delivery is older than the last one applied."
        return _follow(issue=issue, event=event, now=now)


def _follow(*, issue: TrackerIssue, event: trackers.IssueEvent, now: dt.datetime) -> str:
    """Bring the (locked) issue's item to the state its tracker reports; a sentence saying what happened."""
    with transaction.atomic():
        issue.remote_state = event.state
        issue.remote_updated_at = event.updated_at or issue.remote_updated_at
        issue.synced_at = now
        issue.save(update_fields=["remote_state", "remote_updated_at", "synced_at"])
        item = RemediationItem.objects.select_related("incident").get(pk=issue.item_id)
        reason = ""
        if event.state == RemoteState.CLOSED and item.is_unfinished and event.not_planned:
            status, verb = RemediationStatus.WONT_DO, "closed as not planned"
            reason = f"Closed as not planned in {TrackerKind(issue.kind).label} ({issue.key})."
        elif event.state == RemoteState.CLOSED and item.is_unfinished:
            status, verb = RemediationStatus.DONE, "closed"
        elif event.state == RemoteState.OPEN and not item.is_unfinished:
            status, verb = RemediationStatus.OPEN, "reopened"
        else:
            return f"Nothing to change: item {item.pk} is already {item.get_status_display().lower()}."
        name = TrackerKind(issue.kind).label
        try:
            with transaction.atomic(), _as_tracker(issue.kind):
                item = remediation_services.change_status(
                    item=item, status=status, reason=reason, now=now, from_tracker=True
                )
                if item.incident is not None:
                    add_timeline_event(
                        incident=item.incident,
                        by=None,
                        occurred_at=now,
                        kind=EventKind.ACTION,
                        text=(
                            f"{name} issue {issue.key} was {verb}: remediation item “{item.title}” "
                            f"is now {item.get_status_display().lower()}."
                        ),
                        link=issue.url,
                        speaker=name,
                    )
        except ValidationError as error:
            # A reopened issue on a closed incident: the item stays as it is.
            return "Not applied: " + " ".join(
                message for messages in error.message_dict.values() for message in messages
            )
        return f"Item {item.pk} is now {item.get_status_display().lower()} ({name} issue {issue.key} {verb})."


def refresh_state(*, issue_id: int) -> str:
    """Read a linked issue's state from its tracker and follow it, for a webhook that never came.

    A change made meanwhile (a webhook, or Morgue closing the issue) wins over
    what was read: the answer may predate it.
    """
    issue = (
        TrackerIssue.objects.select_related("item")
        .filter(pk=issue_id, status=TrackerIssueStatus.LINKED)
        .first()
    )
    if issue is None:
        return "gone"
    started = timezone.now()
    remote = trackers.RemoteIssue(
        remote_id=issue.remote_id, key=issue.key, url=issue.url, number=issue.number, state=issue.remote_state
    )
    try:
        event = trackers.fetch_state(connection_for(issue), remote)
    except trackers.TrackerError as error:
        # Shown on the card as "status unknown since" the last time it was read.
        TrackerIssue.objects.filter(pk=issue.pk).update(last_error=error.message)
        return error.message
    with transaction.atomic():
        issue = TrackerIssue.objects.select_for_update().select_related("item").get(pk=issue.pk)
        if issue.synced_at and issue.synced_at > started:
            return "Skipped: the issue changed while it was being read."
        in_flight = issue.claimed_until is not None and issue.claimed_until > timezone.now()
        if in_flight or issue.remote_state != wanted_state(issue.item):
            return "Skipped: Morgue is still changing the issue."
        if event.state == issue.remote_state:
            TrackerIssue.objects.filter(pk=issue.pk).update(synced_at=timezone.now(), last_error="")
            return "Unchanged."
        issue.last_error = ""
        issue.save(update_fields=["last_error"])
        return _follow(issue=issue, event=event, now=timezone.now())


# Linked issues are read again when this old; items finished longer ago than REFRESH_FINISHED are left.
REFRESH_AFTER = dt.timedelta(minutes=15)
REFRESH_FINISHED = dt.timedelta(days=30)
REFRESH_BATCH = 200


def requeue_refreshes(*, now: dt.datetime | None = None) -> int:
    """Beat: read again the issues not heard of lately whose items may still change."""
    now = now or timezone.now()
    stale = (
        TrackerIssue.objects.filter(status=TrackerIssueStatus.LINKED, synced_at__lt=now - REFRESH_AFTER)
        .filter(Q(item__status__in=UNFINISHED) | Q(item__completed_at__gt=now - REFRESH_FINISHED))
        .order_by("synced_at")
        .values_list("pk", flat=True)[:REFRESH_BATCH]
    )
    ids = list(stale)
    for issue_id in ids:
        enqueue("incidents.tasks.trackers.refresh_tracker_issue", issue_id)
    return len(ids)
