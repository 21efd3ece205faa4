"""The signed-in person behind a request, as the type checker and views see them.

Pages are let in by LoginRequiredMiddleware and the API by DRF's IsAuthenticated,
so past those rules `request.user` is a person, never AnonymousUser.
"""

from django.contrib.auth.models import AnonymousUser, User
from django.http import HttpRequest
from rest_framework.exceptions import NotAuthenticated
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
