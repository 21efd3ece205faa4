"""Rotations with hour turns, weekly restriction windows and on-duty advance, materialised in the database."""

import datetime as dt
import itertools
from zoneinfo import ZoneInfo

import pytest
import time_machine

from oncall import services
from oncall.models import Advance, Level, Shift, ShiftSource
from oncall.selectors import person_on_call
from tests.factories import UserFactory, make_rotation

UTC = dt.UTC
LONDON = ZoneInfo("Europe/London")
NOW = dt.datetime(2026, 3, 1, tzinfo=UTC)
pytestmark = pytest.mark.django_db

BUSINESS_HOURS = [
    {"start_day": day, "start_time": "09:00", "end_day": day, "end_time": "17:00"}
    for day in ("mon", "tue", "wed", "thu", "fri")
]


def local(shift_time: dt.datetime) -> dt.datetime:
    return shift_time.astimezone(LONDON).replace(tzinfo=None)


def test_a_follow_the_sun_rotation_hands_off_at_eight_and_twenty_london_time_across_dst():
    rotation = make_rotation(
        slug="sun-primary",
        time_zone="Europe/London",
        shift_length_hours=12,
        handoff_time=dt.time(8),
        first_shift_date=dt.date(2026, 3, 27),
        has_l2=False,
        now=NOW,
    )
    shifts = list(rotation.shifts.filter(level=Level.L1).order_by("starts_at")[:8])
    assert {local(shift.starts_at).time() for shift in shifts} == {dt.time(8), dt.time(20)}
    lengths = [shift.ends_at - shift.starts_at for shift in shifts]
    assert lengths[3] == dt.timedelta(hours=11)  # Saturday night into the spring-forward Sunday
    assert lengths.count(dt.timedelta(hours=12)) == 7
    for earlier, later in itertools.pairwise(shifts):
        assert earlier.ends_at == later.starts_at and earlier.user_id != later.user_id


def test_a_business_hours_rotation_has_nobody_on_call_outside_its_windows():
    rotation = make_rotation(
        slug="biz-primary",
        time_zone="Europe/London",
        shift_length_days=7,
        handoff_time=dt.time(9),
        first_shift_date=dt.date(2026, 3, 23),
        restrictions=BUSINESS_HOURS,
        now=NOW,
    )
    team = rotation.team
    assert rotation.restrictions == BUSINESS_HOURS
    pieces = list(rotation.shifts.filter(level=Level.L1).order_by("starts_at")[:10])
    for piece in pieces:
        start, end = local(piece.starts_at), local(piece.ends_at)
        assert start.weekday() < 5 and start.time() == dt.time(9) and end == start.replace(hour=17)
    # A week's five pieces belong to one turn and one person; the next week is the next person.
    assert len({piece.user_id for piece in pieces[:5]}) == 1 and pieces[5].user_id != pieces[0].user_id
    assert pieces[0].number == pieces[4].number != pieces[5].number
    monday_noon = dt.datetime(2026, 3, 30, 11, tzinfo=UTC)  # 12:00 BST
    assert person_on_call(team=team, at=monday_noon) is not None
    assert person_on_call(team=team, at=dt.datetime(2026, 3, 30, 17, tzinfo=UTC)) is None  # 18:00 BST
    assert person_on_call(team=team, at=dt.datetime(2026, 3, 28, 12, tzinfo=UTC)) is None  # Saturday


def test_on_duty_advance_hands_off_after_the_turn_length_inside_the_windows():
    rotation = make_rotation(
        slug="duty-primary",
        time_zone="Europe/London",
        shift_length_hours=16,
        handoff_time=dt.time(9),
        first_shift_date=dt.date(2026, 3, 23),
        restrictions=BUSINESS_HOURS,
        advance=Advance.ON_DUTY,
        has_l2=False,
        now=NOW,
    )
    pieces = list(rotation.shifts.order_by("starts_at")[:6])
    # Two eight-hour business days per turn: Mon+Tue, Wed+Thu, Fri+next Mon.
    assert [piece.number for piece in pieces] == [0, 0, 1, 1, 2, 2]
    assert local(pieces[5].starts_at) == dt.datetime(2026, 3, 30, 9)
    wall = make_rotation(
        slug="wall-primary",
        people=("dee", "eve"),
        time_zone="Europe/London",
        shift_length_hours=16,
        handoff_time=dt.time(9),
        first_shift_date=dt.date(2026, 3, 23),
        restrictions=BUSINESS_HOURS,
        has_l2=False,
        now=NOW,
    )
    # By wall time 16-hour turns run on regardless (Mon 09:00–Tue 01:00, Tue 01:00–17:00,
    # Tue 17:00–Wed 09:00, …); the windows only mask them, so turn 2 never holds anything.
    assert [piece.number for piece in wall.shifts.order_by("starts_at")[:3]] == [0, 1, 3]


