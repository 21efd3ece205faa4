"""Small helpers every source module shares: instants, zones, slugs and weekly windows. No Django."""

import datetime as dt
import itertools
from typing import Any

from morgue.timezones import UnknownTimeZone, check_time_zone

from .. import shifts as shift_rules
from .plan import ImportFailed, TimelineEntry

WEEK_MINUTES = 7 * 24 * 60


def instant(value: object, where: str) -> dt.datetime:
    """An aware UTC datetime from an ISO 8601 string with an offset (or Z)."""
    if isinstance(value, str):
        try:
            parsed = dt.datetime.fromisoformat(value.replace("Z", "+00:00"))
        except ValueError:
            parsed = None
        if parsed is not None and parsed.tzinfo is not None:
            return parsed.astimezone(dt.UTC)
    raise ImportFailed(f"{where}: {value!r} is not a date and time with an offset (ISO 8601).")


def iso(value: dt.datetime) -> str:
    return value.astimezone(dt.UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def zone_name(value: object, where: str) -> str:
    """An IANA zone name, or ImportFailed naming the record."""
    try:
        check_time_zone(str(value))
    except UnknownTimeZone as error:
        raise ImportFailed(f"{where}: {error}") from error
    return str(value)


def field(record: Any, name: str, where: str) -> Any:
    """record[name], or ImportFailed saying the answer is not in the schema the importer knows."""
    if not isinstance(record, dict) or name not in record:
        raise ImportFailed(f"{where} has no {name!r}: this is not a schema the importer knows.")
    return record[name]


def window(start_minute: int, length_minutes: int) -> tuple[tuple[str, str], ...] | None:
    """A weekly window from minute-of-week `start_minute` lasting `length_minutes`.

    None when it is the whole week or cannot be one window (see `windows`).
    """
    if length_minutes >= WEEK_MINUTES:
        return None
    end_minute = (start_minute + length_minutes) % WEEK_MINUTES

    def day_and_time(minute: int) -> tuple[str, str]:
        day, rest = divmod(minute, 24 * 60)
        return shift_rules.WEEKDAYS[day], f"{rest // 60:02d}:{rest % 60:02d}"

    start_day, start_time = day_and_time(start_minute)
    end_day, end_time = day_and_time(end_minute)
    if start_day == end_day and end_minute <= start_minute:
        # Crossing the week's end back into the same day: split at midnight so
        # each window ends after it starts (oncall.shifts.parse_restrictions).
        return None  # the caller splits; see split_window
    return (
        ("start_day", start_day),
        ("start_time", start_time),
        ("end_day", end_day),
        ("end_time", end_time),
    )


def windows(start_minute: int, length_minutes: int) -> list[tuple[tuple[str, str], ...]] | None:
    """The weekly window(s) for a span of the week; None when the span is the whole week."""
    if length_minutes <= 0:
        return []
    if length_minutes >= WEEK_MINUTES:
        return None
    single = window(start_minute, length_minutes)
    if single is not None:
        return [single]
    # Same weekday at both ends, ending earlier than it starts: a span of more than six days.
    midnight = (start_minute // (24 * 60) + 1) * 24 * 60
    first = midnight - start_minute
    head = window(start_minute, first)
    tail = window(midnight % WEEK_MINUTES, length_minutes - first)
    return [part for part in (head, tail) if part is not None]


WEEK_HOURS = 7 * 24


def turn_windows(
    virtual_start: dt.datetime, turn_hours: int, count: int, index: int
) -> list[tuple[tuple[str, str], ...]] | None:
    """The weekly windows of turn `index` of every `count` turns, on the local wall clock.

    Turn k starts at the naive local `virtual_start + k × turn_hours`. When
    `count × turn_hours` divides a week, the turns `index`, `index + count`, …
    fall on the same wall times every week, so they are weekly windows
    (Morgue's restrictions); None when the pattern does not repeat weekly.
    """
    cycle = count * turn_hours
    if cycle <= 0 or WEEK_HOURS % cycle:
        return None
    found: list[tuple[tuple[str, str], ...]] = []
    for repeat in range(WEEK_HOURS // cycle):
        start = virtual_start + dt.timedelta(hours=(index + repeat * count) * turn_hours)
        minute = start.weekday() * 1440 + start.hour * 60 + start.minute
        found.extend(windows(minute, turn_hours * 60) or [])
    return found


def simultaneous(entries: list[TimelineEntry]) -> list[tuple[dt.datetime, dt.datetime, tuple[str, ...]]]:
    """The stretches where a rendered timeline has two people or more on call at once."""
    points = sorted({point for entry in entries for point in (entry.starts_at, entry.ends_at)})
    found: list[tuple[dt.datetime, dt.datetime, tuple[str, ...]]] = []
    for start, end in itertools.pairwise(points):
        people = tuple(
            sorted(
                {
                    entry.person
                    for entry in entries
                    if entry.person and entry.starts_at <= start < entry.ends_at
                }
            )
        )
        if len(people) < 2:
            continue
        if found and found[-1][1] == start and found[-1][2] == people:
            found[-1] = (found[-1][0], end, people)
        else:
            found.append((start, end, people))
    return found
