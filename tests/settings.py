"""Test settings: the real settings with fast hashing and nothing sent anywhere."""

import os
import tempfile

os.environ.setdefault("DEBUG", "1")
os.environ.setdefault("MORGUE_VAR_DIR", tempfile.mkdtemp(prefix="morgue-test-"))

from morgue.settings import *  # noqa: F403

PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
EMAIL_BACKEND = "django.core.mail.backends.locmem.EmailBackend"
MEDIA_ROOT = VAR_DIR / "media"  # noqa: F405
STATIC_ROOT = VAR_DIR / "static"  # noqa: F405
STATIC_ROOT.mkdir(parents=True, exist_ok=True)
ALLOWED_HOSTS = ["*"]
# Tasks enqueued by code under test go to an in-memory queue; tests call
# the task functions directly to run them (see tests/conftest.py).
CELERY_BROKER_URL = os.environ.get("MORGUE_TEST_BROKER_URL", "memory://")
CELERY_BROKER_TRANSPORT_OPTIONS = {}
STORAGES = {
    "default": {"BACKEND": "morgue.storage.DatabaseStorage"},
    "staticfiles": {"BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"},
}
# Django's own session lifetime (two weeks): many tests travel in time for days
# between requests. tests/morgue/test_signin_safety.py tests the idle limit itself.
SESSION_COOKIE_AGE = 14 * 24 * 60 * 60
