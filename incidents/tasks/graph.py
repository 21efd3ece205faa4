from celery import shared_task

from ..fetch import FetchError
from ..services import graph as services

# Transient failures (timeouts, 5xx, refused connections) are retried after 10, 20, 40 seconds.
MAX_RETRIES = 3


@shared_task(bind=True, max_retries=MAX_RETRIES, acks_late=True)
def capture_graph(self, snapshot_id: int) -> str:
    """Fetch and keep one graph snapshot's image."""
    try:
        snapshot = services.capture_graph_snapshot(
            snapshot_id=snapshot_id, final_attempt=self.request.retries >= MAX_RETRIES
        )
    except FetchError as error:
        raise self.retry(exc=error, countdown=10 * 2**self.request.retries) from error
    return snapshot.status if snapshot else "skipped"


@shared_task(acks_late=True)
def requeue_lost_graph_snapshots() -> int:
    """Beat sweep: enqueue again the snapshots whose task was lost."""
    return len(services.requeue_lost_snapshots())
