import datetime as dt

import pytest

from tests.factories import ProfileFactory


@pytest.mark.parametrize(
    ("utc_time", "asleep"),
    [
        ("2026-07-01T21:30:00+00:00", True),  # 22:30 in London (BST)
        ("2026-07-01T20:30:00+00:00", False),  # 21:30 in London
        ("2026-07-02T05:59:00+00:00", True),  # 06:59 in London
        ("2026-07-02T06:00:00+00:00", False),  # 07:00 in London: awake
        ("2026-01-02T06:30:00+00:00", True),  # 06:30 in London (GMT)
    ],
)
def test_sleep_hours_follow_the_persons_wall_clock(db, utc_time, asleep):
    profile = ProfileFactory(time_zone="Europe/London")

    assert profile.is_asleep_at(dt.datetime.fromisoformat(utc_time)) is asleep


def test_sleep_hours_that_do_not_cross_midnight(db):
    profile = ProfileFactory(time_zone="UTC", sleep_start=dt.time(1, 0), sleep_end=dt.time(9, 0))

    assert profile.is_asleep_at(dt.datetime(2026, 1, 1, 3, tzinfo=dt.UTC))
    assert not profile.is_asleep_at(dt.datetime(2026, 1, 1, 23, tzinfo=dt.UTC))


def test_calendar_token_can_be_reset(db):
    profile = ProfileFactory()
    old = profile.calendar_token

    assert profile.reset_calendar_token() != old
