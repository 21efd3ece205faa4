import datetime as dt
import itertools

import pytest
from django.contrib.auth.models import Group

from morgue.services import ENGINEERS_GROUP, create_person
from oncall import services
from oncall.exceptions import OverrideConflict
from oncall.models import Level, Shift, ShiftSource
from tests.factories import make_rotation

UTC = dt.UTC
pytestmark = pytest.mark.django_db


def _rows(rotation):
    return list(
        rotation.shifts.order_by("level", "starts_at").values_list(
            "level", "user__username", "starts_at", "ends_at", "number", "source"
        )
    )


def _check_contiguous(rotation):
    for level in rotation.levels:
        pieces = list(rotation.shifts.filter(level=level).order_by("starts_at"))
        for before, after in itertools.pairwise(pieces):
            assert before.ends_at == after.starts_at


def test_rotation_is_materialised_to_the_horizon_with_handoffs_on_the_wall_clock():
    now = dt.datetime(2026, 3, 1, tzinfo=UTC)
    rotation = make_rotation(time_zone="America/New_York", first_shift_date=dt.date(2026, 3, 2), now=now)

    shifts = list(rotation.shifts.filter(level=Level.L1).order_by("starts_at"))
    assert shifts[0].starts_at == dt.datetime(2026, 3, 2, 15, tzinfo=UTC)
    assert shifts[-1].ends_at >= now + dt.timedelta(days=180)
    # The shift over the spring-forward change is 71 hours and the handoff stays at 10:00.
    assert shifts[1].ends_at - shifts[1].starts_at == dt.timedelta(hours=71)
    assert shifts[2].starts_at == dt.datetime(2026, 3, 8, 14, tzinfo=UTC)
    _check_contiguous(rotation)


def test_editing_a_rotation_never_changes_past_or_current_shifts():
    rotation = make_rotation(now=dt.datetime(2026, 1, 1, tzinfo=UTC))
    now = dt.datetime(2026, 2, 3, 12, tzinfo=UTC)
    kept = [row for row in _rows(rotation) if row[2] <= now]

    services.update_rotation(rotation=rotation, shift_length_days=7, handoff_time=dt.time(9, 0), now=now)

    after = _rows(rotation)
    assert [row for row in after if row[2] <= now] == kept
    current_end = max(row[3] for row in kept)
    following = [row for row in after if row[2] >= current_end and row[0] == Level.L1]
    # The next shift starts when the current one ends and hands off at 09:00
    # seven days on: the edit is in force from that next shift, not a later one.
    assert following[0][2] == current_end
    assert following[0][3] == dt.datetime.combine(current_end.date() + dt.timedelta(days=7), dt.time(9), UTC)
    assert following[1][2] - following[0][3] == dt.timedelta()
    assert following[1][3] - following[1][2] == dt.timedelta(days=7)
    assert following[1][2].hour == 9
    _check_contiguous(rotation)


def test_an_edit_to_hour_turns_takes_effect_at_the_next_handoff_with_the_next_person():
    rotation = make_rotation(
        first_shift_date=dt.date(2026, 6, 1),
        shift_length_hours=12,
        handoff_time=dt.time(8),
        has_l2=False,
        now=dt.datetime(2026, 5, 31, tzinfo=UTC),
    )
    # Turns of 12 hours: ana, ben, cy, then ana again from 20:00 on 2 June; the edit is during cy's turn.
    services.update_rotation(
        rotation=rotation, shift_length_hours=8, now=dt.datetime(2026, 6, 2, 9, tzinfo=UTC)
    )

    following = [
        (row[1], row[2], row[3])
        for row in _rows(rotation)
        if row[2] >= dt.datetime(2026, 6, 2, 20, tzinfo=UTC)
    ]
    assert following[:3] == [
        ("ana", dt.datetime(2026, 6, 2, 20, tzinfo=UTC), dt.datetime(2026, 6, 3, 4, tzinfo=UTC)),
        ("ben", dt.datetime(2026, 6, 3, 4, tzinfo=UTC), dt.datetime(2026, 6, 3, 12, tzinfo=UTC)),
        ("cy", dt.datetime(2026, 6, 3, 12, tzinfo=UTC), dt.datetime(2026, 6, 3, 20, tzinfo=UTC)),
    ]
    rotation.refresh_from_db()
    assert (rotation.anchor_date, rotation.anchor_time) == (dt.date(2026, 6, 2), dt.time(20))
    _check_contiguous(rotation)


