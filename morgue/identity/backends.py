"""Authentication plumbing shared by every way in."""

from django.conf import settings
from django.contrib.auth.backends import ModelBackend
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import render


class PermissionsOnlyBackend(ModelBackend):
    """Django's permissions and groups without its passwords (MORGUE_LOCAL_PASSWORDS=0).

    The admin asks a backend for each person's permissions; with local passwords
    off this answers that while refusing every password.
    """

    def authenticate(self, request, username=None, password=None, **kwargs):
        return None


def client_address(request: HttpRequest) -> str | None:
    """The address failed sign-ins are counted against: the connection's own.

    A forwarded-for header is whatever the caller wrote, so counting by it would
    let a guesser pick a new address for every try.
    """
    return request.META.get("REMOTE_ADDR")


def lockout_response(request: HttpRequest, original_response=None, credentials=None) -> HttpResponse:
    """The page (or JSON) a locked-out sign-in gets: 429, saying when to try again."""
    minutes = int(settings.AXES_COOLOFF_TIME.total_seconds() // 60)
    sentence = f"Too many failed sign-ins for this account from this address; try again in {minutes} minutes."
    if request.path.startswith("/api/"):
        return JsonResponse({"detail": sentence}, status=429)
    return render(
        request,
        "registration/locked_out.html",
        {"sentence": sentence, "minutes": minutes},
        status=429,
    )


def is_not_a_password(request: HttpRequest, credentials: dict | None = None) -> bool:
    """Whether a sign-in attempt carries no password, so failed-sign-in counting leaves it alone.

    An OpenID Connect callback authenticates with a code, not a password: the
    provider throttles its own password checks, and every callback has no
    username, so counting refusals (someone outside the allowed groups) would
    lock a whole office's address out of single sign-on.
    """
    return not (credentials or {}).get("password")
