"""Celery tasks, one module per concept; each is imported here so Celery's autodiscovery finds it."""

from . import remediation  # noqa: F401