def test_an_override_holds_its_whole_window_even_outside_the_restrictions():
    rotation = make_rotation(
        slug="biz-primary",
        time_zone="Europe/London",
        shift_length_days=7,
        handoff_time=dt.time(9),
        first_shift_date=dt.date(2026, 3, 23),
        restrictions=BUSINESS_HOURS,
        now=NOW,
    )
    stand_in = UserFactory(username="zed")
    saturday = dt.datetime(2026, 3, 28, 10, tzinfo=UTC)
    services.create_override(
        rotation=rotation,
        level=Level.L1,
        user=stand_in,
        starts_at=saturday,
        ends_at=saturday + dt.timedelta(hours=4),
    )
    assert person_on_call(team=rotation.team, at=saturday + dt.timedelta(hours=1)) == stand_in
    held = Shift.objects.get(rotation=rotation, user=stand_in)
    assert (held.starts_at, held.ends_at, held.source) == (
        saturday,
        saturday + dt.timedelta(hours=4),
        ShiftSource.OVERRIDE,
    )
    # Rebuilt (an edit, the hourly top-up), the override holds the same window.
    services.materialise_shifts(rotation=rotation, now=NOW)
    held = Shift.objects.get(rotation=rotation, user=stand_in)
    assert (held.starts_at, held.ends_at, held.source) == (
        saturday,
        saturday + dt.timedelta(hours=4),
        ShiftSource.OVERRIDE,
    )


def test_an_edit_to_a_restricted_rotation_keeps_the_begun_turn_and_its_handoff():
    rotation = make_rotation(
        slug="biz-primary",
        time_zone="Europe/London",
        shift_length_days=7,
        handoff_time=dt.time(9),
        first_shift_date=dt.date(2026, 3, 23),
        restrictions=BUSINESS_HOURS,
        now=NOW,
    )
    wednesday = dt.datetime(2026, 3, 25, 12, tzinfo=UTC)
    before = list(rotation.shifts.filter(number=0).values_list("level", "user_id", "starts_at", "ends_at"))
    services.update_rotation(rotation=rotation, shift_length_days=14, now=wednesday)
    after = list(rotation.shifts.filter(number=0).values_list("level", "user_id", "starts_at", "ends_at"))
    assert sorted(after) == sorted(before)
    # The next turn still starts at the old rule's handoff, Monday 09:00, not at Friday 17:00.
    following = rotation.shifts.filter(number=1).order_by("starts_at").first()
    assert local(following.starts_at) == dt.datetime(2026, 3, 30, 9)
    assert rotation.shifts.filter(number=1, level=Level.L1).count() == 10  # two weeks of business days


def test_an_admin_edit_rebuilds_future_shifts_through_the_service(admin_client):
    rotation = make_rotation(slug="ops-primary", time_zone="Europe/London", now=NOW)
    url = f"/admin/oncall/rotation/{rotation.pk}/change/"
    form = admin_client.get(url).context["adminform"].form
    data = {name: form[name].value() for name in form.fields if form[name].value() is not None}
    data.update(
        {
            "shift_length_hours": "12",
            "handoff_time": "08:00",
            "restrictions": "[]",
            "members-TOTAL_FORMS": "0",
            "members-INITIAL_FORMS": "0",
        }
    )
    data.pop("layer", None)
    with time_machine.travel(NOW, tick=False):
        response = admin_client.post(url, data)
    assert response.status_code == 302, response.context["adminform"].form.errors
    rotation.refresh_from_db()
    assert rotation.shift_length_hours == 12
    future = rotation.shifts.filter(starts_at__gt=dt.datetime(2026, 6, 1, tzinfo=UTC), level=Level.L1)
    assert future.exists()
    assert all(shift.ends_at - shift.starts_at <= dt.timedelta(hours=13) for shift in future)


def test_a_manager_creates_a_restricted_follow_the_sun_rotation_through_the_api(staff_api):
    from tests.factories import ProfileFactory, TeamFactory

    TeamFactory(slug="support", name="Support")
    for name in ("kofi", "lucia"):
        ProfileFactory(user=UserFactory(username=name))
    body = {
        "team": "support",
        "name": "Support nights",
        "slug": "support-nights",
        "time_zone": "Europe/London",
        "shift_length_hours": 12,
        "handoff_time": "08:00",
        "first_shift_date": "2026-03-27",
        "levels": ["L1"],
        "restrictions": [
            {"start_day": "Friday", "start_time": "17:00", "end_day": "Monday", "end_time": "9:00"}
        ],
        "advance": "on_duty",
        "layer": 2,
        "members": [{"username": "kofi"}, {"username": "lucia"}],
    }
    with time_machine.travel(NOW, tick=False):
        response = staff_api.post("/api/v1/rotations/", body, format="json")
    assert response.status_code == 201, response.json()
    created = response.json()
    assert created["restrictions"] == [
        {"start_day": "fri", "start_time": "17:00", "end_day": "mon", "end_time": "09:00"}
    ]
    assert (created["shift_length_hours"], created["advance"], created["layer"]) == (12, "on_duty", 2)
    pieces = list(Shift.objects.filter(rotation__slug="support-nights").order_by("starts_at")[:3])
    # On duty from Friday 17:00: 12 hours to Saturday 05:00, then the next person.
    assert [(local(piece.starts_at), local(piece.ends_at)) for piece in pieces[:2]] == [
        (dt.datetime(2026, 3, 27, 17), dt.datetime(2026, 3, 28, 5)),
        (dt.datetime(2026, 3, 28, 5), dt.datetime(2026, 3, 28, 17)),
    ]
    assert pieces[0].user_id != pieces[1].user_id
