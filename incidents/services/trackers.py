"""Remediation items as issues in a team's tracker: configuring it, and creating (or linking) each issue once.

Keeping an issue and its item in the same state, both ways, is in tracker_status.
"""

import datetime as dt
import logging

from django.conf import settings
from django.contrib.auth.models import User
from django.core.exceptions import ValidationError
from django.db import transaction
from django.db.models import F
from django.utils import timezone

from incidents import trackers
from incidents.exceptions import IssueAlreadyAsked, TrackerNotConfigured, TrackerUnavailable
from incidents.models import (
    RemediationItem,
    RemoteState,
    TeamTracker,
    TrackerIssue,
    TrackerIssueStatus,
    TrackerKind,
)
from incidents.models.tracker import check_project, default_base_url, marker_for
from morgue import audit, outbound
from morgue.models import Team
from morgue.tasking import enqueue, enqueue_on_commit

logger = logging.getLogger(__name__)

# How long one attempt holds its claim: longer than the few calls it makes, each bounded
# by TRACKER_TIMEOUT_SECONDS; a worker killed mid-attempt frees the issue after this.
CLAIM = dt.timedelta(minutes=5)


def connection_for(issue: TrackerIssue) -> trackers.Connection:
    """The issue's tracker with the credentials from the environment."""
    if issue.kind == TrackerKind.GITHUB:
        token, user = settings.GITHUB_TOKEN, ""
    elif issue.kind == TrackerKind.GITLAB:
        token, user = settings.GITLAB_TOKEN, ""
    else:
        token, user = settings.JIRA_API_TOKEN, settings.JIRA_EMAIL
    return trackers.Connection(
        kind=issue.kind,
        base_url=issue.base_url,
        project=issue.project,
        token=token,
        user=user,
        issue_type=issue.issue_type or "Task",
        timeout=settings.TRACKER_TIMEOUT_SECONDS,
        allow_loopback=bool(getattr(settings, "MORGUE_OUTBOUND_ALLOW_LOOPBACK", False)),
    )


def check_address(url: str) -> str:
    """A tracker address Morgue may call (morgue.outbound's rule; checked again on every call)."""
    url = url.strip().rstrip("/")
    try:
        target = outbound.split(url)
        outbound.resolve(
            target.host,
            target.port,
            allow_loopback=bool(getattr(settings, "MORGUE_OUTBOUND_ALLOW_LOOPBACK", False)),
        )
    except outbound.PrivateAddress as error:
        # What the name resolves to stays in the log: the sentence must not be a way to probe DNS.
        logger.info("Tracker address refused: %s", error.reason)
        raise ValidationError(
            {"base_url": ["Morgue does not call that address: it is not a public address."]}
        ) from error
    except outbound.AddressRefused as error:
        raise ValidationError({"base_url": [f"Morgue does not call that address: {error.reason}"]}) from error
    except outbound.OutboundError:
        # Not resolvable now (the tracker may be down): checked again on every call.
        pass
    return url


@transaction.atomic
def set_team_tracker(
    *,
    team: Team,
    kind: str,
    project: str,
    base_url: str = "",
    issue_type: str = "Task",
    create_automatically: bool = False,
) -> TeamTracker:
    """Name the tracker a team's remediation items become issues in."""
    tracker = TeamTracker.objects.filter(team=team).first() or TeamTracker(team=team)
    before = audit.values(tracker) if tracker.pk else None
    tracker.kind = kind
    tracker.project = project.strip()
    tracker.base_url = check_address(base_url) if base_url.strip() else ""
    tracker.issue_type = issue_type.strip() or "Task"
    tracker.create_automatically = create_automatically
    tracker.updated_at = timezone.now()
    tracker.full_clean(exclude=["team"])
    tracker.save()
    if before is None:
        audit.record_created(tracker)
    else:
        audit.record_changes(tracker, before=before, after=audit.values(tracker))
    return tracker


def _issue_text(item: RemediationItem) -> str:
    link = f"{settings.MORGUE_BASE_URL}{item.get_absolute_url()}"
    lines = [
        item.description.strip(),
        f"Remediation item from {item.origin_title} ({item.get_kind_display()}, "
        f"{item.get_category_display().lower()}), due {item.due_date.isoformat()}.",
        f"Follow it in Morgue: {link}",
    ]
    return "\n\n".join(line for line in lines if line)


