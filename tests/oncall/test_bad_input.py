"""Input a client can send to the on-call API is answered with 400 or 404, never a server error."""

import datetime as dt
from datetime import UTC

import pytest
from rest_framework.test import APIClient

from oncall.models import Level, Shift
from tests.factories import make_api_token, make_rotation


@pytest.fixture
def ops(db):
    return make_rotation(
        slug="ops-primary", time_zone="Europe/London", now=dt.datetime(2026, 1, 1, tzinfo=UTC)
    )


def test_answering_a_swap_by_a_non_numeric_id_is_not_found(api):
    assert api.post("/api/v1/swaps/abc/accept/").status_code == 404
    assert api.post("/api/v1/swaps/true/decline/").status_code == 404


def test_a_swap_asked_without_a_level_is_for_level_one(ops):
    at = dt.datetime(2026, 2, 10, 12, tzinfo=UTC)
    holder = Shift.objects.covering(at).get(rotation=ops, level=Level.L1)
    busy = Shift.objects.overlapping(at, at + dt.timedelta(hours=1)).values("user")
    other = ops.members.exclude(user__in=busy).first().user
    asker = APIClient()
    asker.credentials(HTTP_AUTHORIZATION=f"Bearer {make_api_token(holder.user, days=None)}")
    body = {
        "rotation": "ops-primary",
        "taken_by": other.username,
        "starts_at": at.isoformat(),
        "ends_at": (at + dt.timedelta(hours=1)).isoformat(),
    }

    response = asker.post("/api/v1/swaps/", body, format="json")

    assert response.status_code == 201, response.json()
    assert response.json()["level"] == "L1"


@pytest.mark.parametrize("at", ["9999-12-31", "0001-01-01T00:00:00Z"])
def test_an_instant_at_the_edge_of_the_calendar_is_refused(api, ops, at):
    for url, name in [("/api/v1/oncall/", "at"), ("/api/v1/rotations/ops-primary/shifts/", "since")]:
        response = api.get(url, {name: at})

        assert response.status_code == 400
        assert name in response.json()["errors"]


def test_an_override_in_an_implausible_year_is_refused(staff_api, ops):
    body = {
        "level": "L1",
        "user": ops.members.first().user.username,
        "starts_at": "9999-12-31T00:00:00Z",
        "ends_at": "9999-12-31T23:59:59Z",
    }

    response = staff_api.post("/api/v1/rotations/ops-primary/overrides/", body, format="json")

    assert response.status_code == 400
    assert "starts_at" in response.json()["errors"]


@pytest.mark.parametrize("members", [[{}], [{"experienced": True}]])
def test_a_rotation_member_without_a_username_is_refused_on_patch(staff_api, ops, members):
    before = list(ops.members.values_list("user__username", flat=True))

    response = staff_api.patch("/api/v1/rotations/ops-primary/", {"members": members}, format="json")

    assert response.status_code == 400, response.content
    assert "username" in response.json()["detail"]
    assert list(ops.members.values_list("user__username", flat=True)) == before
