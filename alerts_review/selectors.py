"""Reads of the alerts review: alert lists, a shift's review, and the monthly report."""

import calendar
import datetime as dt
import operator
import re
from collections import Counter, defaultdict
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from functools import reduce
from typing import Any
from zoneinfo import ZoneInfo

from django.contrib.auth import get_user_model
from django.contrib.auth.models import User
from django.core.paginator import Page
from django.db import connection
from django.db.models import Count, Max, Model, Q, QuerySet, Sum

from morgue.counters import month_of_day
from morgue.models import Team, name_from_columns
from morgue.paging import CountedPaginator
from morgue.timezones import UnknownTimeZone, check_time_zone
from morgue.validators import EARLIEST_YEAR, LATEST_YEAR
from oncall.models import Shift

from . import paging
from .exceptions import BadMonth
from .models import (
    QUARTER_HOUR,
    Alert,
    AlertDayCount,
    AlertDayDelta,
    AlertHourCount,
    AlertHourDelta,
    AlertMonthCount,
    AlertMonthPagedCount,
    Category,
    CategoryHint,
    CategoryKind,
    MaintenanceWindow,
    PagingDecision,
    TruncatedAlerts,
)

# A check needs this many alerts in a month before the report recommends anything.
RECOMMEND_MIN_ALERTS = 3
TOP_LEVEL = [
    "total",
    "classified",
    "coverage",
    "actionable",
    "not_actionable",
    "signal_to_noise",
    "out_of_hours",
    "woke_people",
]


# --- Lists ------------------------------------------------------------------------


def filter_alerts(
    *,
    team: str | None = None,
    source: str | None = None,
    check: str | None = None,
    since: dt.datetime | None = None,
    until: dt.datetime | None = None,
    category: str | None = None,
    unclassified: bool = False,
    paged: str | None = None,
) -> QuerySet[Alert]:
    alerts = Alert.objects.select_related("team", "paged", "category")
    if team:
        alerts = alerts.filter(team__slug=team)
    if source:
        alerts = alerts.filter(source=source)
    if check:
        alerts = alerts.filter(check_name=check)
    if since:
        alerts = alerts.filter(fired_at__gte=since)
    if until:
        alerts = alerts.filter(fired_at__lt=until)
    if category:
        alerts = alerts.filter(category__slug=category)
    if unclassified:
        alerts = alerts.unclassified()
    if paged:
        alerts = alerts.filter(paged__username=paged)
    return alerts


# --- A shift's review ---------------------------------------------------------------


def last_shift(*, user: User, at: dt.datetime) -> Shift | None:
    """The person's most recent shift that has started by `at`."""
    return (
        Shift.objects.filter(user=user, starts_at__lte=at)
        .select_related("rotation__team")
        .order_by("-starts_at", "level")
        .first()
    )


# Alerts per page of a shift's review: a noisy shift has thousands, and each
# row carries its own classify form (about 1.5 KB of HTML).
REVIEW_PAGE_SIZE = 50


@dataclass
class CheckGroup:
    check: str
    alerts: list[Alert]  # those on this page
    total: int  # the check's alerts in the whole shift
    classified: int


@dataclass
class ShiftReview:
    shift: Shift
    groups: list[CheckGroup]
    total: int
    classified: int
    page: Page[Alert]
    # Stored during a maintenance window: left out of the queue, only counted.
    during_maintenance: int = 0


