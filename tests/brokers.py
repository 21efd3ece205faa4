"""Pointing the Celery app's producers at another broker for a test (an unreachable one, a real Redis)."""

import contextlib
from collections.abc import Iterator

from morgue.celery import app


@contextlib.contextmanager
def broker(url: str) -> Iterator[None]:
    """Publish to `url` inside the block; the app's cached connection pools are rebuilt each way."""
    saved = app.conf.broker_url

    def reset(to: str) -> None:
        app.conf["broker_url"] = to
        # Celery caches the connection pools of its first broker.
        app._pool = None  # type: ignore[attr-defined]
        app.amqp._producer_pool = None  # type: ignore[attr-defined]

    reset(url)
    try:
        yield
    finally:
        reset(saved)
