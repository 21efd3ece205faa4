import datetime as dt

import pytest
import time_machine

from oncall.models import Level, Rotation, Shift
from oncall.selectors import on_call_now
from tests.factories import ProfileFactory, TeamFactory, UserFactory, make_api_token, make_rotation, member_of

UTC = dt.UTC
pytestmark = pytest.mark.django_db


@pytest.fixture
def ops():
    return make_rotation(
        slug="ops-primary", time_zone="Europe/London", now=dt.datetime(2026, 1, 1, tzinfo=UTC)
    )


def test_who_is_on_call_lists_each_level_with_the_next_person(api, ops):
    at = dt.datetime(2026, 1, 20, 12, tzinfo=UTC)

    response = api.get("/api/v1/oncall/", {"at": at.isoformat()})

    assert response.status_code == 200
    rows = response.json()
    assert [row["level"] for row in rows] == ["L1", "L2"]
    for row in rows:
        current = Shift.objects.covering(at).get(rotation=ops, level=row["level"])
        following = Shift.objects.get(rotation=ops, level=row["level"], starts_at=current.ends_at)
        assert row["user"] == current.user.username
        assert row["team"] == "ops" and row["rotation"] == "ops-primary" and row["source"] == "rotation"
        assert dt.datetime.fromisoformat(row["shift_end"]) == current.ends_at
        assert row["next_user"] == following.user.username
        assert dt.datetime.fromisoformat(row["next_shift_start"]) == following.starts_at


def test_who_is_on_call_defaults_to_now_and_filters_by_team(api, ops):
    make_rotation(slug="payments-primary", people=("gus", "hana"), experienced=("gus", "hana"))
    with time_machine.travel(dt.datetime(2026, 2, 2, 9, tzinfo=UTC)):
        rows = api.get("/api/v1/oncall/", {"team": "payments"}).json()
    assert {row["team"] for row in rows} == {"payments"}
    assert api.get("/api/v1/oncall/", {"team": "nope"}).status_code == 400
    assert api.get("/api/v1/oncall/", {"at": "yesterday"}).json()["errors"]["at"]


def test_on_call_now_uses_a_constant_number_of_queries(api, ops, django_assert_max_num_queries):
    for index in range(5):
        make_rotation(
            slug=f"team{index}-primary", people=(f"a{index}", f"b{index}"), experienced=(f"a{index}",)
        )
    api.get("/api/v1/oncall/")  # the token's first use is recorded (then at most once a minute)
    with django_assert_max_num_queries(2):  # the token, then the one of on_call_now
        rows = api.get("/api/v1/oncall/", {"at": "2026-01-20T12:00:00Z"}).json()
    assert len(rows) == 12


def test_on_call_now_query_count_does_not_grow_with_rotations(ops, django_assert_num_queries):
    at = dt.datetime(2026, 1, 20, 12, tzinfo=UTC)
    with django_assert_num_queries(1):
        assert len(on_call_now(at=at)) == 2
    for index in range(4):
        make_rotation(slug=f"team{index}-primary", people=(f"a{index}", f"b{index}"))
    with django_assert_num_queries(1):
        assert len(on_call_now(at=at)) == 10


def test_a_manager_creates_the_dev_rotation(staff_api):
    TeamFactory(slug="dev", name="Dev")
    for name in ("nadia", "oscar", "priya"):
        ProfileFactory(user=UserFactory(username=name))
    body = {
        "team": "dev",
        "name": "Dev",
        "slug": "dev",
        "time_zone": "America/New_York",
        "shift_length_days": 3,
        "handoff_time": "10:00",
        "first_shift_date": "2026-03-02",
        "levels": ["L1", "L2"],
        "escalation_timeout_minutes": 10,
        "members": [
            {"username": "nadia", "experienced": True},
            {"username": "oscar", "experienced": False},
            {"username": "priya", "experienced": False},
        ],
    }
    with time_machine.travel(dt.datetime(2026, 3, 1, tzinfo=UTC)):
        response = staff_api.post("/api/v1/rotations/", body, format="json")
        assert response.status_code == 201, response.json()
        assert response.json()["members"][0] == {"username": "nadia", "experienced": True}
        shifts = staff_api.get(
            "/api/v1/rotations/dev/shifts/",
            {"since": "2026-03-02T00:00:00Z", "until": "2026-03-12T00:00:00Z"},
        ).json()
    assert shifts[0] == {
        "level": "L1",
        "user": shifts[0]["user"],
        "starts_at": "2026-03-02T15:00:00Z",
        "ends_at": "2026-03-05T15:00:00Z",
        "source": "rotation",
    }
    # The first shift's L2 is the one experienced member; first-timers are L1.
    assert shifts[1]["level"] == "L2" and shifts[1]["user"] == "nadia"
    assert shifts[0]["user"] in {"oscar", "priya"}
    # The spring-forward shift is 71 hours long; the handoff stays at 10:00 New York time.
    assert shifts[2]["ends_at"] == "2026-03-08T14:00:00Z"


