"""The pure shift rules: wall-clock handoffs across real DST changes, and level assignment."""

import datetime as dt
import itertools
from collections import Counter
from zoneinfo import ZoneInfo

from hypothesis import given, settings
from hypothesis import strategies as st

from oncall.shifts import (
    History,
    Member,
    Schedule,
    Window,
    assign_levels,
    check_members,
    hours_in,
    local_instant,
    split,
)

UTC = dt.UTC
ZONES = ["America/New_York", "Europe/London", "Australia/Lord_Howe"]


def test_spring_forward_handoff_in_the_gap_moves_to_the_first_instant_after_it():
    new_york = ZoneInfo("America/New_York")
    instant = local_instant(dt.date(2026, 3, 8), dt.time(2, 30), new_york)
    assert instant == dt.datetime(2026, 3, 8, 7, 0, tzinfo=UTC)
    assert instant.astimezone(new_york).time() == dt.time(3, 0)


def test_fall_back_handoff_that_happens_twice_is_the_first_occurrence():
    london = ZoneInfo("Europe/London")
    instant = local_instant(dt.date(2026, 10, 25), dt.time(1, 30), london)
    assert instant == dt.datetime(2026, 10, 25, 0, 30, tzinfo=UTC)  # 01:30 BST, not 01:30 GMT


def test_lord_howe_half_hour_gap_and_overlap():
    lord_howe = ZoneInfo("Australia/Lord_Howe")
    assert local_instant(dt.date(2026, 10, 4), dt.time(2, 15), lord_howe).astimezone(
        lord_howe
    ).time() == dt.time(2, 30)
    assert local_instant(dt.date(2026, 4, 5), dt.time(1, 45), lord_howe).utcoffset() == dt.timedelta()
    assert local_instant(dt.date(2026, 4, 5), dt.time(1, 45), lord_howe) == dt.datetime(
        2026, 4, 4, 14, 45, tzinfo=UTC
    )


def test_a_three_day_shift_over_a_dst_change_lasts_71_or_73_hours():
    schedule = Schedule(ZoneInfo("America/New_York"), 3, dt.time(10), dt.date(2026, 3, 6))
    assert schedule.end(0) - schedule.start(0) == dt.timedelta(hours=71)
    autumn = Schedule(ZoneInfo("America/New_York"), 3, dt.time(10), dt.date(2026, 10, 30))
    assert autumn.end(0) - autumn.start(0) == dt.timedelta(hours=73)


# Dates around every DST change of 2025–2027 in the three zones.
dates = st.dates(min_value=dt.date(2025, 1, 1), max_value=dt.date(2027, 12, 31))
handoffs = st.times().map(lambda moment: moment.replace(second=0, microsecond=0))


@settings(max_examples=150, deadline=None)
@given(
    zone_name=st.sampled_from(ZONES),
    first=dates,
    handoff=st.one_of(
        handoffs,
        st.sampled_from([dt.time(2, 0), dt.time(2, 15), dt.time(2, 30), dt.time(1, 30), dt.time(1, 45)]),
    ),
    length=st.integers(min_value=1, max_value=28),
)
def test_shifts_have_no_gaps_or_overlaps_and_hand_off_at_local_wall_time(zone_name, first, handoff, length):
    zone = ZoneInfo(zone_name)
    schedule = Schedule(zone, length, handoff, first)
    for number in range(30):
        start, end = schedule.start(number), schedule.end(number)
        assert end > start
        assert schedule.start(number + 1) == end  # no gap, no overlap
        local = start.astimezone(zone)
        assert local.date() == first + dt.timedelta(days=number * length)
        naive = dt.datetime.combine(local.date(), handoff)
        if local.time() != handoff:
            # Only a handoff inside a gap moves, to the first valid instant after it.
            assert local.replace(tzinfo=None) > naive
            assert (start - dt.timedelta(minutes=1)).astimezone(zone).replace(tzinfo=None) < naive
        else:
            # A doubled time is the first occurrence.
            assert local.fold == 0 or (start - dt.timedelta(hours=1)).astimezone(zone).time() != handoff
        length_hours = (end - start).total_seconds() / 3600
        assert abs(length_hours - 24 * length) <= 1 + 1e-9
        assert schedule.number_at(start) == number
        assert schedule.number_at(end - dt.timedelta(seconds=1)) == number


members_strategy = st.lists(st.booleans(), min_size=2, max_size=9).filter(any)


