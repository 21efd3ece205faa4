"""Status updates and role changes sent to an incident's subscribers, once the change commits."""

import smtplib
from collections.abc import Callable

from celery import Task, shared_task

from incidents.services import running as services

# Like Celery's retry_backoff=30, retry_backoff_max=600, but a chat that named its wait (Slack's
# Retry-After) is waited for exactly: never sooner.
MAX_RETRIES = 8


def _countdown(task: Task, error: Exception) -> float:
    backoff = min(600.0, 30.0 * 2**task.request.retries)
    wait = getattr(error, "retry_after", None)
    return max(float(wait), 1.0) if wait is not None else backoff


def _run(task: Task, send: Callable[[int], int], object_id: int) -> int:
    try:
        return send(object_id)
    except (smtplib.SMTPException, OSError, services.DeliveryPending) as error:
        raise task.retry(exc=error, countdown=_countdown(task, error), max_retries=MAX_RETRIES) from error


@shared_task(bind=True, acks_late=True, max_retries=MAX_RETRIES)
def deliver_status_update(self: Task, update_id: int) -> int:
    """Send one status update to every subscriber's channels; each copy is claimed, so none goes twice."""
    return _run(self, lambda pk: services.deliver_status_update(update_id=pk), update_id)


@shared_task(bind=True, acks_late=True, max_retries=MAX_RETRIES)
def deliver_role_change(self: Task, assignment_id: int) -> int:
    """Tell every subscriber's channels who took a role; each copy is claimed, so none goes twice."""
    return _run(self, lambda pk: services.deliver_role_change(assignment_id=pk), assignment_id)