@pytest.mark.parametrize(
    ("change", "field"),
    [
        ({"time_zone": "Mars/Olympus"}, "time_zone"),
        ({"handoff_time": "25:00"}, "handoff_time"),
        ({"handoff_time": "10am"}, "handoff_time"),
        ({"shift_length_days": 0}, "shift_length_days"),
        ({"shift_length_days": 29}, "shift_length_days"),
        ({"members": []}, "members"),
        ({"members": [{"username": "ghost"}]}, "members"),
        ({"levels": ["L2"]}, "levels"),
        ({"shift_length_hours": 0}, "shift_length_hours"),
        ({"shift_length_hours": 24 * 28 + 1}, "shift_length_hours"),
        ({"advance": "sideways"}, "advance"),
        (
            {
                "restrictions": [
                    {"start_day": "mon", "start_time": "17:00", "end_day": "mon", "end_time": "09:00"}
                ]
            },
            "restrictions",
        ),
        (
            {
                "restrictions": [
                    {"start_day": "funday", "start_time": "09:00", "end_day": "mon", "end_time": "17:00"}
                ]
            },
            "restrictions",
        ),
        (
            {
                "restrictions": [
                    {"start_day": "mon", "start_time": "9am", "end_day": "mon", "end_time": "17:00"}
                ]
            },
            "restrictions",
        ),
        ({"restrictions": [{"start_day": "mon"}]}, "restrictions"),
        ({"restrictions": "weekdays"}, "restrictions"),
    ],
)
def test_bad_rotations_are_refused_with_a_sentence_and_nothing_saved(staff_api, change, field):
    TeamFactory(slug="dev", name="Dev")
    ProfileFactory(user=UserFactory(username="nadia"))
    ProfileFactory(user=UserFactory(username="oscar"))
    body = {
        "team": "dev",
        "name": "Dev",
        "slug": "dev",
        "first_shift_date": "2026-03-02",
        "members": [{"username": "nadia", "experienced": True}, {"username": "oscar"}],
        **change,
    }
    response = staff_api.post("/api/v1/rotations/", body, format="json")
    assert response.status_code == 400
    assert field in response.json()["errors"]
    assert response.json()["detail"]
    assert not Rotation.objects.exists()


def test_a_rotation_with_l2_but_nobody_experienced_is_refused(staff_api):
    TeamFactory(slug="dev", name="Dev")
    ProfileFactory(user=UserFactory(username="nadia"))
    ProfileFactory(user=UserFactory(username="oscar"))
    body = {
        "team": "dev",
        "name": "Dev",
        "slug": "dev",
        "first_shift_date": "2026-03-02",
        "members": [{"username": "nadia"}, {"username": "oscar"}],
    }
    response = staff_api.post("/api/v1/rotations/", body, format="json")
    assert response.status_code == 400
    assert "experienced" in response.json()["errors"]["members"][0]
    assert not Rotation.objects.exists()


def test_only_managers_change_rotations(api, ops):
    response = api.patch("/api/v1/rotations/ops-primary/", {"shift_length_days": 7}, format="json")
    assert response.status_code == 403


def test_patching_a_rotation_keeps_past_shifts(staff_api, ops):
    before = list(
        ops.shifts.filter(starts_at__lte=dt.datetime(2026, 2, 1, tzinfo=UTC)).values_list(
            "pk", "user", "starts_at", "ends_at"
        )
    )
    with time_machine.travel(dt.datetime(2026, 2, 1, tzinfo=UTC)):
        response = staff_api.patch("/api/v1/rotations/ops-primary/", {"shift_length_days": 7}, format="json")
    assert response.status_code == 200, response.json()
    after = list(
        ops.shifts.filter(starts_at__lte=dt.datetime(2026, 2, 1, tzinfo=UTC)).values_list(
            "pk", "user", "starts_at", "ends_at"
        )
    )
    assert after == before