def shift_review(*, shift: Shift, at: dt.datetime, page: int | str | None = 1) -> ShiftReview:
    """A page of the alerts of a shift's team while it was on, newest first, grouped by check.

    The shift's and each check's counts are counted by the database, so a
    page costs the same few queries however many alerts the shift had.
    Alerts stored during maintenance and heartbeats are left out; an alert
    soon after a window on its check ended carries `suggested_category`.
    """
    until = min(shift.ends_at, at)
    shift_alerts = (
        Alert.objects.counted().fired_between(shift.starts_at, until).filter(team_id=shift.rotation.team_id)
    )
    listed = ~Q(paging__in=[PagingDecision.MAINTENANCE, PagingDecision.HEARTBEAT])
    alerts = shift_alerts.filter(listed)
    counts = shift_alerts.aggregate(
        total=Count("id", filter=listed),
        classified=Count("category_id", filter=listed),
        during_maintenance=Count("id", filter=Q(paging=PagingDecision.MAINTENANCE)),
    )
    paginator = CountedPaginator(
        alerts.select_related("category", "paged").order_by("-fired_at", "-id"),
        REVIEW_PAGE_SIZE,
        count=counts["total"],
    )
    shown = paginator.get_page(page)
    windows = paging.recent_windows(team_id=shift.rotation.team_id, since=shift.starts_at, until=until)
    for alert in shown:
        alert.suggested_category = paging.suggested_category(alert, windows) if windows else None
    groups: dict[str, list[Alert]] = {}
    for alert in shown:
        groups.setdefault(alert.check_name, []).append(alert)
    per_check = {
        row["check_name"]: row
        for row in alerts.filter(check_name__in=list(groups))
        .values("check_name")
        .annotate(total=Count("id"), classified=Count("category_id"))
        .order_by()
    }
    return ShiftReview(
        shift=shift,
        groups=[
            CheckGroup(
                check,
                items,
                total=per_check[check]["total"],
                classified=per_check[check]["classified"],
            )
            for check, items in groups.items()
        ],
        total=counts["total"],
        classified=counts["classified"],
        page=shown,
        during_maintenance=counts["during_maintenance"],
    )


# --- The monthly report ----------------------------------------------------------------


def parse_month(value: str | None) -> dt.date:
    if not value or not re.fullmatch(r"\d{4}-\d{2}", value):
        raise BadMonth("month must be given as YYYY-MM, for example 2026-10.", field="month")
    year, month = (int(part) for part in value.split("-"))
    if not 1 <= month <= 12 or not EARLIEST_YEAR <= year <= LATEST_YEAR:
        raise BadMonth(f"{value} is not a month.", field="month")
    return dt.date(year, month, 1)


def parse_zone(value: str | None) -> ZoneInfo:
    if not value:
        return ZoneInfo("UTC")
    try:
        return check_time_zone(value)
    except UnknownTimeZone as error:
        raise BadMonth(str(error), field="tz") from error


def previous_month(month: dt.date) -> dt.date:
    return (month - dt.timedelta(days=1)).replace(day=1)


def next_month(month: dt.date) -> dt.date:
    return (month + dt.timedelta(days=32)).replace(day=1)


def month_bounds(month: dt.date, zone: ZoneInfo) -> tuple[dt.datetime, dt.datetime]:
    """The month's first and next month's first local midnight, as instants."""
    since = dt.datetime.combine(month, dt.time(), tzinfo=zone)
    until = dt.datetime.combine(next_month(month), dt.time(), tzinfo=zone)
    return since, until


def _alerts_between(since: dt.datetime, until: dt.datetime, team: Team | None) -> QuerySet[Alert]:
    alerts = Alert.objects.counted().fired_between(since, until)
    return alerts.filter(team=team) if team is not None else alerts


EPOCH = dt.date(1970, 1, 1)
DAY = 86_400  # seconds in a UTC day, which has no daylight saving
HOUR = 3_600
SUMS = {"total": Sum("total"), "out_of_hours": Sum("out_of_hours"), "woke": Sum("woke")}
COUNTS = {
    "total": Count("*"),
    "out_of_hours": Count("id", filter=Q(out_of_hours=True)),
    "woke": Count("id", filter=Q(woke_me_up=True)),
}


def _plain(rows: Iterable[Mapping[str, Any]]) -> list[dict[str, Any]]:
    # values() rows with the **SUMS / **COUNTS annotations, which the ORM's types do not list.
    return [dict(row) for row in rows]


