"""Settings of the real Celery workers that tests/integration/test_exactly_once.py starts.

Morgue's own settings, read from the environment as in production (DATABASE_URL,
CELERY_BROKER_URL, EMAIL_HOST, EMAIL_PORT, TWILIO_*, NTFY_URL), with what only
a test may set: loopback fakes allowed, and leases of seconds instead of
minutes so a killed worker's work is taken over within the test's bound.
"""

import datetime as dt
import os

os.environ.setdefault("DEBUG", "1")

from morgue.settings import *  # noqa: F403

EMAIL_BACKEND = "django.core.mail.backends.smtp.EmailBackend"
EMAIL_TIMEOUT = int(os.environ.get("MORGUE_TEST_EMAIL_TIMEOUT", "5"))
MORGUE_OUTBOUND_ALLOW_LOOPBACK = True
# Redis hands an unacknowledged message to another worker after this long (a killed worker's task).
CELERY_BROKER_TRANSPORT_OPTIONS = {"visibility_timeout": int(os.environ.get("MORGUE_TEST_VISIBILITY", "4"))}
NOTIFICATION_CLAIM_LEASE = dt.timedelta(seconds=int(os.environ.get("MORGUE_TEST_CLAIM_LEASE", "6")))
# What the worker enqueues itself (a step's notifications, a retry) stays on its test's queue.
CELERY_TASK_DEFAULT_QUEUE = os.environ.get("MORGUE_TEST_QUEUE", "celery")