def test_override_through_the_api_and_bad_overrides(api, person, ops):
    member_of(ops.team, "responder", user=person)  # a responder may put themselves on, not others
    start = dt.datetime(2026, 2, 10, 8, tzinfo=UTC)
    body = {
        "level": "L1",
        "user": "pat",
        "starts_at": start.isoformat(),
        "ends_at": (start + dt.timedelta(hours=3)).isoformat(),
        "reason": "cover",
    }
    response = api.post("/api/v1/rotations/ops-primary/overrides/", body, format="json")
    assert response.status_code == 201, response.json()
    assert Shift.objects.covering(start).get(rotation=ops, level=Level.L1).user == person

    backwards = {**body, "ends_at": (start - dt.timedelta(hours=1)).isoformat()}
    assert (
        "ends_at"
        in api.post("/api/v1/rotations/ops-primary/overrides/", backwards, format="json").json()["errors"]
    )
    ghost = {**body, "user": "ghost"}
    assert (
        "user" in api.post("/api/v1/rotations/ops-primary/overrides/", ghost, format="json").json()["errors"]
    )
    for_someone_else = {**body, "user": "ana"}
    assert (
        api.post("/api/v1/rotations/ops-primary/overrides/", for_someone_else, format="json").status_code
        == 403
    )


def test_teams_are_listed_created_and_patched(staff_api):
    TeamFactory(slug="ops", name="Ops")
    response = staff_api.post(
        "/api/v1/teams/",
        {"name": "Search", "slug": "search", "email": "search@example.com", "fallback_team": "ops"},
        format="json",
    )
    assert response.status_code == 201, response.json()
    assert response.json()["fallback_team"] == "ops"
    response = staff_api.patch("/api/v1/teams/search/", {"pageable": False}, format="json")
    assert response.json()["pageable"] is False
    assert [team["slug"] for team in staff_api.get("/api/v1/teams/").json()] == ["ops", "search"]
    bad = staff_api.post(
        "/api/v1/teams/", {"name": "X", "slug": "x", "webhook_url": "ftp://x"}, format="json"
    )
    assert "webhook_url" in bad.json()["errors"]


def test_me_names_the_calendar_token_by_its_prefix_only(api, person):
    body = api.get("/api/v1/me/").json()
    assert body["calendar_token_prefix"] == person.profile.calendar_token[:8]
    assert person.profile.calendar_token not in str(body)


def test_a_swap_asked_and_accepted_becomes_an_override(api, person, ops):
    from rest_framework.test import APIClient

    from oncall.models import RotationMember

    RotationMember.objects.create(rotation=ops, user=person, position=99)  # eligible to take a swap

    at = dt.datetime(2026, 2, 10, 12, tzinfo=UTC)
    holder = Shift.objects.covering(at).get(rotation=ops, level=Level.L1)
    asker = APIClient()
    asker.credentials(HTTP_AUTHORIZATION=f"Bearer {make_api_token(holder.user, days=None)}")
    window = {"starts_at": at.isoformat(), "ends_at": (at + dt.timedelta(hours=6)).isoformat()}
    body = {"rotation": "ops-primary", "level": "L1", "taken_by": "pat", "reason": "wedding", **window}

    response = asker.post("/api/v1/swaps/", body, format="json")
    assert response.status_code == 201, response.json()
    swap_id = response.json()["id"]
    assert asker.post(f"/api/v1/swaps/{swap_id}/accept/").status_code == 403  # only the person asked

    response = api.post(f"/api/v1/swaps/{swap_id}/accept/")
    assert response.json()["status"] == "accepted"
    assert Shift.objects.covering(at).get(rotation=ops, level=Level.L1).user == person
    assert api.post(f"/api/v1/swaps/{swap_id}/decline/").status_code == 409


