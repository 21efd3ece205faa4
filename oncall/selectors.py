"""Reads about who is on call."""

import datetime as dt
from collections import defaultdict
from dataclasses import dataclass

from django.contrib.auth import get_user_model
from django.db.models import Count
from django.utils import timezone

from morgue.models import Profile

from . import shifts as shift_rules
from .models import Level, PageStep, Rotation, Shift, Team


def person_on_call(*, team: Team, at: dt.datetime, level: str = Level.L1):
    """The person holding `level` for `team` at an instant, or None when nobody does."""
    shift = (
        Shift.objects.covering(at)
        .filter(rotation__team=team, level=level)
        .select_related("user")
        .order_by("rotation_id")
        .first()
    )
    return shift.user if shift else None


@dataclass(frozen=True)
class OnCallRow:
    team: Team
    rotation: Rotation
    level: str
    user: object
    shift_start: dt.datetime
    shift_end: dt.datetime
    source: str
    next_user: str | None
    next_shift_start: dt.datetime | None


def on_call_now(*, at: dt.datetime | None = None, team: Team | None = None) -> list[OnCallRow]:
    """Who holds each level of each rotation at an instant, and who is next, in four queries.

    The shift rows come from the same narrow index scan as a bare SELECT;
    teams, rotations and people are then fetched once each by primary key.
    Shift pieces of one level are contiguous, so the next piece of a level
    starts exactly when the current one ends.
    """
    at = at or timezone.now()
    current = Shift.objects.covering(at)
    if team is not None:
        current = current.filter(rotation__team=team)
    rows = list(current.values_list("rotation_id", "level", "user_id", "starts_at", "ends_at", "source"))
    if not rows:
        return []
    following = {
        (rotation_id, level, start): user_id
        for rotation_id, level, start, user_id in Shift.objects.filter(
            rotation_id__in={row[0] for row in rows}, starts_at__in={row[4] for row in rows}
        ).values_list("rotation_id", "level", "starts_at", "user_id")
    }
    wanted = {row[2] for row in rows} | set(following.values())
    rotations = Rotation.objects.select_related("team").in_bulk({row[0] for row in rows})
    people = get_user_model().objects.select_related("profile").in_bulk(wanted)
    result = []
    for rotation_id, level, user_id, starts_at, ends_at, source in rows:
        rotation = rotations[rotation_id]
        next_user = people.get(following.get((rotation_id, level, ends_at)))
        result.append(
            OnCallRow(
                team=rotation.team,
                rotation=rotation,
                level=level,
                user=people[user_id],
                shift_start=starts_at,
                shift_end=ends_at,
                source=source,
                next_user=next_user.username if next_user else None,
                next_shift_start=ends_at if next_user else None,
            )
        )
    result.sort(key=lambda row: (row.team.name, row.rotation.name, row.level))
    return result


def upcoming_shifts(*, user, at: dt.datetime | None = None, limit: int = 10):
    at = at or timezone.now()
    return (
        Shift.objects.filter(user=user, ends_at__gt=at)
        .select_related("rotation__team")
        .order_by("starts_at")[:limit]
    )


def rotation_shifts(*, rotation: Rotation, since: dt.datetime, until: dt.datetime):
    return (
        rotation.shifts.overlapping(since, until)
        .select_related("user__profile")
        .order_by("starts_at", "level")
    )


@dataclass(frozen=True)
class CalendarEntry:
    shift: Shift
    starts: dt.time | None  # local start time when the shift starts that day
    ends: dt.time | None  # local end time when it ends that day


@dataclass
class CalendarDay:
    day: dt.date
    entries: list


def calendar_weeks(*, rotation: Rotation, start: dt.date, weeks: int = 6) -> list[list[CalendarDay]]:
    """A rotation's shifts as weeks (Monday first) of days on its own wall clock; one query."""
    zone = rotation.zone
    monday = start - dt.timedelta(days=start.weekday())
    days = [monday + dt.timedelta(days=offset) for offset in range(weeks * 7)]
    since = shift_rules.local_instant(days[0], dt.time(0), zone)
    until = shift_rules.local_instant(days[-1] + dt.timedelta(days=1), dt.time(0), zone)
    by_day = defaultdict(list)
    for shift in rotation_shifts(rotation=rotation, since=since, until=until):
        local_start = shift.starts_at.astimezone(zone)
        local_end = shift.ends_at.astimezone(zone)
        day = max(shift.starts_at, since).astimezone(zone).date()
        last = (min(shift.ends_at, until) - dt.timedelta(microseconds=1)).astimezone(zone).date()
        while day <= last:
            starts = local_start.time() if local_start.date() == day else None
            ends = local_end.time() if local_end.date() == day else None
            by_day[day].append(CalendarEntry(shift, starts, ends))
            day += dt.timedelta(days=1)
    for entries in by_day.values():
        entries.sort(key=lambda entry: (entry.shift.level, entry.shift.starts_at))
    cells = [CalendarDay(day, by_day.get(day, [])) for day in days]
    return [cells[index : index + 7] for index in range(0, len(cells), 7)]


@dataclass
class FairnessRow:
    username: str
    name: str
    shifts: int = 0
    hours: float = 0.0
    weekend_hours: float = 0.0
    night_hours: float = 0.0
    pages: int = 0
    l1_shifts: int = 0
    l2_shifts: int = 0


def fairness(*, rotation: Rotation, since: dt.datetime, until: dt.datetime) -> list[FairnessRow]:
    """Per person: shifts, hours on call, weekend and night hours on their own clock, pages received."""
    rows: dict[int, FairnessRow] = {}
    pieces = list(rotation_shifts(rotation=rotation, since=since, until=until))
    counted_numbers: dict[int, set] = defaultdict(set)
    for shift in pieces:
        profile = getattr(shift.user, "profile", None)
        row = rows.get(shift.user_id)
        if row is None:
            row = rows[shift.user_id] = FairnessRow(
                shift.user.username, profile.name if profile else shift.user.username
            )
        window = shift_rules.Window(max(shift.starts_at, since), min(shift.ends_at, until))
        zone = profile.zone if profile else shift_rules.UTC
        night = (profile.sleep_start, profile.sleep_end) if profile else (dt.time(22), dt.time(7))
        row.hours += (window.ends_at - window.starts_at).total_seconds() / 3600
        row.weekend_hours += shift_rules.hours_in(window, zone, weekend=True)
        row.night_hours += shift_rules.hours_in(window, zone, night=night)
        if (shift.number, shift.level) not in counted_numbers[shift.user_id]:
            counted_numbers[shift.user_id].add((shift.number, shift.level))
            row.shifts += 1
            if shift.level == Level.L1:
                row.l1_shifts += 1
            else:
                row.l2_shifts += 1
    pages = (
        PageStep.objects.filter(team=rotation.team, created_at__gte=since, created_at__lt=until)
        .exclude(user=None)
        .values("user_id")
        .annotate(count=Count("id"))
    )
    for item in pages:
        if item["user_id"] in rows:
            rows[item["user_id"]].pages = item["count"]
    return sorted(rows.values(), key=lambda row: row.username)


def profiles_by_user(users) -> dict:
    return {profile.user_id: profile for profile in Profile.objects.filter(user__in=users)}
