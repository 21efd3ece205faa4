"""Property tests of materialised shifts: real DST changes, edits and overrides, against the database."""

import datetime as dt
import itertools

import pytest
from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st

from oncall import services
from oncall.models import Level, Rotation, ShiftSource
from tests.factories import ProfileFactory, TeamFactory, UserFactory

UTC = dt.UTC
pytestmark = pytest.mark.django_db


@pytest.fixture
def crew(db):
    return [ProfileFactory(user=UserFactory(username=f"crew{index}")).user for index in range(6)]


@settings(max_examples=8, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(
    zone=st.sampled_from(["America/New_York", "Europe/London", "Australia/Lord_Howe"]),
    first=st.dates(min_value=dt.date(2026, 1, 1), max_value=dt.date(2026, 12, 1)),
    length=st.integers(min_value=1, max_value=10),
    handoff=st.sampled_from([dt.time(10), dt.time(2, 30), dt.time(1, 30), dt.time(0, 0)]),
    size=st.integers(min_value=2, max_value=6),
    experienced=st.integers(min_value=1, max_value=6),
    edit_after_days=st.integers(min_value=0, max_value=60),
    new_length=st.integers(min_value=1, max_value=10),
    override_hours=st.lists(st.tuples(st.integers(0, 2000), st.integers(1, 60)), max_size=3),
)
def test_materialised_shifts_have_no_gaps_overlaps_or_level_clashes(
    crew, zone, first, length, handoff, size, experienced, edit_after_days, new_length, override_hours
):
    Rotation.objects.all().delete()
    team = TeamFactory(slug="prop", name="Prop")
    start = dt.datetime.combine(first, dt.time(0), UTC) - dt.timedelta(days=1)
    members = [services.MemberSpec(user, index < experienced) for index, user in enumerate(crew[:size])]
    rotation = services.create_rotation(
        team=team,
        name="Prop",
        slug="prop",
        first_shift_date=first,
        time_zone=zone,
        shift_length_days=length,
        handoff_time=handoff,
        members=members,
        now=start,
    )
    for offset, hours in override_hours:
        at = start + dt.timedelta(hours=offset)
        busy = set(
            rotation.shifts.overlapping(at, at + dt.timedelta(hours=hours)).values_list("user_id", flat=True)
        )
        free = [user for user in crew[:size] if user.pk not in busy]
        if free:
            services.create_override(
                rotation=rotation,
                level=Level.L1,
                user=free[0],
                starts_at=at,
                ends_at=at + dt.timedelta(hours=hours),
            )
    edit_at = start + dt.timedelta(days=edit_after_days, hours=5)
    before = list(
        rotation.shifts.filter(starts_at__lte=edit_at).values_list("level", "user_id", "starts_at", "ends_at")
    )
    services.update_rotation(rotation=rotation, shift_length_days=new_length, now=edit_at)

    after = list(
        rotation.shifts.filter(starts_at__lte=edit_at).values_list("level", "user_id", "starts_at", "ends_at")
    )
    assert sorted(after) == sorted(before)  # past and current shifts never change
    zone_info = rotation.zone
    for level in rotation.levels:
        pieces = list(rotation.shifts.filter(level=level).order_by("starts_at"))
        for earlier, later in itertools.pairwise(pieces):
            assert earlier.ends_at == later.starts_at  # no gap, no overlap
        first_piece = {}
        for piece in pieces:
            first_piece.setdefault(piece.number, piece)
        for number, piece in first_piece.items():
            local = piece.starts_at.astimezone(zone_info)
            moved = local.time() != handoff
            if number > 0 and piece.starts_at > edit_at and piece.source == ShiftSource.ROTATION and moved:
                # Only a handoff inside a DST gap moves, to just after it.
                assert local.replace(tzinfo=None) > dt.datetime.combine(local.date(), handoff)
    level_two = list(rotation.shifts.filter(level=Level.L2))
    for level_one in rotation.shifts.filter(level=Level.L1):
        for other in level_two:
            if other.starts_at < level_one.ends_at and level_one.starts_at < other.ends_at:
                assert other.user_id != level_one.user_id


window_days = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")


@settings(max_examples=6, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(
    zone=st.sampled_from(["America/New_York", "Europe/London", "Australia/Lord_Howe"]),
    first=st.sampled_from(
        [dt.date(2026, 3, 2), dt.date(2026, 3, 23), dt.date(2026, 9, 28), dt.date(2026, 10, 19)]
    ),
    hours=st.sampled_from([1, 8, 12, 24, 36]),
    handoff=st.sampled_from([dt.time(8), dt.time(2, 0), dt.time(1, 30)]),
    windows=st.lists(
        st.tuples(st.integers(0, 6), st.integers(0, 23), st.integers(0, 2), st.integers(1, 23)),
        min_size=1,
        max_size=3,
    ),
    on_duty=st.booleans(),
    edit_after_hours=st.integers(0, 24 * 20),
)
# One window of an hour a week and five-hour turns on duty: the last turn that starts
# before the horizon runs five weeks past it, still inside its windows.
@example(
    zone="America/New_York",
    first=dt.date(2026, 3, 2),
    hours=1,
    handoff=dt.time(8),
    windows=[(0, 0, 0, 1)],
    on_duty=True,
    edit_after_hours=195,
)
def test_layered_restricted_hour_turns_never_overlap_and_stay_inside_their_windows(
    crew, zone, first, hours, handoff, windows, on_duty, edit_after_hours
):
    from oncall.models import Shift
    from oncall.shifts import active_windows, parse_restrictions

    Rotation.objects.all().delete()
    team = TeamFactory(slug="prop", name="Prop")
    start = dt.datetime.combine(first, dt.time(0), UTC) - dt.timedelta(days=1)
    restrictions = [
        {
            "start_day": window_days[day],
            "start_time": f"{hour:02d}:00",
            "end_day": window_days[(day + span) % 7],
            "end_time": f"{(hour + length) % 24 if span == 0 and hour + length < 24 else length:02d}:00",
        }
        for day, hour, span, length in windows
        if span or hour + length < 24
    ] or [{"start_day": "mon", "start_time": "09:00", "end_day": "mon", "end_time": "17:00"}]
    base = services.create_rotation(
        team=team,
        name="Base",
        slug="base",
        first_shift_date=first,
        time_zone=zone,
        shift_length_hours=hours,
        handoff_time=handoff,
        members=[services.MemberSpec(user, True) for user in crew[:3]],
        layer=1,
        now=start,
    )
    top = services.create_rotation(
        team=team,
        name="Top",
        slug="top",
        first_shift_date=first,
        time_zone=zone,
        shift_length_hours=hours,
        handoff_time=handoff,
        restrictions=restrictions,
        advance="on_duty" if on_duty else "wall_time",
        has_l2=False,
        members=[services.MemberSpec(user, True) for user in crew[3:]],
        layer=2,
        now=start,
    )
    edit_at = start + dt.timedelta(hours=edit_after_hours)
    before = sorted(
        Shift.all_pieces.filter(starts_at__lte=edit_at).values_list("rotation_id", "level", "user_id")
    )
    services.update_rotation(rotation=top, shift_length_hours=hours + 4, now=edit_at)
    services.update_rotation(rotation=base, layer=3, now=edit_at + dt.timedelta(hours=1))
    after = sorted(
        Shift.all_pieces.filter(starts_at__lte=edit_at).values_list("rotation_id", "level", "user_id")
    )
    assert after == before  # nothing begun changes hands

    # The windows up to the last piece: the horizon is 180 days from the edit, and a turn
    # on duty that starts before it is complete, so with an hour a week it runs weeks past it.
    last_end = max((piece.ends_at for piece in Shift.all_pieces.filter(rotation=top)), default=start)
    active = []
    for window in active_windows(parse_restrictions(top.restrictions), top.zone, start):
        active.append(window)
        if window.ends_at >= last_end:
            break
    # Within a rotation and level, pieces never overlap; a restricted rotation holds only inside its windows
    # (its pieces are rotation pieces: no override here).
    for rotation in (base, top):
        for level in rotation.levels:
            pieces = list(Shift.all_pieces.filter(rotation=rotation, level=level).order_by("starts_at"))
            for earlier, later in itertools.pairwise(pieces):
                assert earlier.ends_at <= later.starts_at
    for piece in Shift.all_pieces.filter(rotation=top):
        assert any(w.starts_at <= piece.starts_at and piece.ends_at <= w.ends_at for w in active)
    # Layers: at every instant at most one unmasked L1 piece of the team, and, from the
    # last edit on (nothing earlier is re-resolved), the best layer's.
    layers = dict(Rotation.objects.filter(team=team).values_list("pk", "layer"))
    cursor = edit_at + dt.timedelta(hours=1)
    until = cursor + dt.timedelta(days=30)
    while cursor < until:
        holders = list(Shift.objects.covering(cursor).filter(rotation__team=team, level=Level.L1))
        raw = list(Shift.all_pieces.covering(cursor).filter(rotation__team=team, level=Level.L1))
        assert len(holders) == (1 if raw else 0)
        if raw:
            best = max(raw, key=lambda piece: (layers[piece.rotation_id], -piece.rotation_id))
            assert holders[0].rotation_id == best.rotation_id
        cursor += dt.timedelta(minutes=97)
