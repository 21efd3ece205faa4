"""Reads about who is on call."""

import datetime as dt
from collections import defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Any

from django.contrib.auth import get_user_model
from django.contrib.auth.models import User
from django.db import connection
from django.db.models import Count, Exists, OuterRef, QuerySet
from django.utils import timezone
from django.utils.dateparse import parse_datetime

from morgue.models import Profile, Team, default_sleep_end, default_sleep_start, name_from_columns

from . import shifts as shift_rules
from .models import (
    LONGEST_SHIFT,
    ContactMethod,
    Level,
    Notification,
    NotificationRule,
    Page,
    PageStep,
    Rotation,
    Shift,
)


class Holders:
    """Who holds one level of each of some teams at some instants, from one query.

    The one definition of "who holds level X of team T at instant I": the
    first piece, in HOLDER_ORDER, of the team's shifts of that level that
    covers I; nobody when none does (a gap). Paging (person_on_call) and the
    alerts review (who was paged for each alert) both ask it; on_call_now's
    statement is proved to agree with it in tests/oncall/test_on_call_now.py.
    """

    def __init__(self, *, level: str, team_ids: Iterable[int], instants: Sequence[dt.datetime]):
        self.pieces: dict[int, list[Shift]] = defaultdict(list)
        team_ids = set(team_ids)
        if not team_ids or not instants:
            return
        shifts = (
            Shift.objects.holding(level=level, at=min(instants), until=max(instants))
            .filter(rotation__team_id__in=team_ids)
            .select_related("rotation", "user__profile")
        )
        for shift in shifts:
            self.pieces[shift.rotation.team_id].append(shift)

    def shift(self, team_id: int, at: dt.datetime) -> Shift | None:
        """The piece that holds the level for the team at an instant, or None."""
        return next((piece for piece in self.pieces.get(team_id, ()) if piece.covers(at)), None)

    def person(self, team_id: int, at: dt.datetime) -> User | None:
        """The person holding the level for the team at an instant, or None."""
        shift = self.shift(team_id, at)
        return shift.user if shift else None


def person_on_call(*, team: Team, at: dt.datetime, level: str = Level.L1) -> User | None:
    """The person holding `level` for `team` at an instant, or None when nobody does."""
    return Holders(level=level, team_ids=[team.pk], instants=[at]).person(team.pk, at)


@dataclass(frozen=True)
class OnCallRow:
    """One row of GET /api/v1/oncall/ (slugs and usernames), with display names beside them."""

    team: str
    rotation: str
    level: str
    user: str
    shift_start: dt.datetime
    shift_end: dt.datetime
    source: str
    next_user: str | None
    next_shift_start: dt.datetime | None
    team_name: str
    rotation_name: str
    user_name: str
    next_user_name: str | None


# The fast path for the on-call pages, the API and `whoisoncall`. Per
# rotation and level it names the holder of the one definition (Holders:
# the piece covering the instant) and the holder when that piece ends;
# tests/oncall/test_on_call_now.py proves it on the same rows (overrides,
# swaps, gaps, L1/L2, several teams) and must stay beside it.
#
# One statement: the current shift pieces come from the narrow index range
# that a bare SELECT uses (see ShiftQuerySet.covering), and the next piece of
# each level is a self-join on (rotation, level, starts_at = ends_at) — pieces
# of one level are contiguous, so the next one starts exactly when the
# current one ends. Plain SQL because the ORM cannot join a table to itself
# on non-key columns, and building model instances for every row would cost
# several times the query itself (bench/bench_oncall.py).
#
# Nine tables in one join cost PostgreSQL more to plan than to run; each
# `{fence}` (OFFSET 0) makes the planner plan the nested query on its own,
# so it orders three small joins instead of one large one. SQLite plans
# cheaply and has no OFFSET without LIMIT, so there the fence is empty.
ON_CALL_SQL = """
SELECT listed.team_slug, listed.team_name, listed.rotation_slug, listed.rotation_name, listed.level,
       person.username, person.first_name, person.last_name, profile.display_name,
       listed.starts_at, listed.ends_at, listed.source,
       next_person.username, next_person.first_name, next_person.last_name, next_profile.display_name,
       listed.next_starts_at
FROM (
    SELECT team.slug AS team_slug, team.name AS team_name, rotation.slug AS rotation_slug,
           rotation.name AS rotation_name, current.*
    FROM (
        SELECT shift.rotation_id, shift.level, shift.user_id, shift.starts_at, shift.ends_at, shift.source,
               next_shift.user_id AS next_user_id, next_shift.starts_at AS next_starts_at
        FROM {shift} shift
        LEFT JOIN {shift} next_shift ON next_shift.rotation_id = shift.rotation_id
             AND next_shift.level = shift.level AND next_shift.starts_at = shift.ends_at
             AND next_shift.starts_at > %s AND next_shift.starts_at <= %s AND NOT next_shift.masked
        WHERE shift.starts_at <= %s AND shift.starts_at > %s AND shift.ends_at > %s AND NOT shift.masked
        {fence}
    ) AS current
    JOIN {rotation} rotation ON rotation.id = current.rotation_id {team_filter}
    JOIN {team} team ON team.id = rotation.team_id
    {fence}
) AS listed
JOIN {user} person ON person.id = listed.user_id
LEFT JOIN {profile} profile ON profile.user_id = listed.user_id
LEFT JOIN {user} next_person ON next_person.id = listed.next_user_id
LEFT JOIN {profile} next_profile ON next_profile.user_id = listed.next_user_id
"""


def _held_instant(value: str | dt.datetime | None) -> dt.datetime:
    """A bound of the piece someone holds: the query only yields pieces with both."""
    instant = _instant(value)
    if instant is None:
        raise ValueError("a held piece of a shift has a start and an end")
    return instant


