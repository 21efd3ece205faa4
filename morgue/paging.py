"""Pages of a list without counting its rows: a kept length, or a cursor into a log."""

import base64
import binascii
import datetime as dt
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlencode

from django.core.paginator import Paginator
from django.db.models import QuerySet
from django.http import HttpRequest
from django.utils.functional import cached_property


class CountedPaginator(Paginator):
    """A Paginator told the list's length: for lists whose count is kept (IncidentCount), not counted."""

    def __init__(self, object_list, per_page, *, count: int, **kwargs):
        super().__init__(object_list, per_page, **kwargs)
        self.known_count = count

    @cached_property
    def count(self) -> int:
        return self.known_count


class BadCursor(ValueError):
    """A cursor this list did not give."""


@dataclass(frozen=True)
class KeysetPage:
    """A page of a newest-first log and the cursor of the page after it (None on the last)."""

    rows: list[Any]
    next_cursor: str | None


def encode_cursor(row: Any, position: str) -> str:
    """An opaque cursor for the rows after `row`: its (position, id), base64."""
    text = f"{getattr(row, position).isoformat()}|{row.pk}"
    return base64.urlsafe_b64encode(text.encode()).decode().rstrip("=")


def decode_cursor(cursor: str) -> tuple[dt.datetime, int]:
    try:
        text = base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4)).decode()
        instant, pk = text.split("|")
        moment = dt.datetime.fromisoformat(instant)
        if moment.tzinfo is None:
            raise ValueError(instant)
        return moment, int(pk)
    except (binascii.Error, UnicodeDecodeError, ValueError) as error:
        raise BadCursor(cursor) from error


def keyset_page(queryset: QuerySet[Any], *, position: str, cursor: str | None, size: int) -> KeysetPage:
    """The `size` rows after `cursor` (from the newest without one), newest first by (position, id).

    For logs that only grow: nothing is counted, the page after a cursor is a
    range on the `position` index (as fast on the last page as on the first),
    and a row arriving meanwhile neither repeats nor hides one on later pages.
    Raises BadCursor for a cursor this list did not give.
    """
    rows = queryset.order_by(f"-{position}", "-id")
    if cursor:
        instant, pk = decode_cursor(cursor)
        # position <= t AND NOT (position = t AND id >= pk): one range on the index.
        rows = rows.filter(**{f"{position}__lte": instant}).exclude(**{position: instant, "id__gte": pk})
    found = list(rows[: size + 1])
    more = len(found) > size
    return KeysetPage(found[:size], encode_cursor(found[size - 1], position) if more else None)


def log_page(request: HttpRequest, queryset: QuerySet[Any], *, position: str, size: int) -> dict[str, Any]:
    """A page of a log for an HTML page: its rows, the addresses of the older and the newest pages,
    and `query`, the other query parameters (the filters), which the links keep.

    A cursor this list did not give (an edited address) shows the newest page.
    """
    cursor = request.GET.get("cursor") or None
    try:
        page = keyset_page(queryset, position=position, cursor=cursor, size=size)
    except BadCursor:
        page = keyset_page(queryset, position=position, cursor=None, size=size)
    query = {name: value for name, value in request.GET.items() if name != "cursor" and value}
    older = None
    if page.next_cursor is not None:
        older = request.path + "?" + urlencode({**query, "cursor": page.next_cursor})
    newest = request.path + "?" + urlencode(query) if cursor else None
    return {"rows": page.rows, "older": older, "newest": newest, "query": query}
