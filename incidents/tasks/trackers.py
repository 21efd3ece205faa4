"""Remediation items' issues in trackers: created once, and kept in the item's state."""

from celery import shared_task

from ..exceptions import TrackerUnavailable
from ..services import tracker_status
from ..services import trackers as services

# Transient failures (timeouts, 5xx, 429) are retried after 10, 20, 40, 80, 160 seconds;
# after that the beat sweep picks a still-pending issue up again.
MAX_RETRIES = 5


@shared_task(bind=True, max_retries=MAX_RETRIES, acks_late=True)
def create_tracker_issue(self, issue_id: int) -> str:
    """Create one remediation item's issue in its tracker (claimed, so once)."""
    try:
        issue = services.create_remote_issue(issue_id=issue_id)
    except TrackerUnavailable as error:
        raise self.retry(exc=error, countdown=10 * 2**self.request.retries) from error
    return issue.status if issue else "gone"


@shared_task(bind=True, max_retries=MAX_RETRIES, acks_late=True)
def push_tracker_state(self, issue_id: int) -> str:
    """Close (or reopen) an issue as its remediation item now is."""
    try:
        issue = tracker_status.push_state(issue_id=issue_id)
    except TrackerUnavailable as error:
        raise self.retry(exc=error, countdown=10 * 2**self.request.retries) from error
    return issue.remote_state if issue else "gone"


@shared_task(acks_late=True)
def requeue_lost_tracker_issues() -> int:
    """Beat sweep: enqueue again the issues still to create whose task was lost."""
    return services.requeue_lost()


@shared_task(acks_late=True)
def refresh_tracker_issue(issue_id: int) -> str:
    """Read one linked issue's state from its tracker and follow it; a tracker that is down waits."""
    return tracker_status.refresh_state(issue_id=issue_id)


@shared_task(acks_late=True)
def refresh_tracker_issues() -> int:
    """Beat: read again the linked issues not heard of lately."""
    return tracker_status.requeue_refreshes()
