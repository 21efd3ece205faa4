"""Celery tasks, one module per concept; each is imported here so Celery's autodiscovery finds it."""

from . import (
    chat,  # noqa: F401  (an incident's Slack channel)
    remediation,  # noqa: F401
    review,  # noqa: F401  (incidents and postmortems)
    running,  # noqa: F401  (status updates to subscribers)
    trackers,  # noqa: F401  (remediation items as tracker issues)
)
from .graph import capture_graph, requeue_lost_graph_snapshots  # noqa: F401
