"""Dates at the edge of the calendar in a page's query string never give a server error."""

import datetime as dt
from datetime import UTC

import pytest

from tests.factories import make_rotation

pytestmark = pytest.mark.django_db


@pytest.fixture
def ops():
    return make_rotation(
        slug="ops-primary", time_zone="Europe/London", now=dt.datetime(2026, 1, 1, tzinfo=UTC)
    )


@pytest.mark.parametrize("day", ["9999-12-31", "0001-01-01"])
def test_the_rotation_calendar_falls_back_to_today_for_an_implausible_start(browser_client, ops, day):
    assert browser_client.get("/oncall/rotations/ops-primary/", {"start": day}).status_code == 200


def test_the_fairness_page_ignores_implausible_dates(browser_client, ops):
    response = browser_client.get("/oncall/fairness/", {"since": "9999-12-31", "until": "9999-12-31"})

    assert response.status_code == 200
