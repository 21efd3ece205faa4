"""Review-meeting slots on a person's own calendar (pure: no Django).

Business days are Monday to Friday on the facilitator's local calendar; the
slot times are local wall-clock times, so a meeting at 10:00 stays at 10:00
across a DST change instead of drifting by an hour.
"""

import datetime as dt
from collections.abc import Iterable
from zoneinfo import ZoneInfo

SLOT_TIMES = (dt.time(10, 0), dt.time(14, 0), dt.time(16, 0))
WITHIN_BUSINESS_DAYS = 5


def is_business_day(day: dt.date) -> bool:
    return day.weekday() < 5


def business_days_after(day: dt.date, count: int) -> list[dt.date]:
    """The next `count` business days strictly after `day`."""
    days: list[dt.date] = []
    current = day
    while len(days) < count:
        current += dt.timedelta(days=1)
        if is_business_day(current):
            days.append(current)
    return days


def _overlaps(start: dt.datetime, end: dt.datetime, busy: Iterable[tuple[dt.datetime, dt.datetime]]) -> bool:
    return any(start < busy_end and busy_start < end for busy_start, busy_end in busy)


def suggest_slot(
    *,
    resolved_at: dt.datetime,
    now: dt.datetime,
    zone: ZoneInfo,
    duration: dt.timedelta = dt.timedelta(hours=1),
    busy: Iterable[tuple[dt.datetime, dt.datetime]] = (),
    within: int = WITHIN_BUSINESS_DAYS,
) -> dt.datetime:
    """The first free slot on the business days after resolution, in the future.

    Candidates are the slot times on each of the `within` business days after
    the local date of resolution. When all of them have passed or are busy
    (a review scheduled late), the first free slot after today is offered.
    """
    busy = list(busy)
    resolved_day = resolved_at.astimezone(zone).date()
    today = now.astimezone(zone).date()
    for days in (business_days_after(resolved_day, within), business_days_after(today, within * 4)):
        for day in days:
            for slot in SLOT_TIMES:
                start = dt.datetime.combine(day, slot, tzinfo=zone)
                if start > now and not _overlaps(start, start + duration, busy):
                    return start
    # Everything booked for four weeks: the first slot after today, double-booked.
    return dt.datetime.combine(business_days_after(today, 1)[0], SLOT_TIMES[0], tzinfo=zone)
