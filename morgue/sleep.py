"""Sleep hours: whether an instant falls inside a person's nightly span, on their wall clock (no Django here).

The one home of the rule: a profile (`Profile.is_asleep_at`), the alerts
review's "paged out of hours" and the fairness report's night hours
(`oncall.shifts.hours_in`) all ask `is_asleep`.

Computed on the local time of day, never by adding hours to a UTC instant:
on a night when the clocks change, sleep still ends at the local end time,
so that night is an hour shorter or longer in real time. A local time that
happens twice (fall back) is inside the span both times; one that does not
exist (spring forward) is simply never seen.
"""

import datetime as dt


def is_asleep(instant: dt.datetime, zone: dt.tzinfo, sleep_start: dt.time, sleep_end: dt.time) -> bool:
    """Whether an aware instant is inside [sleep_start, sleep_end) on `zone`'s wall clock.

    A span whose start is after its end crosses midnight (22:00–07:00); a span
    whose start equals its end is empty: that person is never asleep.
    """
    moment = instant.astimezone(zone).time()
    if sleep_start == sleep_end:
        return False
    if sleep_start < sleep_end:
        return sleep_start <= moment < sleep_end
    return moment >= sleep_start or moment < sleep_end