def test_the_preview_of_an_edit_to_hour_turns_shows_the_next_person_at_the_next_handoff():
    rotation = make_rotation(
        first_shift_date=dt.date(2026, 6, 1),
        shift_length_hours=12,
        handoff_time=dt.time(8),
        has_l2=False,
        now=dt.datetime(2026, 5, 31, tzinfo=UTC),
    )
    saved = _rows(rotation)

    changes = services.preview_rotation_change(
        rotation=rotation, shift_length_hours=8, now=dt.datetime(2026, 6, 2, 9, tzinfo=UTC)
    )

    assert _rows(rotation) == saved
    by_person = {change.user.username: change for change in changes}
    first = (dt.datetime(2026, 6, 2, 20, tzinfo=UTC), dt.datetime(2026, 6, 3, 4, tzinfo=UTC))
    assert (by_person["ana"].appear[0].starts_at, by_person["ana"].appear[0].ends_at) == first
    assert not [window for window in by_person["ben"].appear if window.starts_at < first[1]]


def test_an_edit_to_hour_turns_before_a_dst_change_keeps_the_wall_clock_from_the_next_handoff():
    rotation = make_rotation(
        time_zone="America/New_York",
        first_shift_date=dt.date(2026, 3, 6),
        shift_length_hours=12,
        handoff_time=dt.time(8),
        has_l2=False,
        now=dt.datetime(2026, 3, 5, tzinfo=UTC),
    )
    # ana 6 March 08:00 EST, ben 20:00, cy 7 March 08:00-20:00 EST (13:00-01:00 UTC): the edit is in her turn.
    services.update_rotation(
        rotation=rotation, shift_length_hours=8, now=dt.datetime(2026, 3, 7, 15, tzinfo=UTC)
    )

    following = [
        (row[1], row[2], row[3])
        for row in _rows(rotation)
        if row[2] >= dt.datetime(2026, 3, 8, 1, tzinfo=UTC)
    ]
    # Handoffs at 20:00, 04:00 and 12:00 local: the turn over the spring-forward change is 7 hours.
    assert following[:4] == [
        ("ana", dt.datetime(2026, 3, 8, 1, tzinfo=UTC), dt.datetime(2026, 3, 8, 8, tzinfo=UTC)),
        ("ben", dt.datetime(2026, 3, 8, 8, tzinfo=UTC), dt.datetime(2026, 3, 8, 16, tzinfo=UTC)),
        ("cy", dt.datetime(2026, 3, 8, 16, tzinfo=UTC), dt.datetime(2026, 3, 9, tzinfo=UTC)),
        ("ana", dt.datetime(2026, 3, 9, tzinfo=UTC), dt.datetime(2026, 3, 9, 8, tzinfo=UTC)),
    ]
    _check_contiguous(rotation)


