"""The Celery application and the one place where the beat schedule lives."""

import os
import time
from pathlib import Path

from celery import Celery, Task
from celery.schedules import crontab
from celery.signals import before_task_publish, task_postrun, task_prerun

from . import audit, metrics
from .logs import request_id

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "morgue.settings")

app = Celery("morgue")
app.config_from_object("django.conf:settings", namespace="CELERY")
app.autodiscover_tasks()
# Only the beat holding the database lease sends tasks (morgue/beat.py).
app.conf.beat_scheduler = "morgue.beat:LeasedScheduler"

# Every periodic task Morgue runs. Each is idempotent, so a beat that fires
# twice, or a worker that picks up a redelivered task, does no harm.
app.conf.beat_schedule = {
    # /healthz reads the time of the last heartbeat to tell whether beat, the
    # broker and a worker are all running.
    "heartbeat": {"task": "morgue.tasks.heartbeat", "schedule": 60.0},
    # On call: the safety net for page escalation whose countdown task was lost.
    "oncall-sweep-pages": {"task": "oncall.tasks.sweep_pages", "schedule": 60.0},
    # Alerts: paging decisions whose task was lost, silent heartbeats, pages whose alerts all resolved.
    "alerts-sweep-paging": {"task": "alerts_review.tasks.sweep_paging", "schedule": 60.0},
    "oncall-sweep-notifications": {"task": "oncall.tasks.sweep_notifications", "schedule": 60.0},
    # On call: email each person whose shift starts within their reminder lead time, once a shift.
    "oncall-shift-reminders": {"task": "oncall.tasks.send_shift_reminders", "schedule": 120.0},
    # On call: keep every rotation materialised 180 days ahead; everyone-else
    # rotations recompute their members (changes apply from the next handoff).
    "oncall-extend-rotations": {"task": "oncall.tasks.extend_rotations", "schedule": 3600.0},
    # Incidents: re-enqueue review invitations whose task was lost.
    "incidents-sweep-review-invitations": {
        "task": "incidents.tasks.review.sweep_review_invitations",
        "schedule": 600.0,
    },
    "requeue-lost-graph-snapshots": {
        # Graph snapshots whose capture task was lost are enqueued again.
        "task": "incidents.tasks.graph.requeue_lost_graph_snapshots",
        "schedule": 300.0,
    },
    # An incident's Slack channel whose setup task was lost (incidents.services.chat).
    "requeue-lost-channel-setups": {
        "task": "incidents.tasks.chat.requeue_lost_channel_setups",
        "schedule": 300.0,
    },
    # Slack user groups (@ops-oncall) set to who is on call, when the holders changed (a handoff).
    "sync-slack-user-groups": {
        "task": "incidents.tasks.chat.sync_slack_user_groups",
        "schedule": 60.0,
    },
    "requeue-lost-tracker-issues": {
        # Remediation items' tracker issues still to create whose task was lost.
        "task": "incidents.tasks.trackers.requeue_lost_tracker_issues",
        "schedule": 300.0,
    },
    "refresh-tracker-issues": {
        # Linked issues not heard of for 15 minutes are read again, for a webhook that was lost.
        "task": "incidents.tasks.trackers.refresh_tracker_issues",
        "schedule": 600.0,
    },
    "remediation-digests": {
        # Daily; each owner's local date claims their digest, so running it
        # again the same day sends nobody a second email.
        "task": "incidents.tasks.remediation.send_remediation_digests",
        "schedule": crontab(minute=0, hour=6),
    },
    "forget-old-submissions": {
        # One-time form tokens (morgue.submissions) a week old are past any resubmission.
        "task": "morgue.tasks.forget_old_submissions",
        "schedule": crontab(minute=30, hour=3),
    },
    # Alerts review: fold the report counts' deltas (appended by triggers) into the counts.
    "alerts-review-compact-counts": {"task": "alerts_review.tasks.compact_alert_counts", "schedule": 60.0},
    "alerts-review-prune": {
        # Alerts past ALERT_RETENTION_MONTHS (off when empty); the reports keep their figures.
        "task": "alerts_review.tasks.prune_old_alerts",
        "schedule": crontab(minute=45, hour=3),
    },
    "alerts-review-monthly-report": {
        # Last month's alerts report to each team, on the first of the month.
        "task": "alerts_review.tasks.email_monthly_alert_reports",
        "schedule": crontab(minute=0, hour=8, day_of_month=1),
    },
}

# Every message carries when it was sent (from a web request, a worker or
# beat), so /healthz can tell how long the oldest queued task has waited.
SENT_AT_HEADER = "morgue_sent_at"


# A task enqueued while a request runs carries the request's id to the
# worker's log lines (morgue/logs.py).
REQUEST_ID_HEADER = "morgue_request_id"
# Where a running task keeps what was acting before it (morgue/audit), to put it back after.
PREVIOUS_ACTOR_ATTRIBUTE = "morgue_previous_actor"


@before_task_publish.connect
def stamp_sent_at(headers: dict | None = None, **kwargs: object) -> None:
    if headers is not None:
        headers.setdefault(SENT_AT_HEADER, time.time())
        if (current := request_id.get()) is not None:
            headers.setdefault(REQUEST_ID_HEADER, current)
        # Who enqueued it, so what the task changes is recorded as theirs (morgue/audit).
        for name, value in audit.origin_headers().items():
            headers.setdefault(name, value)


@task_prerun.connect
def adopt_request_id(task: Task | None = None, **kwargs: object) -> None:
    # A worker exposes the message's headers as attributes of task.request;
    # a task applied in-process keeps them in task.request.headers.
    request = task.request if task is not None else None
    headers = getattr(request, "headers", None) or {}
    request_id.set(getattr(request, REQUEST_ID_HEADER, None) or headers.get(REQUEST_ID_HEADER))
    if request is not None:
        # Kept on the task's request so postrun puts back whatever was acting before
        # (a task applied in-process keeps the request's person afterwards).
        token = audit.adopt_headers(
            getattr(request, audit.ACTOR_HEADER, None) or headers.get(audit.ACTOR_HEADER)
        )
        setattr(request, PREVIOUS_ACTOR_ATTRIBUTE, token)


@task_postrun.connect
def forget_request_id(task: Task | None = None, state: str | None = None, **kwargs: object) -> None:
    request_id.set(None)
    if task is not None and getattr(task, "name", None):
        metrics.task_runs.labels(task=task.name, state=state or "UNKNOWN").inc()
    token = getattr(task.request, PREVIOUS_ACTOR_ATTRIBUTE, None) if task is not None else None
    if token is not None:
        try:
            audit.current.reset(token)
        except ValueError:  # set in another context: forget it rather than leak it to the next task
            audit.current.set(None)


def ensure_broker_folders() -> None:
    """Folders the filesystem transport needs before its first message, and beat's, whatever the broker."""
    from django.conf import settings

    if settings.CELERY_BROKER_URL.startswith("filesystem://"):
        options = settings.CELERY_BROKER_TRANSPORT_OPTIONS
        for key in ("data_folder_in", "data_folder_out", "processed_folder", "control_folder"):
            Path(options[key]).mkdir(parents=True, exist_ok=True)
    # Beat stops at start-up, whatever the broker, when its schedule file's folder is missing.
    Path(settings.CELERY_BEAT_SCHEDULE_FILENAME).parent.mkdir(parents=True, exist_ok=True)
