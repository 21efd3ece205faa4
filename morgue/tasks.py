from celery import shared_task
from django.db import connection

from morgue import health, submissions


@shared_task
def ping(nonce: str) -> dict:
    """Round trip through the broker and the database; used by the worker smoke test."""
    with connection.cursor() as cursor:
        cursor.execute("SELECT 1")
        database = "ok" if cursor.fetchone() == (1,) else "unexpected"
    return {"nonce": nonce, "database": database}


@shared_task
def forget_old_submissions() -> int:
    """Daily: the one-time form tokens past any resubmission are deleted."""
    return submissions.forget_old_submissions()


@shared_task
def heartbeat() -> None:
    """Every minute from beat: records that a worker takes tasks from the broker."""
    health.record_heartbeat(health.WORKER)
