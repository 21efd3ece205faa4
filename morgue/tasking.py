"""Enqueue Celery tasks by name, so services never import the tasks that import them.

Tasks import services (a task loads by id and calls one service); a service that
enqueues work names the task instead. The name is looked up in the Celery app's
registry, which imports every app's `tasks` module on first use, so the object
found is the task itself (tests may patch its `delay`).
"""

from django.db import transaction

from .celery import app


def enqueue(task_name: str, *args: object, countdown: float | None = None) -> None:
    """Send a task to a worker now."""
    task = app.tasks[task_name]
    if countdown is None:
        task.delay(*args)
    else:
        task.apply_async(args=args, countdown=countdown)


def enqueue_on_commit(task_name: str, *args: object, countdown: float | None = None) -> None:
    """Send a task once the surrounding transaction commits, so the worker sees what was written."""
    transaction.on_commit(lambda: enqueue(task_name, *args, countdown=countdown))
