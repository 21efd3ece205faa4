"""A zone's current rule as an iCalendar VTIMEZONE that every calendar reads the same (no Django here).

The rule comes from the POSIX TZ string at the end of the zone's TZif file
(RFC 8536 §3.3), the one zoneinfo itself applies after the last listed
transition: `GMT0BST,M3.5.0/1,M10.5.0`, `AEST-10AEDT,M10.1.0,M4.1.0/3`,
`<+0545>-5:45`. Each change of offset becomes one STANDARD or DAYLIGHT
component with a yearly RRULE, the form calendar clients agree on (long lists
of RDATE dates are read wrongly by several of them).

What a yearly RRULE cannot say exactly (a Julian-day rule, a change whose
shifted day can leave its month, a zone whose rule changes soon) raises
UnsupportedRule, or makes `exact_rule` answer None: the caller then writes
its times in UTC, which every reader understands.
"""

import datetime as dt
import re
from collections.abc import Iterable
from dataclasses import dataclass
from importlib import resources
from pathlib import Path
from zoneinfo import TZPATH, ZoneInfo

DAY_SECONDS = 86_400
# POSIX counts weekdays from Sunday (0); iCalendar names them.
WEEKDAYS = ("SU", "MO", "TU", "WE", "TH", "FR", "SA")
# Where the components start, as most generators do. Readers compare a zone
# with UTC over earlier years (vobject 0.9 looks at 2000-2020 and, seeing no
# change there, takes a zone like Europe/London for UTC and ignores it).
FIRST_YEAR = 1970
# The shortest each month can be: a day range must fit in every year's month.
SHORTEST_MONTH = (31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31)

NAME = r"(?:[A-Za-z]{3,}|<[A-Za-z0-9+-]{3,}>)"
# POSIX offsets and change times: [+-]hh[:mm[:ss]]; RFC 8536 lets change times reach ±167 hours.
CLOCK = r"[+-]?\d{1,3}(?::\d{1,2}){0,2}"
POSIX_TZ = re.compile(
    rf"^(?P<standard>{NAME})(?P<standard_offset>{CLOCK})"
    rf"(?:(?P<daylight>{NAME})(?P<daylight_offset>{CLOCK})?"
    rf"(?:,(?P<to_daylight>[^,]+),(?P<to_standard>[^,]+))?)?$"
)
CHANGE = re.compile(rf"^M(?P<month>\d{{1,2}})\.(?P<week>\d)\.(?P<weekday>\d)(?:/(?P<time>{CLOCK}))?$")
ZONE_NAME = re.compile(r"^[A-Za-z0-9_+-]+(?:/[A-Za-z0-9_+-]+)*$")


class UnsupportedRule(ValueError):
    """A zone rule a VTIMEZONE with yearly RRULEs cannot express exactly."""


def _seconds(clock: str) -> int:
    sign = -1 if clock.startswith("-") else 1
    parts = [int(part) for part in clock.lstrip("+-").split(":")]
    hours, minutes, seconds = [*parts, 0, 0][:3]
    return sign * (hours * 3600 + minutes * 60 + seconds)


@dataclass(frozen=True)
class Change:
    """`Mm.w.d/time`: on the w-th (5 = last) weekday d of month m, at `seconds` past its midnight.

    The time is on the clock in force before the change; it may be negative
    or past 24 hours (RFC 8536), which moves the change to another day.
    """

    month: int
    week: int
    weekday: int
    seconds: int = 7200

    def local_time(self, year: int) -> dt.datetime:
        """When the change happens in `year`, on the clock in force before it."""
        first = dt.date(year, self.month, 1)
        # date.weekday() counts from Monday (0); POSIX from Sunday (0).
        day = 1 + (self.weekday - (first.weekday() + 1)) % 7 + 7 * (self.week - 1)
        while day > _month_length(year, self.month):
            day -= 7  # week 5 is the last such weekday, whether the month has four or five
        return dt.datetime(year, self.month, day) + dt.timedelta(seconds=self.seconds)

    @property
    def day_shift(self) -> int:
        return self.seconds // DAY_SECONDS

    def rrule(self) -> str:
        """The yearly RRULE that falls on the same dates (times apart), or UnsupportedRule."""
        shift = self.day_shift
        if shift == 0:
            nth = -1 if self.week == 5 else self.week
            return f"FREQ=YEARLY;BYMONTH={self.month};BYDAY={nth}{WEEKDAYS[self.weekday]}"
        # Moved to another day: that weekday within the moved range of days, if
        # the range stays inside the month in every year. Days are counted from
        # the month's start (ical.js 2.2 misreads negative BYMONTHDAY with BYDAY),
        # so a last week is only moved in months whose length never changes.
        if self.week == 5:
            if self.month == 2:
                raise UnsupportedRule(f"M2.5.{self.weekday} moved by {shift} days has no fixed days")
            length = SHORTEST_MONTH[self.month - 1]
            first, last = length - 6 + shift, length + shift
        else:
            first, last = 7 * (self.week - 1) + 1 + shift, 7 * self.week + shift
        if first < 1 or last > SHORTEST_MONTH[self.month - 1]:
            rule = f"M{self.month}.{self.week}.{self.weekday}"
            raise UnsupportedRule(f"{rule} moved by {shift} days can leave the month")
        days = ",".join(str(day) for day in range(first, last + 1))
        weekday = WEEKDAYS[(self.weekday + shift) % 7]
        return f"FREQ=YEARLY;BYMONTH={self.month};BYDAY={weekday};BYMONTHDAY={days}"


