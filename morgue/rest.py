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
from rest_framework.pagination import BasePagination, PageNumberPagination
from rest_framework.response import Response
from rest_framework.utils.urls import replace_query_param
from rest_framework.views import exception_handler as drf_exception_handler

from .exceptions import MorgueError
from .paging import BadCursor, CountedPaginator, keyset_page


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


class KeysetPagination(BasePagination):
    """Newest first, a page at a time, each page found from the last one's (instant, id).

    For logs that only grow: nothing is counted, the page after a cursor is a
    range on the `position` index (as fast on the last page as on the first),
    and a row arriving meanwhile neither repeats nor hides one on later pages.
    The cursor is opaque; clients follow `next` until it is null.
    """

    position = "started_at"  # a non-null datetime field, indexed, the list's order with -id
    page_size = 50
    max_page_size = 200
    noun = "Rows"

    def paginate_queryset(self, queryset, request, view=None):
        if "page" in request.query_params:
            raise exceptions.ValidationError({"page": ["This list pages by cursor: follow `next`."]})
        self.request = request
        try:
            page = keyset_page(
                queryset,
                position=self.position,
                cursor=request.query_params.get("cursor"),
                size=self._page_size(request),
            )
        except BadCursor as error:
            raise exceptions.ValidationError(
                {"cursor": ["Not a cursor this list gave: follow `next` from a previous page."]}
            ) from error
        self.next_cursor = page.next_cursor
        return page.rows

    def _page_size(self, request) -> int:
        value = request.query_params.get("page_size")
        if value is None:
            return self.page_size
        if not value.isdigit() or not 1 <= int(value) <= self.max_page_size:
            raise exceptions.ValidationError(
                {"page_size": [f"A whole number from 1 to {self.max_page_size}."]}
            )
        return int(value)

    def get_paginated_response(self, data):
        next_url = None
        if self.next_cursor is not None:
            next_url = replace_query_param(self.request.build_absolute_uri(), "cursor", self.next_cursor)
        return Response({"next": next_url, "results": data})

    def get_paginated_response_schema(self, schema):
        return {
            "type": "object",
            "required": ["next", "results"],
            "properties": {
                "next": {
                    "type": "string",
                    "nullable": True,
                    "format": "uri",
                    "description": "The next (older) page; null on the last page. The list has no count.",
                },
                "results": schema,
            },
        }

    def get_schema_operation_parameters(self, view):
        return [
            {
                "name": "cursor",
                "required": False,
                "in": "query",
                "description": "Where the page starts, as given in the previous page's `next`.",
                "schema": {"type": "string"},
            },
            {
                "name": "page_size",
                "required": False,
                "in": "query",
                "description": (
                    f"{self.noun} per page, 1 to {self.max_page_size}; {self.page_size} by default."
                ),
                "schema": {"type": "integer"},
            },
        ]


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