@transaction.atomic
def request_issue(
    *,
    item: RemediationItem,
    requested_by: User | None = None,
    kind: str = "",
    project: str = "",
    base_url: str = "",
    now: dt.datetime | None = None,
) -> TrackerIssue:
    """Ask for the item's issue in its team's tracker (or the one given); created once, by a task.

    Asking again while it is being created changes nothing; asking again after the
    tracker refused tries again (looking for an issue an earlier attempt made first).
    """
    now = now or timezone.now()
    item = RemediationItem.objects.select_for_update(of=("self",)).select_related("team").get(pk=item.pk)
    existing = TrackerIssue.objects.filter(item=item).first()
    if existing is not None and existing.status != TrackerIssueStatus.FAILED:
        return existing
    if kind:
        if kind not in TrackerKind.values:
            raise ValidationError(
                {"tracker": [f"“{kind}” is not a tracker; use {', '.join(TrackerKind.values)}."]}
            )
        check_project(kind, project)
        issue_type = "Task"
    else:
        tracker = TeamTracker.objects.filter(team_id=item.team_id).first() if item.team_id else None
        if tracker is None:
            team = f"The team {item.team.name}" if item.team else "This item has no team, and so it"
            raise TrackerNotConfigured(
                f"{team} has no tracker: name one for the team, or say which tracker and project to use."
            )
        kind, project, base_url, issue_type = (
            tracker.kind,
            tracker.project,
            tracker.base_url,
            tracker.issue_type,
        )
    base_url = check_address(base_url) if base_url.strip() else default_base_url(kind)
    if not base_url:
        raise TrackerNotConfigured(f"No address is configured for {TrackerKind(kind).label}: give one.")
    issue = existing or TrackerIssue(item=item, marker=marker_for(item.pk))
    issue.kind, issue.project, issue.base_url, issue.issue_type = kind, project.strip(), base_url, issue_type
    issue.number = issue.key = issue.url = ""  # a new issue, not one an earlier link named
    return _ask(issue, what=f"{TrackerKind(kind).label} {issue.project}", by=requested_by, now=now)


@transaction.atomic
def link_issue(
    *, item: RemediationItem, url: str, requested_by: User | None = None, now: dt.datetime | None = None
) -> TrackerIssue:
    """Follow an existing issue, named by its page's address; a task reads it (its id and state) once."""
    now = now or timezone.now()
    try:
        address = trackers.parse_issue_url(url)
    except ValueError as error:
        raise ValidationError({"url": [str(error)]}) from error
    item = RemediationItem.objects.select_for_update(of=("self",)).get(pk=item.pk)
    existing = TrackerIssue.objects.filter(item=item).first()
    if existing is not None and existing.status != TrackerIssueStatus.FAILED:
        raise IssueAlreadyAsked(
            f"This item already has {existing.get_kind_display()} issue {existing.key or '(being created)'}."
        )
    if address.kind == TrackerKind.GITHUB:
        # GitHub's pages and API live at different hosts: the API is the configured one.
        base_url = default_base_url(TrackerKind.GITHUB)
    else:
        base_url = check_address(address.site)
    issue = existing or TrackerIssue(item=item, marker=marker_for(item.pk))
    issue.kind, issue.project, issue.base_url, issue.issue_type = address.kind, address.project, base_url, ""
    issue.number, issue.key, issue.url = address.number, address.key, url.strip()
    return _ask(issue, what=f"{TrackerKind(address.kind).label} {address.key}", by=requested_by, now=now)


def _ask(issue: TrackerIssue, *, what: str, by: User | None, now: dt.datetime) -> TrackerIssue:
    """Queue the task that creates (or first reads) the issue, and record on the item who asked."""
    issue.status = TrackerIssueStatus.PENDING
    issue.claimed_until = None
    issue.last_error = ""
    issue.requested_by = by if by is not None and by.is_authenticated else None
    issue.requested_at = now
    issue.save()
    audit.record(audit.Action.CHANGED, issue.item, changes={"tracker issue": [None, what]}, actor=by)
    enqueue_on_commit("incidents.tasks.trackers.create_tracker_issue", issue.pk)
    return issue


def request_issue_automatically(*, item: RemediationItem) -> TrackerIssue | None:
    """On a new item: its issue, when the item's team asks for one for every item."""
    if not item.team_id:
        return None
    if not TeamTracker.objects.filter(team_id=item.team_id, create_automatically=True).exists():
        return None
    return request_issue(item=item, requested_by=item.created_by)