@dataclass(frozen=True)
class _Kept:
    """Rows of a counts table, its deltas or a rollup with `key` in [first, last), added or taken away."""

    model: type[Model]
    key: str
    first: int
    last: int
    sign: int = 1


def _kept(parts: list[_Kept], *, team: Team | None, group: list[str]) -> list[tuple[Any, ...]]:
    """Kept counts summed per `group` over `parts` (counts, deltas, rollups), in one statement.

    The database sums the tables (morgue.counters) and groups them, so
    Python gets one row per group: the `group` columns, then total, out of
    hours and woke. Groups that sum to no alert (test notifications, deleted
    alerts) are left out.
    """
    columns = ", ".join(group)
    selects, params = [], []
    for part in parts:
        where = f"{part.key} >= %s AND {part.key} < %s" + (" AND team_key = %s" if team is not None else "")
        table = part.model._meta.db_table
        sign = "-" if part.sign < 0 else ""
        measures = ", ".join(f"{sign}{column} AS {column}" for column in SUMS)
        selects.append(f"SELECT {columns}, {measures} FROM {table} WHERE {where}")  # noqa: S608
        params += [part.first, part.last, *([team.pk] if team is not None else [])]
    # Names come from the code, never from a request; values are parameters.
    sql = (
        f"SELECT {columns}, SUM(total), SUM(out_of_hours), SUM(woke) "  # noqa: S608
        f"FROM ({' UNION ALL '.join(selects)}) AS kept GROUP BY {columns} HAVING SUM(total) <> 0"
    )
    with connection.cursor() as cursor:
        cursor.execute(sql, params)
        rows: list[tuple[Any, ...]] = cursor.fetchall()
        return rows