def _instant(value: str | dt.datetime | None) -> dt.datetime | None:
    """A UTC datetime from what the driver returns (SQLite gives text)."""
    if value is None:
        return None
    if isinstance(value, str):
        parsed = parse_datetime(value)
        if parsed is None:
            raise ValueError(f"{value!r} is not a datetime")
        value = parsed
    if value.tzinfo is None:
        value = value.replace(tzinfo=dt.UTC)
    return value.astimezone(dt.UTC)


def on_call_now(*, at: dt.datetime | None = None, team: Team | None = None) -> list[OnCallRow]:
    """Who holds each level of each rotation at an instant, and who is next: one query.

    Every rotation that has a holder is listed; a team's on-call person (when
    it has several rotations) is the one of its oldest rotation, as Holders says.
    Pieces a higher layer covers are masked, so they are never listed.
    """
    at = at or timezone.now()
    sql = ON_CALL_SQL.format(
        shift=Shift._meta.db_table,
        rotation=Rotation._meta.db_table,
        team=Team._meta.db_table,
        user=get_user_model()._meta.db_table,
        profile=Profile._meta.db_table,
        team_filter="AND rotation.team_id = %s" if team is not None else "",
        fence="OFFSET 0" if connection.vendor == "postgresql" else "",
    )
    adapt = connection.ops.adapt_datetimefield_value
    # The next piece starts after `at` and no later than the longest shift
    # from it; the bound keeps the planner to an index range, not the table.
    params: list[Any] = [
        adapt(at),
        adapt(at + LONGEST_SHIFT),
        adapt(at),
        adapt(at - LONGEST_SHIFT),
        adapt(at),
    ]
    if team is not None:
        params.append(team.pk)
    with connection.cursor() as cursor:
        cursor.execute(sql, params)
        records = cursor.fetchall()
    rows = []
    for record in records:
        (team_slug, team_name, rotation_slug, rotation_name, level) = record[:5]
        next_username = record[12]
        rows.append(
            OnCallRow(
                team=team_slug,
                rotation=rotation_slug,
                level=level,
                user=record[5],
                shift_start=_held_instant(record[9]),
                shift_end=_held_instant(record[10]),
                source=record[11],
                next_user=next_username,
                next_shift_start=_instant(record[16]),
                team_name=team_name,
                rotation_name=rotation_name,
                user_name=name_from_columns(*record[5:9]),
                next_user_name=name_from_columns(*record[12:16]) if next_username else None,
            )
        )
    # Sorted here rather than in SQL: a simpler plan for the database.
    rows.sort(key=lambda row: (row.team_name, row.rotation_name, row.level))
    return rows


def upcoming_shifts(*, user: User, at: dt.datetime | None = None, limit: int = 10) -> QuerySet[Shift]:
    at = at or timezone.now()
    return (
        Shift.objects.filter(user=user, ends_at__gt=at)
        .select_related("rotation__team")
        .order_by("starts_at")[:limit]
    )


def rotation_shifts(*, rotation: Rotation, since: dt.datetime, until: dt.datetime) -> QuerySet[Shift]:
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
    entries: list[CalendarEntry]


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
    counted_numbers: dict[int, set[tuple[int, str]]] = defaultdict(set)
    for shift in pieces:
        profile = getattr(shift.user, "profile", None)
        row = rows.get(shift.user_id)
        if row is None:
            row = rows[shift.user_id] = FairnessRow(
                shift.user.username, profile.name if profile else shift.user.username
            )
        window = shift_rules.Window(max(shift.starts_at, since), min(shift.ends_at, until))
        zone = profile.zone if profile else shift_rules.UTC
        # No profile yet: the defaults a profile would be made with.
        night = (
            (profile.sleep_start, profile.sleep_end)
            if profile
            else (default_sleep_start(), default_sleep_end())
        )
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


def profiles_by_user(users: Iterable[User]) -> dict[int, Profile]:
    return {profile.user_id: profile for profile in Profile.objects.filter(user__in=users)}


def reaching_context(*, user: User) -> dict[str, Any]:
    """The profile's "Reaching you": contact methods, rules in order, the last fire drill's receipts."""
    return {
        "contact_methods": list(ContactMethod.objects.filter(user=user)),
        "notification_rules": list(
            NotificationRule.objects.filter(user=user).select_related("contact_method")
        ),
        "drill_receipts": latest_drill(user=user),
    }


def latest_drill(*, user: User) -> list[Notification]:
    """The receipts of a person's latest fire drill."""
    drills = Notification.objects.filter(key__startswith=f"drill:{user.pk}:", step=None)
    last = drills.order_by("-due_at", "-pk").first()
    return list(drills.filter(key=last.key).order_by("pk")) if last else []


def page_notifications(*, page: Page) -> list[Notification]:
    """Everything a page sent, step by step, with what failed and what was sent instead."""
    rows = Notification.objects.filter(step__page=page).select_related("step", "user", "fallback_for")
    return list(rows.order_by("step__number", "due_at", "pk"))


YOUR_OPEN_PAGES = 10


def open_pages_for(*, user: User, limit: int = YOUR_OPEN_PAGES) -> list[Page]:
    """The unresolved pages that reached the person (a step named them), newest first, in one query.

    Unresolved: still escalating, acknowledged but not over, or run out with nobody answering.
    """
    reached = PageStep.objects.filter(page=OuterRef("pk"), user=user)
    pages = Page.objects.unresolved().filter(Exists(reached)).select_related("team", "acknowledged_by")
    return list(pages.order_by("-created_at", "-pk")[:limit])