def test_the_asker_withdraws_a_swap_before_it_is_answered(api, person, ops):
    from rest_framework.test import APIClient

    from oncall.models import RotationMember

    RotationMember.objects.create(rotation=ops, user=person, position=99)  # eligible to take a swap

    at = dt.datetime(2026, 2, 10, 12, tzinfo=UTC)
    holder = Shift.objects.covering(at).get(rotation=ops, level=Level.L1)
    asker = APIClient()
    asker.credentials(HTTP_AUTHORIZATION=f"Bearer {make_api_token(holder.user, days=None)}")
    window = {"starts_at": at.isoformat(), "ends_at": (at + dt.timedelta(hours=6)).isoformat()}
    body = {"rotation": "ops-primary", "level": "L1", "taken_by": "pat", **window}
    swap_id = asker.post("/api/v1/swaps/", body, format="json").json()["id"]

    assert api.post(f"/api/v1/swaps/{swap_id}/withdraw/").status_code == 403  # only the asker
    response = asker.post(f"/api/v1/swaps/{swap_id}/withdraw/")
    assert response.status_code == 200 and response.json()["status"] == "withdrawn"
    refused = api.post(f"/api/v1/swaps/{swap_id}/accept/")
    assert refused.status_code == 409 and "withdrawn" in refused.json()["detail"]
    assert asker.post(f"/api/v1/swaps/{swap_id}/withdraw/").status_code == 409
    assert Shift.objects.covering(at).get(rotation=ops, level=Level.L1).user == holder.user


def test_a_swap_of_someone_elses_shift_is_refused(api, ops):
    at = dt.datetime(2026, 2, 10, 12, tzinfo=UTC)
    body = {
        "rotation": "ops-primary",
        "level": "L1",
        "taken_by": "ana",
        "starts_at": at.isoformat(),
        "ends_at": (at + dt.timedelta(hours=1)).isoformat(),
    }
    assert api.post("/api/v1/swaps/", body, format="json").status_code == 403


def test_a_swap_window_that_runs_into_the_next_persons_shift_is_refused(ops):
    from rest_framework.test import APIClient

    from oncall.models import Swap

    at = dt.datetime(2026, 2, 10, 12, tzinfo=UTC)
    holder = Shift.objects.covering(at).get(rotation=ops, level=Level.L1)
    following = Shift.objects.get(rotation=ops, level=Level.L1, starts_at=holder.ends_at)
    assert following.user != holder.user
    asker = APIClient()
    asker.credentials(HTTP_AUTHORIZATION=f"Bearer {make_api_token(holder.user, days=None)}")
    body = {
        "rotation": "ops-primary",
        "level": "L1",
        "taken_by": following.user.username,
        "starts_at": (holder.ends_at - dt.timedelta(hours=1)).isoformat(),
        "ends_at": (holder.ends_at + dt.timedelta(hours=1)).isoformat(),
    }

    assert asker.post("/api/v1/swaps/", body, format="json").status_code == 403
    assert not Swap.objects.exists()


def test_patching_members_and_levels_applies_from_the_next_handoff(staff_api, ops):
    ProfileFactory(user=UserFactory(username="dee"))
    body = {
        "levels": ["L1"],
        "members": [{"username": "dee"}, {"username": "ana", "experienced": True}],
    }
    with time_machine.travel(dt.datetime(2026, 2, 1, tzinfo=UTC)):
        response = staff_api.patch("/api/v1/rotations/ops-primary/", body, format="json")
    assert response.status_code == 200, response.json()
    assert response.json()["levels"] == ["L1"]
    assert [member["username"] for member in response.json()["members"]] == ["dee", "ana"]
    current = Shift.objects.covering(dt.datetime(2026, 2, 1, tzinfo=UTC)).filter(rotation=ops)
    assert current.filter(level=Level.L2).exists()  # the shift under way keeps its L2
    future = ops.shifts.filter(starts_at__gt=dt.datetime(2026, 2, 5, tzinfo=UTC))
    assert not future.filter(level=Level.L2).exists()
    assert set(future.values_list("user__username", flat=True)) == {"dee", "ana"}


def test_an_everyone_else_rotation_takes_its_group_minus_other_rotations(staff_api, ops):
    from django.contrib.auth.models import Group

    from morgue.services import create_person

    TeamFactory(slug="dev", name="Dev")
    for username in ("nadia", "oscar", "priya"):
        create_person(username=username)
    Group.objects.get(name="engineers").user_set.add(ops.members.first().user)  # in ops already
    body = {
        "team": "dev",
        "name": "Dev",
        "slug": "dev",
        "first_shift_date": "2026-03-02",
        "everyone_else": True,
        "group": "engineers",
        "members": [{"username": "nadia", "experienced": True}],
    }
    response = staff_api.post("/api/v1/rotations/", body, format="json")
    assert response.status_code == 201, response.json()
    assert response.json()["group"] == "engineers"
    assert [member["username"] for member in response.json()["members"]] == ["nadia", "oscar", "priya"]
    assert (
        staff_api.post(
            "/api/v1/rotations/", {**body, "slug": "dev2", "group": "nope"}, format="json"
        ).status_code
        == 400
    )