def test_moving_the_handoff_of_hour_turns_anchors_at_the_nearest_new_handoff():
    rotation = make_rotation(
        first_shift_date=dt.date(2026, 6, 1),
        shift_length_hours=12,
        handoff_time=dt.time(8),
        has_l2=False,
        now=dt.datetime(2026, 5, 31, tzinfo=UTC),
    )
    # During cy's 08:00-20:00 turn on 2 June the handoff moves to 09:00: turns hand off at 09:00 and 21:00.
    services.update_rotation(
        rotation=rotation, handoff_time=dt.time(9), now=dt.datetime(2026, 6, 2, 9, tzinfo=UTC)
    )

    following = [
        (row[1], row[2], row[3])
        for row in _rows(rotation)
        if row[2] >= dt.datetime(2026, 6, 2, 20, tzinfo=UTC)
    ]
    assert following[:2] == [
        ("ana", dt.datetime(2026, 6, 2, 20, tzinfo=UTC), dt.datetime(2026, 6, 3, 9, tzinfo=UTC)),
        ("ben", dt.datetime(2026, 6, 3, 9, tzinfo=UTC), dt.datetime(2026, 6, 3, 21, tzinfo=UTC)),
    ]
    _check_contiguous(rotation)


def test_override_splits_the_shift_so_the_window_is_exactly_covered():
    rotation = make_rotation(now=dt.datetime(2026, 1, 1, tzinfo=UTC))
    shift = rotation.shifts.filter(level=Level.L1).order_by("starts_at")[3]
    window_start = shift.starts_at + dt.timedelta(hours=5)
    window_end = shift.starts_at + dt.timedelta(hours=9)
    stand_in = make_rotation(slug="dev-x", people=("dee", "eve"), experienced=("dee",)).members.first().user

    services.create_override(
        rotation=rotation,
        level=Level.L1,
        user=stand_in,
        starts_at=window_start,
        ends_at=window_end,
        reason="dentist",
    )

    pieces = list(rotation.shifts.filter(level=Level.L1, number=shift.number).order_by("starts_at"))
    assert [(piece.user_id, piece.source) for piece in pieces] == [
        (shift.user_id, ShiftSource.ROTATION),
        (stand_in.pk, ShiftSource.OVERRIDE),
        (shift.user_id, ShiftSource.ROTATION),
    ]
    assert pieces[1].starts_at == window_start and pieces[1].ends_at == window_end
    _check_contiguous(rotation)
    assert Shift.objects.covering(window_start).get(rotation=rotation, level=Level.L1).user == stand_in


def test_an_override_that_would_make_one_person_l1_and_l2_at_once_is_refused():
    rotation = make_rotation(now=dt.datetime(2026, 1, 1, tzinfo=UTC))
    at = dt.datetime(2026, 2, 10, 12, tzinfo=UTC)
    level_one = Shift.objects.covering(at).get(rotation=rotation, level=Level.L1).user
    level_two = Shift.objects.covering(at).get(rotation=rotation, level=Level.L2).user

    with pytest.raises(OverrideConflict, match="L1 and L2 must be different people"):
        services.create_override(
            rotation=rotation,
            level=Level.L1,
            user=level_two,
            starts_at=at,
            ends_at=at + dt.timedelta(hours=2),
        )

    assert not rotation.overrides.exists()
    assert Shift.objects.covering(at).get(rotation=rotation, level=Level.L1).user == level_one


def test_override_survives_regeneration_of_future_shifts():
    rotation = make_rotation(now=dt.datetime(2026, 1, 1, tzinfo=UTC))
    user = rotation.members.first().user
    other = rotation.members.last().user
    start = dt.datetime(2026, 4, 1, tzinfo=UTC)
    level = Level.L1
    holder = Shift.objects.covering(start).get(rotation=rotation, level=Level.L2).user
    if holder == user:
        user = other
    services.create_override(
        rotation=rotation, level=level, user=user, starts_at=start, ends_at=start + dt.timedelta(hours=2)
    )

    services.update_rotation(
        rotation=rotation, escalation_timeout_minutes=5, now=dt.datetime(2026, 2, 1, tzinfo=UTC)
    )

    assert Shift.objects.covering(start).get(rotation=rotation, level=level).user == user
    _check_contiguous(rotation)


