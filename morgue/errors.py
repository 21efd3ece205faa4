"""The error pages: HTML for people, a JSON sentence for the API (handler400 … handler500)."""

import sys

from django.contrib.auth.decorators import login_not_required
from django.core.exceptions import BadRequest
from django.db import InterfaceError, OperationalError
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import render

from .exceptions import MorgueError


def _wants_json(request: HttpRequest) -> bool:
    return request.path.startswith("/api/") or "application/json" in request.headers.get("Accept", "")


@login_not_required
def not_found(request: HttpRequest, exception=None) -> HttpResponse:
    if _wants_json(request):
        return JsonResponse({"detail": "Not found."}, status=404)
    return render(request, "404.html", status=404)


# Said when the database cannot be reached (a restart, a failover): the request
# saved nothing, and the same request will work once the database is back.
DATABASE_UNAVAILABLE = (
    "Morgue cannot reach its database just now, so nothing was saved. Please try again in a minute."
)


def database_unavailable(request: HttpRequest) -> HttpResponse:
    """503 with a sentence; built without templates, whose context would query the database again."""
    if _wants_json(request):
        response: HttpResponse = JsonResponse({"detail": DATABASE_UNAVAILABLE}, status=503)
    else:
        response = HttpResponse(
            "<!doctype html><meta name=viewport content='width=device-width'>"
            "<title>Morgue is unavailable</title><h1>Morgue is briefly unavailable</h1>"
            f"<p>{DATABASE_UNAVAILABLE}</p>",
            status=503,
        )
    response["Retry-After"] = "30"
    return response


@login_not_required
def server_error(request: HttpRequest) -> HttpResponse:
    # Django calls this inside the except block of the failure, so the error is at hand.
    # Connections are checked before reuse (CONN_HEALTH_CHECKS), so the next
    # request after the database returns opens a new one: no restart is needed.
    if isinstance(sys.exc_info()[1], OperationalError | InterfaceError):
        return database_unavailable(request)
    if _wants_json(request):
        return JsonResponse({"detail": "Morgue hit an internal error; it has been logged."}, status=500)
    try:
        return render(request, "500.html", status=500)
    except Exception:  # noqa: BLE001 - the layout itself may be what is broken
        return HttpResponse(
            "<!doctype html><title>Server error</title><h1>Something went wrong</h1>"
            "<p>Morgue hit an internal error. It has been logged.</p>",
            status=500,
        )


@login_not_required
def bad_request(request: HttpRequest, exception=None) -> HttpResponse:
    # A BadRequest carries a sentence naming the problem; other 400s (a bad
    # Host header, say) get the plain one.
    said = exception.args[0] if isinstance(exception, BadRequest) and exception.args else ""
    detail = said or "The request could not be understood."
    if _wants_json(request):
        return JsonResponse({"detail": detail}, status=400)
    return render(request, "400.html", {"detail": detail}, status=400)


@login_not_required
def permission_denied(request: HttpRequest, exception=None) -> HttpResponse:
    # A role rule's refusal (morgue.permissions) says which role is needed; others say nothing more.
    reason = getattr(exception, "message", "") if isinstance(exception, MorgueError) else ""
    if _wants_json(request):
        return JsonResponse({"detail": reason or "You do not have permission to do that."}, status=403)
    return render(request, "403.html", {"reason": reason}, status=403)
