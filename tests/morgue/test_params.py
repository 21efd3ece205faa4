import datetime as dt
from zoneinfo import ZoneInfo

import pytest

from morgue.exceptions import MorgueError
from morgue.params import parse_bool, parse_instant, parse_int_list

PARIS = ZoneInfo("Europe/Paris")


def test_a_bare_date_is_midnight_on_the_persons_calendar():
    assert parse_instant("since", "2026-03-31", zone=PARIS) == dt.datetime(2026, 3, 31, tzinfo=PARIS)


def test_a_bare_end_date_includes_the_whole_of_that_day():
    until = parse_instant("until", "2026-03-31", zone=PARIS, end_of_day=True)

    assert until == dt.datetime(2026, 4, 1, tzinfo=PARIS)


def test_an_end_date_time_is_taken_as_written():
    until = parse_instant("until", "2026-03-31T09:30:00+00:00", zone=PARIS, end_of_day=True)

    assert until == dt.datetime(2026, 3, 31, 9, 30, tzinfo=dt.UTC)


def test_a_date_time_without_an_offset_is_on_the_persons_wall_clock():
    assert parse_instant("since", "2026-03-31T09:30", zone=PARIS) == dt.datetime(
        2026, 3, 31, 9, 30, tzinfo=PARIS
    )


@pytest.mark.parametrize("value", [None, ""])
def test_a_missing_instant_is_no_filter(value):
    assert parse_instant("since", value, zone=PARIS) is None


@pytest.mark.parametrize("value", ["yesterday", "2026-02-30", "2026-03-31T25:00"])
def test_an_instant_that_is_not_a_date_is_refused_with_its_name(value):
    with pytest.raises(MorgueError, match="since must be an ISO 8601 date"):
        parse_instant("since", value, zone=PARIS)


def test_integer_lists_accept_repeats_and_commas_within_bounds():
    assert parse_int_list("severity", ["1,2", "4", ""], low=1, high=5) == [1, 2, 4]
    with pytest.raises(MorgueError, match="severity must be from 1 to 5, not 7"):
        parse_int_list("severity", ["7"], low=1, high=5)


@pytest.mark.parametrize(("value", "expected"), [("yes", True), (" Off ", False), ("", None), (None, None)])
def test_booleans_read_the_usual_words(value, expected):
    assert parse_bool("deploy_related", value) is expected
