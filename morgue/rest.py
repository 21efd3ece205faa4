"""REST plumbing shared by every app: pagination and the one error format.

Kept apart from the viewsets: DRF imports these settings while it is still
loading its own generic views.
"""

import functools

from django.conf import settings
from django.core.exceptions import PermissionDenied as DjangoPermissionDenied
from django.core.exceptions import RequestDataTooBig
from django.core.exceptions import ValidationError as DjangoValidationError
from django.http import Http404
from rest_framework import exceptions, status
from rest_framework.pagination import PageNumberPagination
from rest_framework.response import Response
from rest_framework.views import exception_handler as drf_exception_handler

from .exceptions import MorgueError
from .paging import CountedPaginator


class Pagination(PageNumberPagination):
    page_size_query_param = "page_size"
    max_page_size = 200

    def paginate_queryset(self, queryset, request, view=None):
        """A view with `count_for_list()` says how long its list is instead of having it counted."""
        count_for_list = getattr(view, "count_for_list", None)
        if count_for_list is not None:
            # DRF only calls it, with (queryset, page_size); the stubs want a class.
            self.django_paginator_class = functools.partial(  # type: ignore[assignment]
                CountedPaginator, count=count_for_list()
            )
        return super().paginate_queryset(queryset, request, view)


def _sentences(detail, prefix: str = "") -> list[str]:
    """Flatten DRF's nested error detail into readable sentences, field first."""
    if isinstance(detail, dict):
        out: list[str] = []
        for key, value in detail.items():
            name = "" if key in ("non_field_errors", "detail") else str(key)
            out.extend(_sentences(value, f"{prefix}{name}: " if name and not prefix else prefix))
        return out
    if isinstance(detail, list):
        out = []
        for item in detail:
            out.extend(_sentences(item, prefix))
        return out
    return [f"{prefix}{detail}"]


def exception_handler(exc, context):
    """Every API error is JSON with a `detail` sentence; field errors also under `errors`."""
    if isinstance(exc, MorgueError):
        body: dict[str, object] = {"detail": exc.message}
        if exc.field:
            body["errors"] = {exc.field: [exc.message]}
        body.update(getattr(exc, "extra", {}) or {})
        return Response(body, status=exc.status_code)
    if isinstance(exc, RequestDataTooBig):
        limit_mb = settings.DATA_UPLOAD_MAX_MEMORY_SIZE / (1024 * 1024)
        return Response(
            {"detail": f"The request body is larger than the {limit_mb:g} MB limit."},
            status=status.HTTP_413_REQUEST_ENTITY_TOO_LARGE,
        )
    if isinstance(exc, DjangoValidationError):
        exc = exceptions.ValidationError(
            exc.message_dict if hasattr(exc, "error_dict") else {"detail": exc.messages}
        )
    elif isinstance(exc, Http404):
        exc = exceptions.NotFound()
    elif isinstance(exc, DjangoPermissionDenied):
        exc = exceptions.PermissionDenied()

    response = drf_exception_handler(exc, context)
    if response is None:
        return None
    if isinstance(exc, exceptions.ValidationError):
        errors = exc.detail if isinstance(exc.detail, dict) else {"detail": exc.detail}
        response.data = {"detail": " ".join(_sentences(errors)), "errors": errors}
    return response
