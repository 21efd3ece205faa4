"""Parsing query-string filters into typed values, with sentences for bad input."""

import datetime as dt
from zoneinfo import ZoneInfo

from django.utils.dateparse import parse_date, parse_datetime

from .exceptions import MorgueError


def parse_instant(
    name: str, value: str | None, *, zone: ZoneInfo, end_of_day: bool = False
) -> dt.datetime | None:
    """An ISO 8601 date or date-time; a date means midnight on the person's own calendar.

    With `end_of_day`, a bare date means the midnight after it, so `until=2026-03-31`
    includes the whole of 31 March.
    """
    if not value:
        return None
    # A bare date is tried first: parse_datetime also reads "2026-03-31", as its midnight.
    try:
        day = parse_date(value)
        instant = None if day else parse_datetime(value)
    except ValueError:
        day = instant = None
    if instant is not None:
        return instant if instant.tzinfo else instant.replace(tzinfo=zone)
    if day is None:
        raise MorgueError(
            f"{name} must be an ISO 8601 date or date-time (for example 2026-03-01 or "
            f"2026-03-01T09:30:00+00:00), not {value!r}.",
            field=name,
        )
    if end_of_day:
        day += dt.timedelta(days=1)
    return dt.datetime.combine(day, dt.time(0), tzinfo=zone)


def parse_int_list(name: str, values: list[str], *, low: int, high: int) -> list[int]:
    """Integers from repeated or comma-separated parameters, each within [low, high]."""
    numbers = []
    for raw in (part for value in values for part in value.split(",")):
        if not raw.strip():
            continue
        try:
            number = int(raw)
        except ValueError:
            raise MorgueError(
                f"{name} must be whole numbers from {low} to {high}, not {raw!r}.", field=name
            ) from None
        if not low <= number <= high:
            raise MorgueError(f"{name} must be from {low} to {high}, not {number}.", field=name)
        numbers.append(number)
    return numbers


def parse_bool(name: str, value: str | None) -> bool | None:
    if not value:
        return None
    lowered = value.strip().lower()
    if lowered in {"1", "true", "yes", "on"}:
        return True
    if lowered in {"0", "false", "no", "off"}:
        return False
    raise MorgueError(f"{name} must be true or false, not {value!r}.", field=name)