def create_remote_issue(*, issue_id: int, now: dt.datetime | None = None) -> TrackerIssue | None:
    """Create the item's issue in the tracker exactly once.

    The attempt claims the row first (a conditional UPDATE), so two workers never
    call at once. A later attempt (a retry after a timeout, whose issue the
    tracker may have made anyway) looks for the issue by its marker label before
    creating one. Raises TrackerUnavailable for a transient failure, to retry.
    """
    now = now or timezone.now()
    claimed = (
        TrackerIssue.objects.claimable(now)
        .filter(pk=issue_id)
        .update(claimed_until=now + CLAIM, attempts=F("attempts") + 1)
    )
    if not claimed:
        return TrackerIssue.objects.filter(pk=issue_id).first()
    issue = TrackerIssue.objects.select_related("item").get(pk=issue_id)
    connection = connection_for(issue)
    try:
        remote = None
        if issue.number:
            # An existing issue to follow (link_issue): read, never created.
            known = trackers.RemoteIssue(
                remote_id="", key=issue.key, url=issue.url, number=issue.number, state=RemoteState.OPEN
            )
            found = trackers.fetch_state(connection, known)
            remote = trackers.RemoteIssue(
                remote_id=found.remote_id,
                key=issue.key,
                url=issue.url,
                number=issue.number,
                state=found.state,
            )
        elif issue.attempts > 1:
            remote = trackers.find_issue(connection, issue.marker)
        if remote is None:
            new = trackers.NewIssue(title=issue.item.title, body=_issue_text(issue.item), marker=issue.marker)
            remote = trackers.create_issue(connection, new)
    except trackers.TrackerError as error:
        logger.warning("Tracker issue %s for item %s: %s", issue.pk, issue.item_id, error.message)
        status = TrackerIssueStatus.PENDING if error.transient else TrackerIssueStatus.FAILED
        TrackerIssue.objects.filter(pk=issue.pk).update(
            claimed_until=None, status=status, last_error=error.message
        )
        if error.transient:
            raise TrackerUnavailable(error.message) from error
        issue.refresh_from_db()
        return issue
    other = (
        TrackerIssue.objects.filter(kind=issue.kind, base_url=issue.base_url, remote_id=remote.remote_id)
        .exclude(pk=issue.pk)
        .first()
    )
    if other is not None:
        # One issue follows one item (webhooks find the item by the issue).
        message = f"{remote.key or 'That issue'} already follows remediation item {other.item_id}."
        TrackerIssue.objects.filter(pk=issue.pk).update(
            claimed_until=None, status=TrackerIssueStatus.FAILED, last_error=message
        )
        issue.refresh_from_db()
        return issue
    return _link(issue=issue, remote=remote, now=now)


@transaction.atomic
def _link(*, issue: TrackerIssue, remote: trackers.RemoteIssue, now: dt.datetime) -> TrackerIssue:
    issue.status = TrackerIssueStatus.LINKED
    issue.remote_id, issue.key, issue.url, issue.number = (
        remote.remote_id,
        remote.key,
        remote.url,
        remote.number,
    )
    issue.remote_state = remote.state
    issue.claimed_until = None
    issue.last_error = ""
    issue.linked_at = issue.synced_at = now
    issue.save()
    item = RemediationItem.objects.select_for_update(of=("self",)).get(pk=issue.item_id)
    if not item.ticket_url and remote.url:
        # The item's ticket link is what the board, the CSV export and the API already show.
        before = audit.values(item, ["ticket_url"])
        RemediationItem.objects.filter(pk=item.pk).update(ticket_url=remote.url)
        item.ticket_url = remote.url
        audit.record_changes(item, before=before, after=audit.values(item, ["ticket_url"]))
    # The item may have been finished while its issue was being made (or a linked
    # issue was closed there while the item is open): the item's state is sent.
    if remote.state != wanted_state(item):
        enqueue_push(issue)
    return issue


def enqueue_push(issue: TrackerIssue) -> None:
    enqueue_on_commit("incidents.tasks.trackers.push_tracker_state", issue.pk)


def wanted_state(item: RemediationItem) -> str:
    return RemoteState.OPEN if item.is_unfinished else RemoteState.CLOSED


def requeue_lost() -> int:
    """Beat: issues still to create whose task was lost (never sent, or its worker died)."""
    lost = list(
        TrackerIssue.objects.claimable(timezone.now())
        .filter(requested_at__lt=timezone.now() - dt.timedelta(minutes=2))
        .values_list("pk", flat=True)[:500]
    )
    for issue_id in lost:
        enqueue("incidents.tasks.trackers.create_tracker_issue", issue_id)
    return len(lost)
