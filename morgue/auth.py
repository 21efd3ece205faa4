"""The signed-in person behind a request, as the type checker and views see them.

Pages are let in by LoginRequiredMiddleware and the API by DRF's IsAuthenticated,
so past those rules `request.user` is a person, never AnonymousUser.
"""

from django.contrib.auth.models import AnonymousUser, User
from django.http import HttpRequest
from django.utils import timezone
from rest_framework import exceptions
from rest_framework.authentication import BaseAuthentication, get_authorization_header
from rest_framework.exceptions import NotAuthenticated
from rest_framework.permissions import SAFE_METHODS
from rest_framework.request import Request


class SignedInRequest(HttpRequest):
    """The request a page behind LoginRequiredMiddleware receives (an annotation; never made)."""

    user: User


def signed_in(request: Request) -> User:
    """The person behind an API request that IsAuthenticated has let in."""
    user = request.user
    if isinstance(user, AnonymousUser):
        raise NotAuthenticated()
    return user


# `Bearer` is the usual scheme; `Token` is what Morgue's scripts sent before API tokens were hashed.
API_TOKEN_SCHEMES = (b"bearer", b"token")


class ApiTokenAuthentication(BaseAuthentication):
    """`Authorization: Bearer morgue_…` (or `Token …`): a person's API token (morgue.models.ApiToken).

    Expired and revoked tokens are a 401 that says so; a read-only token on a
    request that changes something is a 403, whatever the view's own permissions.
    """

    def authenticate(self, request):
        from morgue.models import ApiToken  # DRF loads this class before the apps are ready

        words = get_authorization_header(request).split()
        if not words or words[0].lower() not in API_TOKEN_SCHEMES:
            return None
        if len(words) != 2:
            raise exceptions.AuthenticationFailed(
                "Send one API token after the scheme: 'Authorization: Bearer morgue_…'."
            )
        try:
            presented = words[1].decode("ascii")
        except UnicodeDecodeError:
            raise exceptions.AuthenticationFailed("The API token is not valid.") from None
        api_token = ApiToken.for_token(presented)
        if api_token is None:
            raise exceptions.AuthenticationFailed("The API token is not valid.")
        now = timezone.now()
        if api_token.revoked_at is not None:
            raise exceptions.AuthenticationFailed(
                f"This API token ({api_token.prefix}) was revoked on {api_token.revoked_at:%Y-%m-%d}."
            )
        if api_token.is_expired(now):
            raise exceptions.AuthenticationFailed(
                f"This API token ({api_token.prefix}) expired on {api_token.expires_at:%Y-%m-%d}; "
                "make a new one on your profile page."
            )
        if not api_token.owner.is_active:
            raise exceptions.AuthenticationFailed("The account this API token belongs to is deactivated.")
        if request.method not in SAFE_METHODS and not api_token.can_write:
            raise exceptions.PermissionDenied(
                f"This API token ({api_token.prefix}) may only read; "
                "use a token with write scope to make changes."
            )
        api_token.note_use(now)
        return api_token.owner, api_token

    def authenticate_header(self, request) -> str:
        return 'Bearer realm="api"'
