"""The Celery application and the one place where the beat schedule lives."""

import os
from pathlib import Path

from celery import Celery

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "morgue.settings")

app = Celery("morgue")
app.config_from_object("django.conf:settings", namespace="CELERY")
app.autodiscover_tasks()

# Every periodic task Morgue runs. Each is idempotent, so a beat that fires
# twice, or a worker that picks up a redelivered task, does no harm.
app.conf.beat_schedule = {
    # Incidents: re-enqueue review invitations whose task was lost.
    "incidents-sweep-review-invitations": {
        "task": "incidents.tasks.review.sweep_review_invitations",
        "schedule": 600.0,
    },
    "requeue-lost-graph-snapshots": {
        "task": "incidents.tasks.graph.requeue_lost_graph_snapshots",
        "schedule": 300.0,
    },
}


def ensure_broker_folders() -> None:
    """The filesystem transport needs its folders before the first message."""
    from django.conf import settings

    if settings.CELERY_BROKER_URL.startswith("filesystem://"):
        options = settings.CELERY_BROKER_TRANSPORT_OPTIONS
        for key in ("data_folder_in", "data_folder_out", "processed_folder"):
            Path(options[key]).mkdir(parents=True, exist_ok=True)
        Path(settings.CELERY_BEAT_SCHEDULE_FILENAME).parent.mkdir(parents=True, exist_ok=True)