def test_everyone_else_takes_engineers_in_no_other_rotation_and_recomputes_at_handoff():
    ops = make_rotation(slug="ops-primary", people=("ana", "ben"))
    engineers = Group.objects.get_or_create(name=ENGINEERS_GROUP)[0]
    for member in ops.members.all():
        member.user.groups.add(engineers)  # engineers, but taken by ops
    dee = create_person(username="dee").user
    for username in ("eve", "fay"):
        create_person(username=username)
    create_person(username="manager", engineer=False)
    start = dt.datetime(2026, 1, 1, tzinfo=UTC)
    dev = services.create_rotation(
        team=ops.team,
        name="Dev",
        slug="dev",
        first_shift_date=dt.date(2026, 1, 5),
        everyone_else=True,
        members=[services.MemberSpec(dee, True)],
        now=start,
    )
    assert sorted(dev.members.values_list("user__username", flat=True)) == ["dee", "eve", "fay"]

    now = dt.datetime(2026, 2, 3, 12, tzinfo=UTC)
    kept = [row for row in _rows(dev) if row[2] <= now]
    create_person(username="gil")
    services.extend_all_rotations(now=now)

    assert "gil" in dev.members.values_list("user__username", flat=True)
    after = _rows(dev)
    assert [row for row in after if row[2] <= now] == kept
    assert "gil" in {row[1] for row in after if row[2] > now}
    _check_contiguous(dev)


def test_members_become_experienced_after_finishing_a_shift():
    rotation = make_rotation(people=("ana", "ben", "cy", "dee"), experienced=("ana",))
    services.materialise_shifts(rotation=rotation, now=dt.datetime(2026, 2, 1, tzinfo=UTC))
    assert rotation.members.filter(experienced=False).count() == 0


def test_the_hourly_top_up_only_appends_shifts():
    rotation = make_rotation(now=dt.datetime(2026, 1, 1, tzinfo=UTC))
    before = set(rotation.shifts.values_list("pk", "user_id", "starts_at", "ends_at"))
    last_end = max(row[3] for row in before)

    created = services.extend_all_rotations(now=dt.datetime(2026, 1, 20, tzinfo=UTC))

    after = set(rotation.shifts.values_list("pk", "user_id", "starts_at", "ends_at"))
    assert before <= after and created == len(after - before) > 0
    assert min(row[2] for row in after - before) == last_end
    assert max(row[3] for row in after) >= dt.datetime(2026, 1, 20, tzinfo=UTC) + services.HORIZON
    assert services.extend_all_rotations(now=dt.datetime(2026, 1, 20, tzinfo=UTC)) == 0
    _check_contiguous(rotation)


def test_a_rotation_edit_never_makes_one_person_l1_and_l2_at_once():
    rotation = make_rotation(people=("ana", "ben", "cy", "dee"), now=dt.datetime(2026, 1, 1, tzinfo=UTC))
    at = dt.datetime(2026, 3, 2, 12, tzinfo=UTC)
    l1 = Shift.objects.covering(at).get(rotation=rotation, level=Level.L1)
    l2 = Shift.objects.covering(at).get(rotation=rotation, level=Level.L2)
    stand_in = next(
        member.user for member in rotation.members.all() if member.user_id not in (l1.user_id, l2.user_id)
    )
    services.create_override(
        rotation=rotation, level=Level.L1, user=stand_in, starts_at=at, ends_at=at + dt.timedelta(hours=4)
    )
    # Reordering the members makes the stand-in L2 in that window when shifts are rebuilt.
    for _ in range(4):
        members = list(rotation.members.order_by("position"))
        members = members[1:] + members[:1]
        services.update_rotation(
            rotation=rotation,
            members=[services.MemberSpec(member.user, True) for member in members],
            now=dt.datetime(2026, 1, 2, tzinfo=UTC),
        )
        for level_one in rotation.shifts.filter(level=Level.L1):
            clash = rotation.shifts.overlapping(level_one.starts_at, level_one.ends_at).filter(
                level=Level.L2, user=level_one.user_id
            )
            assert not clash.exists(), level_one
    assert Shift.objects.covering(at).get(rotation=rotation, level=Level.L1).user == stand_in
    _check_contiguous(rotation)