def _month_length(year: int, month: int) -> int:
    following = dt.date(year + month // 12, month % 12 + 1, 1)
    return (following - dt.timedelta(days=1)).day


@dataclass(frozen=True)
class Observance:
    """One iCalendar STANDARD or DAYLIGHT component."""

    kind: str  # "STANDARD" or "DAYLIGHT"
    name: str
    offset_from: dt.timedelta
    offset_to: dt.timedelta
    start: dt.datetime  # local time, on the clock in force before (offset_from)
    rrule: str = ""


@dataclass(frozen=True)
class PosixRule:
    """A POSIX TZ string: standard time, and optionally daylight time with the two changes between them."""

    standard_name: str
    standard_offset: dt.timedelta  # east of UTC, as iCalendar and Python count
    daylight_name: str = ""
    daylight_offset: dt.timedelta | None = None
    to_daylight: Change | None = None
    to_standard: Change | None = None

    @property
    def has_daylight(self) -> bool:
        return self.to_daylight is not None

    def changes(self, year: int) -> list[tuple[dt.datetime, dt.timedelta]]:
        """The changes in `year` as (UTC instant, offset from then on), in order."""
        if self.to_daylight is None or self.to_standard is None or self.daylight_offset is None:
            return []
        starts = self.to_daylight.local_time(year) - self.standard_offset
        ends = self.to_standard.local_time(year) - self.daylight_offset
        return sorted([(starts, self.daylight_offset), (ends, self.standard_offset)])

    def utcoffset(self, instant: dt.datetime) -> dt.timedelta:
        """The offset the rule gives at an aware instant."""
        utc = instant.astimezone(dt.UTC).replace(tzinfo=None)
        offset = self.standard_offset
        if not self.has_daylight:
            return offset
        # The last change before the instant; the year before covers southern winters.
        for changed_at, after in self.changes(utc.year - 1) + self.changes(utc.year):
            if changed_at <= utc:
                offset = after
        return offset

    def observances(self, *, first_year: int) -> list[Observance]:
        """The STANDARD (and DAYLIGHT) components, each starting at its first change in `first_year`."""
        if self.to_daylight is None or self.to_standard is None or self.daylight_offset is None:
            start = dt.datetime(first_year, 1, 1)
            return [
                Observance("STANDARD", self.standard_name, self.standard_offset, self.standard_offset, start)
            ]
        return [
            Observance(
                "DAYLIGHT",
                self.daylight_name,
                self.standard_offset,
                self.daylight_offset,
                self.to_daylight.local_time(first_year),
                self.to_daylight.rrule(),
            ),
            Observance(
                "STANDARD",
                self.standard_name,
                self.daylight_offset,
                self.standard_offset,
                self.to_standard.local_time(first_year),
                self.to_standard.rrule(),
            ),
        ]


def _change(text: str) -> Change:
    match = CHANGE.match(text)
    if match is None:
        # Jn and n (days of the year) fall on a different weekday every year: no yearly BYDAY rule.
        raise UnsupportedRule(f"{text} is not a month.week.weekday rule")
    month, week, weekday = int(match["month"]), int(match["week"]), int(match["weekday"])
    if not (1 <= month <= 12 and 1 <= week <= 5 and 0 <= weekday <= 6):
        raise UnsupportedRule(f"{text} is out of range")
    time = match["time"]
    return Change(month, week, weekday, 7200 if time is None else _seconds(time))


def parse_posix_tz(text: str) -> PosixRule:
    """The rule of a POSIX TZ string as TZif files end with; UnsupportedRule for what iCalendar can't say."""
    match = POSIX_TZ.match(text.strip())
    if match is None:
        raise UnsupportedRule(f"{text!r} is not a POSIX TZ string this reads")
    # POSIX offsets count west of UTC: EST5 is five hours behind.
    standard_offset = -dt.timedelta(seconds=_seconds(match["standard_offset"]))
    standard_name = match["standard"].strip("<>")
    if match["daylight"] is None:
        return PosixRule(standard_name, standard_offset)
    if match["to_daylight"] is None:
        # Without the two changes, POSIX leaves the dates to the implementation.
        raise UnsupportedRule(f"{text!r} has daylight time but no rule for it")
    daylight_offset = (
        standard_offset + dt.timedelta(hours=1)
        if match["daylight_offset"] is None
        else -dt.timedelta(seconds=_seconds(match["daylight_offset"]))
    )
    to_daylight, to_standard = _change(match["to_daylight"]), _change(match["to_standard"])
    rule = PosixRule(
        standard_name,
        standard_offset,
        match["daylight"].strip("<>"),
        daylight_offset,
        to_daylight,
        to_standard,
    )
    for change in (to_daylight, to_standard):
        # Raises UnsupportedRule for a moved day that can leave its month (and so its year).
        change.rrule()
    return rule


def tzif_footer(name: str) -> str:
    """The POSIX TZ string ending the zone's TZif data, found where zoneinfo looks (TZPATH, then tzdata)."""
    if not ZONE_NAME.match(name) or ".." in name.split("/"):
        raise UnsupportedRule(f"{name!r} is not a zone name")
    data = _tzif_data(name)
    if data[:4] != b"TZif" or data[4:5] == b"\x00":
        raise UnsupportedRule(f"{name} has no TZif version 2+ data (no rule after its transitions)")
    # Version 2+ data ends with "\n<POSIX TZ string>\n".
    footer = data.rstrip(b"\n").rsplit(b"\n", 1)[-1]
    return footer.decode("ascii")


def _tzif_data(name: str) -> bytes:
    for directory in TZPATH:
        path = Path(directory, name)
        if path.is_file():
            return path.read_bytes()
    try:
        return resources.files("tzdata.zoneinfo").joinpath(*name.split("/")).read_bytes()
    except (ModuleNotFoundError, FileNotFoundError, IsADirectoryError) as error:
        raise UnsupportedRule(f"no TZif data for {name}") from error


def exact_rule(name: str, instants: Iterable[dt.datetime]) -> PosixRule | None:
    """The zone's current rule if it gives every instant the local time zoneinfo does; else None.

    None also when an instant's local time happens twice (the hour a clock
    goes back): a TZID and a local time cannot say which of the two.
    """
    try:
        rule = parse_posix_tz(tzif_footer(name))
    except UnsupportedRule:
        return None
    zone = ZoneInfo(name)
    for instant in instants:
        local = instant.astimezone(zone)
        if rule.utcoffset(instant) != local.utcoffset():
            return None  # a change of rule is scheduled before then: the footer doesn't hold yet
        if local.replace(fold=1 - local.fold).utcoffset() != local.utcoffset():
            return None
    return rule


def _offset(offset: dt.timedelta) -> str:
    seconds = int(offset.total_seconds())
    sign = "-" if seconds < 0 else "+"
    hours, rest = divmod(abs(seconds), 3600)
    minutes, seconds = divmod(rest, 60)
    return f"{sign}{hours:02d}{minutes:02d}" + (f"{seconds:02d}" if seconds else "")


def vtimezone(name: str, rule: PosixRule, *, first_year: int = FIRST_YEAR) -> str:
    """The VTIMEZONE of zone `name` under `rule` from `first_year` on, as iCalendar text (CRLF lines)."""
    lines = ["BEGIN:VTIMEZONE", f"TZID:{name}"]
    for observance in rule.observances(first_year=first_year):
        lines += [
            f"BEGIN:{observance.kind}",
            f"DTSTART:{observance.start:%Y%m%dT%H%M%S}",
            *([f"RRULE:{observance.rrule}"] if observance.rrule else []),
            f"TZNAME:{observance.name}",
            f"TZOFFSETFROM:{_offset(observance.offset_from)}",
            f"TZOFFSETTO:{_offset(observance.offset_to)}",
            f"END:{observance.kind}",
        ]
    lines.append("END:VTIMEZONE")
    return "\r\n".join(lines) + "\r\n"