@settings(max_examples=150, deadline=None)
@given(experience=members_strategy, cycles=st.integers(min_value=1, max_value=4))
def test_levels_l1_differs_from_l2_l2_is_experienced_and_first_timers_are_l1(experience, cycles):
    members = [Member(f"p{index}", flag) for index, flag in enumerate(experience)]
    plan = assign_levels(members, start=0, count=len(members) * (cycles + 1), has_l2=True)
    done = {member.key for member in members if member.experienced}
    for assignment in plan:
        assert assignment.l1 != assignment.l2
        assert assignment.l2 in done  # L2 is experienced at the start of that shift
        done.add(assignment.l1)  # finishing a shift makes you experienced
    # Everyone has done a shift by the end of the first cycle and a bit.
    assert done == {member.key for member in members}


@settings(max_examples=150, deadline=None)
@given(experience=members_strategy, offset=st.integers(min_value=0, max_value=20))
def test_over_any_full_cycle_counts_per_level_differ_by_at_most_one(experience, offset):
    members = [Member(f"p{index}", flag) for index, flag in enumerate(experience)]
    size = len(members)
    plan = assign_levels(members, start=0, count=size * 4 + offset, has_l2=True)
    # Once everyone is experienced (after the first cycle), every window of one cycle is fair.
    for begin in range(size + 1, len(plan) - size + 1):
        window = plan[begin : begin + size]
        for level in ("l1", "l2"):
            counts = Counter(getattr(assignment, level) for assignment in window)
            per_person = [counts.get(member.key, 0) for member in members]
            assert max(per_person) - min(per_person) <= 1


def test_history_continues_the_round_robin_where_it_left_off():
    members = [Member(key, True) for key in "abcd"]
    whole = assign_levels(members, start=0, count=12, has_l2=True)
    first = whole[:5]
    history = History(
        last_l1={assignment.l1: assignment.number for assignment in first},
        last_l2={assignment.l2: assignment.number for assignment in first},
        previous_l1=first[-1].l1,
        experienced=set("abcd"),
    )
    assert assign_levels(members, start=5, count=7, has_l2=True, history=history) == whole[5:]


def test_l1_only_rotation_is_a_round_robin():
    plan = assign_levels([Member(key) for key in "abc"], start=0, count=6, has_l2=False)
    assert [assignment.l1 for assignment in plan] == list(itertools.islice(itertools.cycle("abc"), 6))
    assert all(assignment.l2 is None for assignment in plan)


def test_unstaffable_rotations_are_refused_with_a_sentence():
    for members, has_l2, words in (
        ([], False, "at least one member"),
        ([Member("a", True)], True, "two members"),
        ([Member("a"), Member("b")], True, "experienced"),
        ([Member("a"), Member("a")], False, "twice"),
    ):
        try:
            check_members(members, has_l2=has_l2)
        except ValueError as error:
            assert words in str(error)
        else:
            raise AssertionError("should have been refused")


def test_split_cuts_a_window_into_before_covered_after():
    day = dt.datetime(2026, 1, 1, tzinfo=UTC)
    piece = Window(day, day + dt.timedelta(days=3))
    before, covered, after = split(piece, Window(day + dt.timedelta(hours=5), day + dt.timedelta(hours=9)))
    assert (before.ends_at, covered.starts_at, covered.ends_at, after.starts_at) == (
        day + dt.timedelta(hours=5),
        day + dt.timedelta(hours=5),
        day + dt.timedelta(hours=9),
        day + dt.timedelta(hours=9),
    )
    assert split(piece, Window(day - dt.timedelta(days=2), day)) == (None, None, None)


def test_weekend_and_night_hours_follow_the_local_clock():
    london = ZoneInfo("Europe/London")
    saturday = dt.datetime(2026, 3, 28, 0, tzinfo=UTC)  # the clocks go forward on Sunday 29 March
    window = Window(saturday, saturday + dt.timedelta(days=2))
    assert hours_in(window, london, weekend=True) == 47  # Saturday + a 23-hour Sunday, in real hours
    assert (
        hours_in(Window(saturday, saturday + dt.timedelta(days=1)), london, night=(dt.time(22), dt.time(7)))
        == 9
    )


def test_night_hours_on_a_dst_change_night_are_the_real_hours_slept():
    london = ZoneInfo("Europe/London")
    night = (dt.time(22), dt.time(7))
    spring = dt.datetime(2026, 3, 28, 12, tzinfo=UTC)  # 22:00 GMT to 07:00 BST
    autumn = dt.datetime(2026, 10, 24, 12, tzinfo=UTC)  # 22:00 BST to 07:00 GMT
    assert hours_in(Window(spring, spring + dt.timedelta(days=1)), london, night=night) == 8
    assert hours_in(Window(autumn, autumn + dt.timedelta(days=1)), london, night=night) == 10


def test_sleep_hours_that_start_when_they_end_count_no_night_hours():
    day = dt.datetime(2026, 1, 1, tzinfo=UTC)
    window = Window(day, day + dt.timedelta(days=3))
    assert hours_in(window, ZoneInfo("UTC"), night=(dt.time(22), dt.time(22))) == 0
