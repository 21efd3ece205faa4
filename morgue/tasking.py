"""Enqueue Celery tasks by name, so services never import the tasks that import them.

Tasks import services (a task loads by id and calls one service); a service that
enqueues work names the task instead and sends it with the Celery app's
`send_task`, which needs no import of the task's module. Tests that check what
was enqueued patch `morgue.celery.app.send_task`.
"""

from django.db import transaction

from .celery import app


def enqueue(task_name: str, *args: object, countdown: float | None = None) -> None:
    """Send a task to a worker now."""
    if countdown is None:
        app.send_task(task_name, args=args)
    else:
        app.send_task(task_name, args=args, countdown=countdown)


def enqueue_on_commit(task_name: str, *args: object, countdown: float | None = None) -> None:
    """Send a task once the surrounding transaction commits, so the worker sees what was written."""
    # Robust: what was saved stays saved and the client gets its answer when the
    # broker is down; the error is logged and a beat sweep enqueues the work later.
    transaction.on_commit(lambda: enqueue(task_name, *args, countdown=countdown), robust=True)
