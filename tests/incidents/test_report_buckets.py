"""The report's month and quarter buckets: PostgreSQL's one grouped scan equals the Python definition."""

import datetime as dt
import random
from zoneinfo import ZoneInfo

import pytest
from django.db import connection

from incidents.models import Incident, Status
from incidents.selectors.metrics import IncidentFilters, filtered_incidents
from incidents.selectors.report import _buckets_in_postgres, _buckets_in_python, period_buckets
from tests.factories import IncidentFactory

pytestmark = pytest.mark.django_db


def seed(rng: random.Random) -> None:
    # A year in Berlin's time: incidents near local month and quarter ends cross UTC ones.
    start = dt.datetime(2025, 12, 31, 20, tzinfo=dt.UTC)
    for _ in range(120):
        started = start + dt.timedelta(seconds=rng.randint(0, 370 * 86_400))
        resolved = rng.random() < 0.8
        IncidentFactory(
            severity=rng.randint(1, 4),
            impact_started_at=started,
            detected_at=started + dt.timedelta(minutes=rng.randint(1, 600)),
            resolved_at=started + dt.timedelta(hours=rng.randint(1, 90)) if resolved else None,
            status=Status.RESOLVED if resolved else Status.OPEN,
        )


@pytest.mark.skipif(connection.vendor != "postgresql", reason="the grouped scan is PostgreSQL's")
@pytest.mark.parametrize("zone", ["Europe/Berlin", "America/Los_Angeles", "UTC"])
def test_grouping_sets_buckets_equal_the_python_buckets(zone):
    seed(random.Random(16))
    queryset = filtered_incidents(IncidentFilters())
    assert Incident.objects.count() == 120

    in_sql = _buckets_in_postgres(queryset, ZoneInfo(zone))
    in_python = _buckets_in_python(queryset, ZoneInfo(zone))

    assert [bucket.name for bucket in in_sql["month"]] == [bucket.name for bucket in in_python["month"]]
    assert len(in_sql["quarter"]) >= 4
    for by in ("month", "quarter"):
        for ours, theirs in zip(in_sql[by], in_python[by], strict=True):
            assert (ours.name, ours.by_severity) == (theirs.name, theirs.by_severity)
            for mine, expected in (
                (ours.time_to_detect, theirs.time_to_detect),
                (ours.time_to_resolve, theirs.time_to_resolve),
            ):
                assert mine == pytest.approx(expected)


def test_every_incident_is_in_one_month_and_one_quarter():
    seed(random.Random(3))
    buckets = period_buckets(IncidentFilters(), ZoneInfo("Europe/Berlin"))
    assert sum(bucket.count for bucket in buckets["month"]) == 120
    assert sum(bucket.count for bucket in buckets["quarter"]) == 120
    assert all("-Q" in bucket.name for bucket in buckets["quarter"])
