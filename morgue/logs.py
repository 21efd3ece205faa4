"""LOG_FORMAT=json: one JSON object a line, each carrying the request id it belongs to.

A request gets an id (the proxy's X-Request-ID when it sent a sane one), sent
back in the response's X-Request-ID, put on every log line written while the
request runs, and carried in the headers of every task it enqueues, so a
worker's lines for that task carry it too (morgue/celery.py).
"""

import contextvars
import datetime as dt
import json
import logging
import re
import time
import uuid
from collections.abc import Callable

from django.conf import settings
from django.http import HttpRequest, HttpResponse

from . import metrics

request_id: contextvars.ContextVar[str | None] = contextvars.ContextVar("morgue_request_id", default=None)

# Ids from outside are echoed in logs and headers: letters, digits and dashes only.
SANE_REQUEST_ID = re.compile(r"[A-Za-z0-9._-]{1,64}")
# Attributes every LogRecord has; anything else was passed as `extra`.
STANDARD_ATTRIBUTES = set(vars(logging.makeLogRecord({}))) | {"message", "asctime", "request_id"}

request_logger = logging.getLogger("morgue.requests")


class RequestIdFilter(logging.Filter):
    """Puts the current request id (or None) on every record."""

    def filter(self, record: logging.LogRecord) -> bool:
        record.request_id = request_id.get()
        return True


class JSONFormatter(logging.Formatter):
    """One JSON object per line: time, level, logger, message, request id and any `extra` fields."""

    def format(self, record: logging.LogRecord) -> str:
        line: dict[str, object] = {
            "time": dt.datetime.fromtimestamp(record.created, dt.UTC).isoformat().replace("+00:00", "Z"),
            "level": record.levelname,
            "logger": record.name,
            "message": record.getMessage(),
            "request_id": getattr(record, "request_id", None),
        }
        for key, value in vars(record).items():
            if key not in STANDARD_ATTRIBUTES:
                line[key] = value
        if record.exc_info:
            line["exception"] = self.formatException(record.exc_info)
        return json.dumps(line, default=str)


class RequestLogMiddleware:
    """Gives each request an id; with LOG_FORMAT=json, logs one line per request when it is answered."""

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        given = request.headers.get("X-Request-ID", "")
        current = given if SANE_REQUEST_ID.fullmatch(given) else uuid.uuid4().hex
        token = request_id.set(current)
        started = time.monotonic()
        try:
            response = self.get_response(request)
            response["X-Request-ID"] = current
            match = request.resolver_match
            metrics.observe_request(
                view=match.view_name if match else None,
                method=request.method or "",
                status=response.status_code,
                seconds=time.monotonic() - started,
            )
            if settings.LOG_FORMAT == "json":
                user = getattr(request, "user", None)
                request_logger.info(
                    "%s %s %s",
                    request.method,
                    request.path,
                    response.status_code,
                    extra={
                        "request_id": current,
                        "method": request.method,
                        "path": request.path,
                        "status": response.status_code,
                        "duration_ms": round((time.monotonic() - started) * 1000, 1),
                        "user": user.get_username() if user is not None and user.is_authenticated else None,
                        "view": match.view_name if match else None,
                    },
                )
            return response
        finally:
            request_id.reset(token)
