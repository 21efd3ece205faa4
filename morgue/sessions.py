"""Database sessions that end after a stretch of inactivity, written at most once a minute.

Django's SESSION_SAVE_EVERY_REQUEST would write the session row on every page
and API call. This engine remembers when the stored session ends, and
`IdleSessionMiddleware` pushes the end back only once it has drifted more than
REFRESH_AFTER from a full SESSION_COOKIE_AGE: the idle limit holds to within a
minute at the cost of one write a minute for an active person.
"""

import datetime as dt

from django.conf import settings
from django.contrib.sessions.backends.db import SessionStore as DatabaseSessionStore
from django.utils import timezone

REFRESH_AFTER = dt.timedelta(minutes=1)


class SessionStore(DatabaseSessionStore):
    stored_expiry: dt.datetime | None = None

    # django-stubs does not declare this hook of the database store.
    def _get_session_from_db(self):
        session = super()._get_session_from_db()  # type: ignore[misc]
        self.stored_expiry = session.expire_date if session is not None else None
        return session


class IdleSessionMiddleware:
    """Each request by a signed-in person pushes their session's end back to SESSION_COOKIE_AGE from now."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        response = self.get_response(request)
        session = getattr(request, "session", None)
        expiry = getattr(session, "stored_expiry", None)
        if session is not None and expiry is not None and not session.is_empty():
            full = timezone.now() + dt.timedelta(seconds=settings.SESSION_COOKIE_AGE)
            if full - expiry > REFRESH_AFTER:
                # SessionMiddleware (outside this one) saves it with a new end and a fresh cookie.
                session.modified = True
        return response