def _month_start(month: int) -> int:
    """The first UTC day (days since the epoch) of a month key (year × 12 + month − 1)."""
    return (dt.date(month // 12, month % 12 + 1, 1) - EPOCH).days


def _by_month(
    *,
    counts: type[Model],
    deltas: type[Model],
    rollup: type[Model],
    key: str,
    per_day: int,
    first: int,
    last: int,
) -> list[_Kept]:
    """Parts that sum [first, last) of `counts` (and its deltas), reading whole months from `rollup`.

    `key` counts days (per_day=1) or hours (24) since the epoch. A UTC month
    mostly inside the range is read from the monthly rollup, which equals the
    counts table summed by month (morgue.counters keeps it); the days or hours
    of those months outside the range are taken away and those of the range
    outside them added, from the counts, so a month in any zone reads its
    checks once and at most a day or so of the finer counts. The deltas not
    yet folded in (a minute's worth) are read as they are.
    """
    parts = [_Kept(deltas, key, first, last)]
    months = []
    month = month_of_day(first // per_day)
    while _month_start(month) * per_day < last:
        start, end = _month_start(month) * per_day, _month_start(month + 1) * per_day
        if (min(end, last) - max(start, first)) * 2 > end - start:
            months.append(month)
        month += 1
    if not months:
        return [*parts, _Kept(counts, key, first, last)]
    covered_first, covered_last = _month_start(months[0]) * per_day, _month_start(months[-1] + 1) * per_day
    parts.append(_Kept(rollup, "month", months[0], months[-1] + 1))
    for start, end in ((first, covered_first), (covered_last, last)):
        if start < end:
            parts.append(_Kept(counts, key, start, end))
    for start, end in ((covered_first, first), (last, covered_last)):
        if start < end:
            parts.append(_Kept(counts, key, start, end, sign=-1))
    return parts


def check_rows(
    *, since: dt.datetime, until: dt.datetime, team: Team | None, by_check: bool = True
) -> list[tuple[Any, ...]]:
    """Alerts fired in [since, until) per check and category (or category alone): total, ooh, woke.

    Rows are tuples, (check, category, total, out of hours, woke), or without
    the check: a large organisation's month has thousands (checks × categories).
    The category is 0 or None when the alerts are unclassified.

    Whole UTC days are summed from AlertDayCount, whole months of them from
    AlertMonthCount (see `_by_month`); the part of a local month
    that starts or ends inside a UTC day (any zone but UTC) is counted from
    the alerts themselves. A check and category may appear in several rows.
    """
    first_day = -(-int(since.timestamp()) // DAY)
    last_day = int(until.timestamp()) // DAY
    rows: list[tuple[Any, ...]] = []
    edges = [(since, until)]
    if first_day < last_day:
        days = _by_month(
            counts=AlertDayCount,
            deltas=AlertDayDelta,
            rollup=AlertMonthCount,
            key="day",
            per_day=1,
            first=first_day,
            last=last_day,
        )
        group = ["check_name", "category_key"] if by_check else ["category_key"]
        rows += _kept(days, team=team, group=group)
        edges = [(since, _instant(first_day * DAY)), (_instant(last_day * DAY), until)]
    # Both edges in one statement: a range of the fired-at index each (querysets OR'ed).
    parts = [_alerts_between(start, end, team) for start, end in edges if start < end]
    if parts:
        rows += (
            reduce(operator.or_, parts)
            .values_list(*(["check_name", "category_id"] if by_check else ["category_id"]))
            .annotate(**COUNTS)
            .order_by()
        )
    return rows


def _on_whole_hours(since: dt.datetime, until: dt.datetime, zone: dt.tzinfo) -> bool:
    """Whether every UTC hour in [since, until) is one local hour in `zone`.

    True for all but zones with a half- or quarter-hour offset (India, Nepal,
    Lord Howe Island): the zone's offset is a whole number of hours at both
    ends of each UTC hour, so no clock change falls inside one.
    """
    start, end = int(since.timestamp()), int(until.timestamp())
    if start % HOUR or end % HOUR:
        return False
    for seconds in range(start, end, HOUR):
        for instant in (seconds, seconds + HOUR - 1):
            offset = _instant(instant).astimezone(zone).utcoffset()
            if offset is None or offset.total_seconds() % HOUR:
                return False
    return True


@dataclass
class TimeRows:
    """A period's alerts by when they fired and by whom they paged."""

    periods: list[dict[str, Any]]  # "start" (UNIX seconds) of each hour or quarter hour, and sums
    people: list[dict[str, Any]]  # "paged_id" and sums, for people paged


def time_rows(*, since: dt.datetime, until: dt.datetime, team: Team | None) -> TimeRows:
    """Alerts fired in [since, until) per UTC hour and per person paged: total, out of hours, woke.

    Summed from AlertHourCount (people: whole months from AlertMonthPagedCount)
    when each UTC hour is one local hour of the zone of `since`; otherwise (a
    zone with a half-hour offset) counted from the alerts per quarter hour,
    which every zone's offset divides.
    """
    zone = since.tzinfo or dt.UTC
    if _on_whole_hours(since, until, zone):
        first, last = int(since.timestamp()) // HOUR, int(until.timestamp()) // HOUR
        hours = [_Kept(AlertHourCount, "hour", first, last), _Kept(AlertHourDelta, "hour", first, last)]
        periods = [
            {"start": hour * HOUR, "total": total, "out_of_hours": out_of_hours, "woke": woke}
            for hour, total, out_of_hours, woke in _kept(hours, team=team, group=["hour"])
        ]
        paged = _by_month(
            counts=AlertHourCount,
            deltas=AlertHourDelta,
            rollup=AlertMonthPagedCount,
            key="hour",
            per_day=24,
            first=first,
            last=last,
        )
        people = [
            {"paged_id": paged_id, "total": total, "out_of_hours": out_of_hours, "woke": woke}
            for paged_id, total, out_of_hours, woke in _kept(paged, team=team, group=["paged_key"])
            if paged_id
        ]
        return TimeRows(periods=periods, people=people)
    alerts = _alerts_between(since, until, team)
    periods = _plain(alerts.values("fired_quarter").annotate(**COUNTS).order_by())
    for row in periods:
        row["start"] = row.pop("fired_quarter") * QUARTER_HOUR
    people = _plain(alerts.filter(paged__isnull=False).values("paged_id").annotate(**COUNTS).order_by())
    return TimeRows(periods=periods, people=people)


def _instant(seconds: int) -> dt.datetime:
    return dt.datetime.fromtimestamp(seconds, tz=dt.UTC)


def _ratio(part: int, whole: int) -> float | None:
    return round(part / whole, 3) if whole else None


def _figures(
    *, total: int, classified: int, actionable: int, not_actionable: int, out_of_hours: int, woke: int
) -> dict[str, Any]:
    return {
        "total": total,
        "classified": classified,
        "coverage": _ratio(classified, total),
        "actionable": actionable,
        "not_actionable": not_actionable,
        "signal_to_noise": _ratio(actionable, actionable + not_actionable),
        "out_of_hours": out_of_hours,
        "woke_people": woke,
    }


@dataclass(slots=True)
class CheckCounts:
    """One check's alerts in a period, and what their categories say of them."""

    total: int = 0
    out_of_hours: int = 0
    classified: int = 0
    actionable: int = 0
    not_actionable: int = 0
    threshold: int = 0  # in a category hinting that the threshold needs adjusting
    time_period: int = 0  # in one hinting that the notification period is wrong
    categories: dict[str, int] = field(default_factory=dict)  # slug → alerts classified so

    def add(self, total: int, out_of_hours: int, category: Category | None) -> None:
        self.total += total
        self.out_of_hours += out_of_hours
        if category is None:
            return
        self.classified += total
        if category.kind == CategoryKind.ACTIONABLE:
            self.actionable += total
        elif category.kind == CategoryKind.NOT_ACTIONABLE:
            self.not_actionable += total
        if category.hint == CategoryHint.THRESHOLD:
            self.threshold += total
        elif category.hint == CategoryHint.TIME_PERIOD:
            self.time_period += total
        self.categories[category.slug] = self.categories.get(category.slug, 0) + total


def month_figures(
    *, month: dt.date, team: Team | None = None, zone: ZoneInfo | None = None
) -> dict[str, Any]:
    """The report's top-level figures alone, from the month's counts per category."""
    categories = {category.pk: category for category in Category.objects.all()}
    counts, woke = CheckCounts(), 0
    for category, total, out_of_hours, woken in check_rows(**_bounds(month, zone), team=team, by_check=False):
        counts.add(total, out_of_hours, categories.get(category))
        woke += woken
    return _figures_of(counts, woke)


def _figures_of(counts: CheckCounts, woke: int) -> dict[str, Any]:
    return _figures(
        total=counts.total,
        classified=counts.classified,
        actionable=counts.actionable,
        not_actionable=counts.not_actionable,
        out_of_hours=counts.out_of_hours,
        woke=woke,
    )


def _bounds(month: dt.date, zone: ZoneInfo | None) -> dict[str, Any]:
    since, until = month_bounds(month, zone or ZoneInfo("UTC"))
    return {"since": since, "until": until}


def monthly_report(
    *,
    month: dt.date,
    team: Team | None = None,
    zone: ZoneInfo | None = None,
    with_heatmap: bool = False,
    limit: int | None = None,
    limit_recommendations: bool = True,
) -> dict[str, Any]:
    """A month's alerts review: figures, per check, category, person, day and hour, and what to fix.

    The counting is done by the database, mostly ahead of time (AlertDayCount,
    AlertHourCount), and grouped there: Python only adds up a few thousand rows
    (checks × categories, hours, people), however many alerts the month had.
    `woke_people` counts the alerts that woke the person paged.
    `with_heatmap` adds `out_of_hours_heatmap` (day of month × local hour) for the page.
    `limit` keeps the `limit` noisiest checks, most paged people and first
    recommendations (all of them with `limit_recommendations` False), the rest
    summed in `other_checks` / `other_people` and counted in
    `other_recommendations` (None when nothing was left out); the figures
    always count every check.
    """
    zone = zone or ZoneInfo("UTC")
    bounds = _bounds(month, zone)
    categories = {category.pk: category for category in Category.objects.all()}
    rows = check_rows(**bounds, team=team)
    timed = time_rows(**bounds, team=team)
    times = timed.periods
    for row in times:
        local = _instant(row["start"]).astimezone(zone)
        row["day"], row["hour"] = local.date(), local.hour

    # A large organisation's month has thousands of rows (checks × categories).
    checks: dict[str, CheckCounts] = {}
    by_category: defaultdict[int, int] = defaultdict(int)
    for check, category_id, total, out_of_hours, _woke in rows:
        counts = checks.get(check)
        if counts is None:
            counts = checks[check] = CheckCounts()
        counts.add(total, out_of_hours, categories.get(category_id))
        if category_id in categories:
            by_category[category_id] += total
    people = {row["paged_id"]: row for row in timed.people}
    woke = sum(row["woke"] for row in times)

    whole = CheckCounts(
        **{
            name: sum(getattr(counts, name) for counts in checks.values())
            for name in ("total", "out_of_hours", "classified", "actionable", "not_actionable")
        }
    )
    figures = _figures_of(whole, woke)
    ranked = _ranked(checks)
    by_check, other_checks = _by_check(ranked, limit)
    by_person, other_people = _by_person(people, limit)
    previous = month_figures(month=previous_month(month), team=team, zone=zone)
    report = {
        **figures,
        "by_check": by_check,
        "by_category": [
            {
                "category": category.slug,
                "description": category.description,
                "kind": category.kind,
                "total": by_category[pk],
            }
            for pk, category in categories.items()
        ],
        "by_person": by_person,
        "by_day": _by_day(month, times),
        "by_hour": _by_hour(times),
        "previous_month": {
            "month": f"{previous_month(month):%Y-%m}",
            **previous,
            "change": {key: _change(figures[key], previous[key]) for key in TOP_LEVEL},
        },
        "recommendations": recommendations(ranked),
        "truncated_alerts": truncated_alerts(**bounds, team=team),
        "during_maintenance": during_maintenance(**bounds, team=team),
    }
    report["other_checks"] = other_checks
    report["other_people"] = other_people
    report["recommendations"], report["other_recommendations"] = bounded(
        report["recommendations"], limit if limit_recommendations else None, ()
    )
    if with_heatmap:
        report["out_of_hours_heatmap"] = _heatmap(month, times)
    return report


def during_maintenance(*, since: dt.datetime, until: dt.datetime, team: Team | None) -> int:
    """Alerts stored during a maintenance window: counted apart, they paged nobody.

    The report otherwise reads only kept counts; this reads the alerts only
    inside the month's windows (short ranges of the fired_at indexes), and
    not at all in a month without one.
    """
    windows = MaintenanceWindow.objects.filter(starts_at__lt=until, ends_at__gt=since)
    if team is not None:
        windows = windows.filter(team=team)
    spans = list(windows.values_list("starts_at", "ends_at"))
    if not spans:
        return 0
    inside = Q()
    for starts_at, ends_at in spans:
        inside |= Q(fired_at__gte=max(starts_at, since), fired_at__lt=min(ends_at, until))
    alerts = Alert.objects.counted().filter(inside, paging=PagingDecision.MAINTENANCE)
    return alerts.filter(team=team).count() if team is not None else alerts.count()


CHECK_SUMS = ("total", "actionable", "not_actionable", "out_of_hours")
PERSON_SUMS = ("total", "out_of_hours", "woke")


def bounded(
    rows: list[dict[str, Any]], limit: int | None, sums: tuple[str, ...]
) -> tuple[list[dict[str, Any]], dict[str, int] | None]:
    """The first `limit` rows, and the rest summed as {"count": rows left out, each of `sums`}."""
    if limit is None or len(rows) <= limit:
        return rows, None
    rest = rows[limit:]
    return rows[:limit], {"count": len(rest), **{key: sum(row[key] for row in rest) for key in sums}}


def truncated_alerts(*, since: dt.datetime, until: dt.datetime, team: Team | None) -> int:
    """How many alerts Alertmanager said it left out of notifications received in [since, until).

    Alertmanager notifies a group again on every repeat and on every change, each
    time saying how many of the group's alerts it left out; those are mostly the
    same alerts. So a group counts its largest figure once, not the sum of its
    notifications; a notification without a group key counts on its own.
    """
    truncations = TruncatedAlerts.objects.filter(received_at__gte=since, received_at__lt=until)
    if team is not None:
        truncations = truncations.filter(team=team)
    groups = truncations.values("group_key").annotate(most=Max("count"), total=Sum("count"))
    return sum(group["total"] if group["group_key"] == "" else group["most"] for group in groups)


def _change(now: float | None, before: float | None) -> float | None:
    if now is None or before is None:
        return None
    return round(now - before, 3) if isinstance(now, float) or isinstance(before, float) else now - before


def _ranked(checks: Mapping[str, CheckCounts]) -> list[tuple[str, CheckCounts]]:
    """Noisiest first: the checks that page most, then those least often worth it."""
    return sorted(checks.items(), key=lambda item: (-item[1].total, -item[1].not_actionable, item[0]))


def _by_check(
    ranked: list[tuple[str, CheckCounts]], limit: int | None
) -> tuple[list[dict[str, Any]], dict[str, int] | None]:
    """The first `limit` checks' rows (as `bounded`), the rest summed from their counts.

    A large organisation's month has hundreds of checks; rows are built only for those listed.
    """
    listed = ranked if limit is None else ranked[:limit]
    out: list[dict[str, Any]] = []
    for check, counts in listed:
        # The category with most alerts; of several, the first counted.
        named = counts.categories
        top = max(named.items(), key=operator.itemgetter(1))[0] if named else None
        out.append(
            {
                "check": check,
                "total": counts.total,
                "actionable": counts.actionable,
                "not_actionable": counts.not_actionable,
                "signal_to_noise": _ratio(counts.actionable, counts.actionable + counts.not_actionable),
                "out_of_hours": counts.out_of_hours,
                "top_category": top,
            }
        )
    rest = [counts for _check, counts in ranked[len(listed) :]]
    if not rest:
        return out, None
    return out, {
        "count": len(rest),
        **{key: sum(getattr(counts, key) for counts in rest) for key in CHECK_SUMS},
    }


def _by_person(
    people: dict[int, dict[str, Any]], limit: int | None
) -> tuple[list[dict[str, Any]], dict[str, int] | None]:
    """The most paged people (as `bounded`), the rest summed; names read for those listed.

    A month of a large organisation pages hundreds of people: only those who
    may be among the first `limit` (ties at the last place go by username)
    have their names read, and as columns, not users.
    """
    people = dict(people)
    while True:
        named = people
        if limit is not None and len(people) > limit:
            last = sorted((counts["total"] for counts in people.values()), reverse=True)[limit - 1]
            named = {pk: counts for pk, counts in people.items() if counts["total"] >= last}
        users = list(
            get_user_model()
            .objects.filter(pk__in=named)
            .values_list("pk", "username", "first_name", "last_name", "profile__display_name", "profile__pk")
        )
        # Counts outlive the alerts they count, and a person's account can go with
        # them: someone no longer here is left out, and the next in line read.
        gone = named.keys() - {user[0] for user in users}
        if not gone:
            break
        people = {pk: counts for pk, counts in people.items() if pk not in gone}
    out: list[dict[str, Any]] = []
    for pk, username, first_name, last_name, display_name, profile in users:
        counts = people[pk]
        out.append(
            {
                "person": username,
                # Profile.name, or the username of someone without a profile.
                "name": name_from_columns(username, first_name, last_name, display_name)
                if profile
                else username,
                "total": counts["total"],
                "out_of_hours": counts["out_of_hours"],
                "woke": counts["woke"],
            }
        )
    out.sort(key=lambda row: (-row["total"], row["person"]))
    if limit is None or len(people) <= limit:
        return out, None
    listed = out[:limit]
    return listed, {
        "count": len(people) - len(listed),
        **{
            key: sum(row[key] for row in people.values()) - sum(row[key] for row in listed)
            for key in PERSON_SUMS
        },
    }


def _by_day(month: dt.date, times: list[dict[str, Any]]) -> list[dict[str, Any]]:
    days: dict[dt.date, Counter[str]] = defaultdict(Counter)
    for row in times:
        days[row["day"]]["total"] += row["total"]
        days[row["day"]]["out_of_hours"] += row["out_of_hours"]
    length = calendar.monthrange(month.year, month.month)[1]
    return [
        {"day": day.isoformat(), "total": days[day]["total"], "out_of_hours": days[day]["out_of_hours"]}
        for day in (month + dt.timedelta(days=offset) for offset in range(length))
    ]


def _by_hour(times: list[dict[str, Any]]) -> list[dict[str, Any]]:
    hours: dict[int, Counter[str]] = defaultdict(Counter)
    for row in times:
        hours[row["hour"]]["total"] += row["total"]
        hours[row["hour"]]["out_of_hours"] += row["out_of_hours"]
    return [
        {"hour": hour, "total": hours[hour]["total"], "out_of_hours": hours[hour]["out_of_hours"]}
        for hour in range(24)
    ]


def _heatmap(month: dt.date, times: list[dict[str, Any]]) -> list[list[int]]:
    """Out-of-hours pages per day of the month (rows) and local hour (columns)."""
    length = calendar.monthrange(month.year, month.month)[1]
    grid = [[0] * 24 for _ in range(length)]
    for row in times:
        if row["day"].month == month.month and row["day"].year == month.year:
            grid[row["day"].day - 1][row["hour"]] += row["out_of_hours"]
    return grid


def recommendations(ranked: list[tuple[str, CheckCounts]]) -> list[dict[str, Any]]:
    """Checks that need attention, each with the reason, noisiest first (`ranked` is `_ranked`)."""
    out = []
    for check, counts in ranked:
        row = {"check": check, "total": counts.total}
        total, classified = counts.total, counts.classified
        if total < RECOMMEND_MIN_ALERTS:
            continue
        threshold, period = counts.threshold, counts.time_period
        if classified and threshold * 2 > classified:
            out.append(
                _recommend(
                    row,
                    "threshold",
                    f"{threshold} of {classified} classified alerts said the threshold needs adjusting or "
                    "the check is faulty: raise a threshold set too low, lower one set too high, "
                    "or fix the check.",
                )
            )
        if classified and period * 2 > classified:
            out.append(
                _recommend(
                    row,
                    "timeperiod",
                    f"{period} of {classified} classified alerts fired at an inappropriate time: "
                    "change the check's notification period.",
                )
            )
        if counts.out_of_hours * 2 > total and counts.actionable * 2 <= classified:
            out.append(
                _recommend(
                    row,
                    "out_of_hours",
                    f"{counts.out_of_hours} of {total} alerts paged someone in their sleep hours and most "
                    "were not actionable: move the check to working hours or make it business-hours-only.",
                )
            )
        if classified * 2 >= total and counts.actionable == 0:
            out.append(
                _recommend(
                    row,
                    "never_actionable",
                    f"None of its {total} alerts this month was actionable: consider deleting the check.",
                )
            )
    return out


def _recommend(row: dict[str, Any], reason: str, detail: str) -> dict[str, Any]:
    return {"check": row["check"], "reason": reason, "detail": detail, "total": row["total"]}
