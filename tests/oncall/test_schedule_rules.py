"""Hour-long turns, weekly restriction windows and on-duty turns: the pure rules across real DST changes."""

import datetime as dt
import itertools
from zoneinfo import ZoneInfo

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from oncall.shifts import (
    WEEKDAYS,
    Schedule,
    WeeklyWindow,
    Window,
    active_windows,
    on_duty_turns,
    parse_restrictions,
    resolve_layers,
    restrict,
)

UTC = dt.UTC
ZONES = ["America/New_York", "Europe/London", "Australia/Lord_Howe"]
LONDON = ZoneInfo("Europe/London")


def test_a_twelve_hour_turn_hands_off_at_eight_and_twenty_local_across_dst():
    schedule = Schedule(LONDON, 1, dt.time(8), dt.date(2026, 3, 28), length_hours=12)
    starts = [schedule.start(number).astimezone(LONDON) for number in range(5)]
    assert [start.time() for start in starts] == [dt.time(8), dt.time(20)] * 2 + [dt.time(8)]
    # The night turn of the spring-forward change is 11 hours; the autumn one is 13.
    assert schedule.end(1) - schedule.start(1) == dt.timedelta(hours=11)
    autumn = Schedule(LONDON, 1, dt.time(8), dt.date(2026, 10, 24), length_hours=12)
    assert autumn.end(1) - autumn.start(1) == dt.timedelta(hours=13)


hours = st.sampled_from([1, 2, 3, 5, 6, 8, 12, 24, 36])
handoffs = st.sampled_from([dt.time(0), dt.time(1, 30), dt.time(2, 15), dt.time(8), dt.time(20)])
dates = st.dates(min_value=dt.date(2026, 1, 1), max_value=dt.date(2026, 12, 20))


@settings(max_examples=120, deadline=None)
@given(zone_name=st.sampled_from(ZONES), first=dates, handoff=handoffs, length=hours)
def test_hour_turns_have_no_gaps_or_overlaps_and_start_on_the_local_wall_clock(
    zone_name, first, handoff, length
):
    zone = ZoneInfo(zone_name)
    schedule = Schedule(zone, 1, handoff, first, length_hours=length)
    for number in range(60):
        start, end = schedule.start(number), schedule.end(number)
        assert end >= start  # a turn wholly inside a spring-forward gap is empty
        wall = dt.datetime.combine(first, handoff) + number * dt.timedelta(hours=length)
        local = start.astimezone(zone).replace(tzinfo=None)
        assert local == wall or local > wall  # only a wall time inside a gap moves, forwards
        assert abs((end - start) - dt.timedelta(hours=length)) <= dt.timedelta(hours=1)
        if end > start:
            assert schedule.number_at(start) == number
            assert schedule.number_at(end - dt.timedelta(seconds=1)) == number


def weekly_windows():
    def build(start_day, start, span_days, minutes):
        start_time = dt.time(*divmod(start, 60))
        end_minutes = start + minutes if span_days == 0 else minutes
        if span_days == 0 and end_minutes >= 24 * 60:
            end_minutes = 24 * 60 - 1
        return WeeklyWindow(
            start_day, start_time, (start_day + span_days) % 7, dt.time(*divmod(end_minutes, 60))
        )

    return st.builds(
        build,
        st.integers(0, 6),
        st.integers(0, 24 * 60 - 2).map(lambda minutes: minutes - minutes % 15),
        st.integers(0, 3),
        st.integers(1, 24 * 60 - 1).map(lambda minutes: max(15, minutes - minutes % 15)),
    )


def is_inside(instant: dt.datetime, windows: list[WeeklyWindow], zone: ZoneInfo) -> bool:
    """The plain definition: the instant's local wall time falls in one of the weekly windows."""
    local = instant.astimezone(zone)
    minute = local.weekday() * 24 * 60 + local.hour * 60 + local.minute
    for window in windows:
        start = window.start_day * 24 * 60 + window.start_time.hour * 60 + window.start_time.minute
        end = start + window.days_spanned * 24 * 60
        end += (window.end_time.hour * 60 + window.end_time.minute) - (
            window.start_time.hour * 60 + window.start_time.minute
        )
        if any(start <= minute + week < end for week in (0, 7 * 24 * 60)):
            return True
    return False


