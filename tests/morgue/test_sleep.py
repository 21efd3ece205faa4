"""The pure sleep-hours rule: a person's nightly span on their own wall clock, across real DST changes."""

import datetime as dt
from zoneinfo import ZoneInfo

import pytest

from morgue.sleep import is_asleep

UTC = dt.UTC
LONDON = ZoneInfo("Europe/London")
NIGHT = (dt.time(22), dt.time(7))


def at(text: str) -> dt.datetime:
    return dt.datetime.fromisoformat(text)


@pytest.mark.parametrize(
    ("instant", "asleep"),
    [
        ("2026-01-01T21:59:00+00:00", False),
        ("2026-01-01T22:00:00+00:00", True),  # sleep starts on the minute
        ("2026-01-01T23:59:00+00:00", True),
        ("2026-01-02T00:00:00+00:00", True),  # past midnight, still asleep
        ("2026-01-02T06:59:59+00:00", True),
        ("2026-01-02T07:00:00+00:00", False),  # the end is not inside
        ("2026-01-02T12:00:00+00:00", False),
    ],
)
def test_sleep_that_crosses_midnight(instant, asleep):
    assert is_asleep(at(instant), ZoneInfo("UTC"), *NIGHT) is asleep


def test_sleep_that_does_not_cross_midnight():
    utc = ZoneInfo("UTC")
    span = (dt.time(1), dt.time(9))

    assert not is_asleep(at("2026-01-01T00:59:00+00:00"), utc, *span)
    assert is_asleep(at("2026-01-01T01:00:00+00:00"), utc, *span)
    assert is_asleep(at("2026-01-01T08:59:00+00:00"), utc, *span)
    assert not is_asleep(at("2026-01-01T09:00:00+00:00"), utc, *span)
    assert not is_asleep(at("2026-01-01T23:00:00+00:00"), utc, *span)


@pytest.mark.parametrize("moment", [dt.time(0), dt.time(7), dt.time(22), dt.time(22, 30)])
def test_a_person_whose_sleep_starts_when_it_ends_is_never_asleep(moment):
    same = (moment, moment)
    day = dt.datetime(2026, 3, 29, tzinfo=UTC)  # a DST change day in London

    for minutes in range(0, 24 * 60, 15):
        assert not is_asleep(day + dt.timedelta(minutes=minutes), LONDON, *same)


def test_the_instant_is_read_on_the_persons_clock_not_in_utc():
    # 06:30 UTC is 06:30 in London in winter and 07:30 in summer.
    assert is_asleep(at("2026-01-15T06:30:00+00:00"), LONDON, *NIGHT)
    assert not is_asleep(at("2026-07-15T06:30:00+00:00"), LONDON, *NIGHT)
    # An instant given in another offset is the same instant.
    assert is_asleep(at("2026-01-15T01:30:00-05:00"), LONDON, *NIGHT)


def test_on_the_spring_forward_night_sleep_ends_at_the_local_end_time():
    # Clocks in London go from 01:00 GMT to 02:00 BST at 01:00 UTC on 29 March 2026.
    # Sleep from 22:00 GMT (22:00 UTC) ends at 07:00 BST (06:00 UTC): 8 real hours, not 9.
    assert is_asleep(at("2026-03-28T22:00:00+00:00"), LONDON, *NIGHT)
    assert is_asleep(at("2026-03-29T00:59:00+00:00"), LONDON, *NIGHT)  # 00:59 GMT
    assert is_asleep(at("2026-03-29T01:00:00+00:00"), LONDON, *NIGHT)  # 02:00 BST
    assert is_asleep(at("2026-03-29T05:59:00+00:00"), LONDON, *NIGHT)  # 06:59 BST
    assert not is_asleep(at("2026-03-29T06:00:00+00:00"), LONDON, *NIGHT)  # 07:00 BST
    assert not is_asleep(at("2026-03-29T06:30:00+00:00"), LONDON, *NIGHT)  # 22:00 + 9 h would say asleep


def test_sleep_that_starts_inside_the_spring_forward_gap_starts_when_the_clock_passes_it():
    # 01:30 does not exist in London on 29 March 2026; the clock reads 02:00 BST at 01:00 UTC.
    span = (dt.time(1, 30), dt.time(7))
    assert not is_asleep(at("2026-03-29T00:59:00+00:00"), LONDON, *span)  # 00:59 GMT
    assert is_asleep(at("2026-03-29T01:00:00+00:00"), LONDON, *span)  # 02:00 BST


def test_on_the_fall_back_night_sleep_ends_at_the_local_end_time():
    # Clocks in London go from 02:00 BST to 01:00 GMT at 01:00 UTC on 25 October 2026.
    # Sleep from 22:00 BST (21:00 UTC) ends at 07:00 GMT (07:00 UTC): 10 real hours, not 9.
    assert not is_asleep(at("2026-10-24T20:59:00+00:00"), LONDON, *NIGHT)  # 21:59 BST
    assert is_asleep(at("2026-10-24T21:00:00+00:00"), LONDON, *NIGHT)  # 22:00 BST
    assert is_asleep(at("2026-10-25T06:30:00+00:00"), LONDON, *NIGHT)  # 06:30 GMT; 22:00 + 9 h would wake
    assert not is_asleep(at("2026-10-25T07:00:00+00:00"), LONDON, *NIGHT)  # 07:00 GMT


def test_a_local_time_that_happens_twice_is_inside_the_span_both_times():
    span = (dt.time(1), dt.time(1, 45))
    first = at("2026-10-25T00:30:00+00:00")  # 01:30 BST
    second = at("2026-10-25T01:30:00+00:00")  # 01:30 GMT, an hour later
    assert first.astimezone(LONDON).time() == second.astimezone(LONDON).time() == dt.time(1, 30)

    assert is_asleep(first, LONDON, *span)
    assert is_asleep(second, LONDON, *span)
    assert not is_asleep(at("2026-10-25T01:45:00+00:00"), LONDON, *span)  # 01:45 GMT