@settings(max_examples=80, deadline=None)
@given(
    zone_name=st.sampled_from(ZONES),
    windows=st.lists(weekly_windows(), min_size=1, max_size=4),
    since=st.datetimes(
        min_value=dt.datetime(2026, 1, 1), max_value=dt.datetime(2026, 12, 1), timezones=st.just(UTC)
    ),
)
def test_active_windows_cut_exactly_at_local_wall_times(zone_name, windows, since):
    zone = ZoneInfo(zone_name)
    active = list(itertools.islice(active_windows(windows, zone, since), 12))
    assert active and active[0].ends_at > since
    for earlier, later in itertools.pairwise(active):
        assert earlier.ends_at <= later.starts_at
    for window in active:
        assert window.ends_at - window.starts_at <= dt.timedelta(days=7)
    # Every quarter hour between the first window's start and the last one's end is
    # active exactly when its local wall time is inside a weekly window. (Repeated wall
    # times of a fall-back night count by their wall time, like everything else.)
    cursor = max(active[0].starts_at, since).replace(second=0, microsecond=0)
    cursor -= dt.timedelta(minutes=cursor.minute % 15)
    while cursor < active[-1].ends_at:
        inside = any(window.starts_at <= cursor < window.ends_at for window in active)
        local = cursor.astimezone(zone)
        ambiguous = local.replace(fold=1 - local.fold).utcoffset() != local.utcoffset()
        if not ambiguous and cursor >= since:
            assert inside == is_inside(cursor, windows, zone), cursor
        cursor += dt.timedelta(minutes=15)


@settings(max_examples=60, deadline=None)
@given(
    zone_name=st.sampled_from(ZONES),
    windows=st.lists(weekly_windows(), min_size=1, max_size=3),
    first=dates,
    length=hours,
)
def test_restricted_turns_never_overlap_and_stay_inside_their_turn_and_the_windows(
    zone_name, windows, first, length
):
    zone = ZoneInfo(zone_name)
    schedule = Schedule(zone, 1, dt.time(8), first, length_hours=length)
    turns = [
        (number, Window(schedule.start(number), schedule.end(number)))
        for number in range(40)
        if schedule.end(number) > schedule.start(number)
    ]
    active = list(itertools.islice(active_windows(windows, zone, turns[0][1].starts_at), 40))
    pieces = restrict(turns, iter(active))
    by_number = dict(turns)
    for earlier, later in itertools.pairwise(pieces):
        assert earlier[1].ends_at <= later[1].starts_at
    for number, piece in pieces:
        assert by_number[number].starts_at <= piece.starts_at < piece.ends_at <= by_number[number].ends_at
        assert any(
            window.starts_at <= piece.starts_at and piece.ends_at <= window.ends_at for window in active
        )


@settings(max_examples=60, deadline=None)
@given(
    zone_name=st.sampled_from(ZONES),
    windows=st.lists(weekly_windows(), min_size=1, max_size=3),
    start=st.datetimes(
        min_value=dt.datetime(2026, 1, 1), max_value=dt.datetime(2026, 12, 1), timezones=st.just(UTC)
    ),
    length=hours,
)
def test_on_duty_turns_hand_off_after_exactly_their_length_on_duty(zone_name, windows, start, length):
    zone = ZoneInfo(zone_name)
    until = start + dt.timedelta(days=30)
    pieces = on_duty_turns(
        start=start,
        length=dt.timedelta(hours=length),
        first_number=3,
        until=until,
        active=active_windows(windows, zone, start),
    )
    assert pieces and pieces[0][0] == 3
    for earlier, later in itertools.pairwise(pieces):
        assert earlier[1].ends_at <= later[1].starts_at
        assert later[0] in (earlier[0], earlier[0] + 1)
    for _number, group in itertools.groupby(pieces, key=lambda piece: piece[0]):
        on_duty = sum(((piece.ends_at - piece.starts_at) for _, piece in group), dt.timedelta())
        assert on_duty == dt.timedelta(hours=length)  # every turn is complete, the last one too
    last_turn_start = next(piece.starts_at for number, piece in pieces if number == pieces[-1][0])
    assert last_turn_start < until  # no turn starts at or after the horizon


def test_a_window_crossing_the_weekend_joins_the_monday_business_hours():
    windows = parse_restrictions(
        [
            {"start_day": "mon", "start_time": "09:00", "end_day": "mon", "end_time": "17:00"},
            {"start_day": "Friday", "start_time": "17:00", "end_day": "mon", "end_time": "09:00"},
        ]
    )
    first = next(active_windows(windows, LONDON, dt.datetime(2026, 3, 25, tzinfo=UTC)))
    assert first.starts_at == dt.datetime(2026, 3, 27, 17, tzinfo=UTC)
    assert first.ends_at == dt.datetime(2026, 3, 30, 16, tzinfo=UTC)  # 17:00 BST


@pytest.mark.parametrize(
    ("restrictions", "words"),
    [
        ([{"start_day": "mon", "start_time": "17:00", "end_day": "mon", "end_time": "09:00"}], "ends before"),
        ([{"start_day": "mon", "start_time": "09:00", "end_day": "mon", "end_time": "09:00"}], "ends before"),
        (
            [{"start_day": "xyz", "start_time": "09:00", "end_day": "mon", "end_time": "17:00"}],
            "not a weekday",
        ),
        ([{"start_day": "mon", "start_time": "24:00", "end_day": "tue", "end_time": "17:00"}], "not a time"),
        ([{"start_day": "mon", "start_time": "09:00"}], "exactly"),
        ("mon-fri", "a list"),
        ([{"start_day": "monkey", "start_time": "09:00", "end_day": "mon", "end_time": "17:00"}], "weekday"),
        ([{"start_day": 1, "start_time": "09:00", "end_day": "mon", "end_time": "17:00"}], "weekday"),
        ([{"start_day": "mon", "start_time": "09:99", "end_day": "tue", "end_time": "17:00"}], "not a time"),
        ([{"start_day": "mon", "start_time": None, "end_day": "tue", "end_time": "17:00"}], "not a time"),
        (["mon 09:00"], "exactly"),
    ],
)
def test_bad_restrictions_are_refused_with_a_sentence(restrictions, words):
    with pytest.raises(ValueError, match=words):
        parse_restrictions(restrictions)


def test_weekdays_are_monday_first():
    assert WEEKDAYS[0] == "mon" and len(WEEKDAYS) == 7


def layer_pieces():
    """Per rank, non-overlapping pieces on a quarter-hour grid (within a rank pieces never overlap)."""
    base = dt.datetime(2026, 3, 28, tzinfo=UTC)

    def build(rank, cuts):
        points = sorted(set(cuts))
        return [
            ((rank,), Window(base + dt.timedelta(minutes=15 * start), base + dt.timedelta(minutes=15 * end)))
            for start, end in itertools.pairwise(points)
            if (start + end) % 3  # leave some gaps
        ]

    return st.lists(
        st.builds(build, st.integers(0, 3), st.lists(st.integers(0, 200), min_size=2, max_size=8)),
        min_size=1,
        max_size=4,
        unique_by=lambda pieces: pieces[0][0] if pieces else None,
    ).map(lambda groups: [piece for group in groups for piece in group])


@settings(max_examples=150, deadline=None)
@given(pieces=layer_pieces(), data=st.data())
def test_layers_resolve_to_exactly_the_best_ranked_holder_whatever_the_order(pieces, data):
    resolved = resolve_layers(pieces)
    shuffled = data.draw(st.permutations(range(len(pieces))))
    again = resolve_layers([pieces[index] for index in shuffled])
    assert [again[shuffled.index(index)] for index in range(len(pieces))] == resolved  # deterministic
    for (_, piece), parts in zip(pieces, resolved, strict=True):
        assert parts[0][0].starts_at == piece.starts_at and parts[-1][0].ends_at == piece.ends_at
        for earlier, later in itertools.pairwise(parts):
            assert earlier[0].ends_at == later[0].starts_at and earlier[1] != later[1]
    base = dt.datetime(2026, 3, 28, tzinfo=UTC)
    for step in range(0, 200):
        at = base + dt.timedelta(minutes=15 * step + 7)
        covering = [rank for rank, piece in pieces if piece.starts_at <= at < piece.ends_at]
        unmasked = [
            rank
            for (rank, _), parts in zip(pieces, resolved, strict=True)
            for window, masked in parts
            if not masked and window.starts_at <= at < window.ends_at
        ]
        assert unmasked == ([min(covering)] if covering else [])


def _cuts_by_scanning_every_piece(pieces, rank, piece):
    """The definition resolve_layers' bisection must equal: every better-ranked overlap, sorted."""
    return sorted(
        (max(other.starts_at, piece.starts_at), min(other.ends_at, piece.ends_at))
        for other_rank, other in pieces
        if other_rank < rank and other.starts_at < piece.ends_at and piece.starts_at < other.ends_at
    )


@settings(max_examples=150, deadline=None)
@given(pieces=layer_pieces())
def test_layer_resolution_by_bisection_masks_exactly_the_better_ranked_overlaps(pieces):
    for (rank, piece), parts in zip(pieces, resolve_layers(pieces), strict=True):
        masked = [(window.starts_at, window.ends_at) for window, is_masked in parts if is_masked]
        covered = []
        for start, end in _cuts_by_scanning_every_piece(pieces, rank, piece):
            if covered and start <= covered[-1][1]:
                covered[-1] = (covered[-1][0], max(covered[-1][1], end))
            else:
                covered.append((start, end))
        assert masked == covered
