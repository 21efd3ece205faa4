"""Time to detect, time to resolve and customer impact: one definition, and the SQL built from it agrees.

incidents.durations is the definition; Incident.durations() applies it in
Python; IncidentQuerySet.with_durations() builds it as SQL for the metrics API
and the report. The database tests run on SQLite and, with DATABASE_URL, on
PostgreSQL, each against that database's own SQL.
"""

import datetime as dt

import pytest

from incidents.durations import NAMES, is_missing_a_time, measure
from incidents.models import Incident, Status
from incidents.models.incident import DURATION_FIELDS
from incidents.selectors.metrics import IncidentFilters, incident_metrics
from incidents.selectors.report import incident_rows
from morgue import stats
from tests.factories import IncidentFactory

START = dt.datetime(2026, 3, 28, 22, 15, 7, 250_000, tzinfo=dt.UTC)


def _times(*, detect, mitigate=None, resolve=None):
    return {
        "impact_started_at": START,
        "detected_at": START + detect,
        "mitigated_at": START + mitigate if mitigate is not None else None,
        "resolved_at": START + resolve if resolve is not None else None,
    }


MINUTE = dt.timedelta(minutes=1)


def test_time_to_detect_is_known_while_the_incident_is_open():
    values = measure(_times(detect=4 * MINUTE), resolved=False)

    assert values == {"time_to_detect": 240.0, "time_to_resolve": None, "impact": None}


def test_an_open_incident_is_not_timed_to_resolution_even_with_a_resolution_time():
    # Reopened: the old resolution time is no longer the end of the incident.
    values = measure(_times(detect=4 * MINUTE, mitigate=10 * MINUTE, resolve=60 * MINUTE), resolved=False)

    assert values["time_to_resolve"] is None
    assert values["impact"] is None


def test_customer_impact_ends_at_mitigation_else_at_resolution():
    mitigated = measure(_times(detect=4 * MINUTE, mitigate=10 * MINUTE, resolve=60 * MINUTE), resolved=True)
    unmitigated = measure(_times(detect=4 * MINUTE, resolve=60 * MINUTE), resolved=True)

    assert mitigated == {"time_to_detect": 240.0, "time_to_resolve": 56 * 60.0, "impact": 600.0}
    assert unmitigated["impact"] == 3600.0


def test_a_resolved_incident_without_a_resolution_time_is_missing_a_time():
    values = measure(_times(detect=4 * MINUTE, mitigate=10 * MINUTE), resolved=True)

    assert values["time_to_resolve"] is None
    assert is_missing_a_time(values, resolved=True)
    assert not is_missing_a_time(measure(_times(detect=MINUTE), resolved=False), resolved=False)


def test_the_model_shows_the_definition_in_whole_seconds():
    incident = Incident(
        status=Status.RESOLVED,
        **_times(detect=dt.timedelta(seconds=90.75), resolve=2 * dt.timedelta(hours=1)),
    )

    assert incident.durations()["time_to_detect"] == 90.75
    assert incident.time_to_detect_seconds == 90
    assert incident.time_to_resolve_seconds == 7109  # 7109.25, truncated
    assert incident.impact_seconds == 7200


def _mix() -> list[Incident]:
    """Open, mitigated, resolved, reopened, missing a time, later states, deleted; odd seconds, days."""
    rows = [
        (Status.OPEN, {"detect": 3 * MINUTE}),
        (Status.OPEN, {"detect": 7 * MINUTE, "mitigate": 20 * MINUTE}),
        (Status.OPEN, {"detect": 2 * MINUTE, "mitigate": 9 * MINUTE, "resolve": 40 * MINUTE}),  # reopened
        (
            Status.RESOLVED,
            {"detect": dt.timedelta(seconds=61.5), "resolve": dt.timedelta(hours=3, seconds=0.25)},
        ),
        (Status.RESOLVED, {"detect": 11 * MINUTE, "mitigate": 12 * MINUTE, "resolve": dt.timedelta(days=2)}),
        (Status.REVIEW_SCHEDULED, {"detect": dt.timedelta(hours=26), "resolve": dt.timedelta(hours=30)}),
        (Status.REVIEWED, {"detect": MINUTE, "mitigate": 5 * MINUTE, "resolve": 5 * MINUTE}),
        (Status.CLOSED, {"detect": 13 * MINUTE, "resolve": dt.timedelta(hours=1, microseconds=1)}),
        (Status.CLOSED, {"detect": 4 * MINUTE, "mitigate": 30 * MINUTE}),  # no resolution time
        (Status.RESOLVED, {"detect": 0 * MINUTE}),  # no resolution time
    ]
    incidents = []
    for index, (status, spans) in enumerate(rows):
        shift = dt.timedelta(days=index, seconds=index * 7.125)
        times = {name: at + shift if at else None for name, at in _times(**spans).items()}
        incidents.append(IncidentFactory(status=status, **times))
    for status, spans in (
        (Status.RESOLVED, {"detect": 99 * MINUTE, "resolve": 500 * MINUTE}),
        (Status.OPEN, {}),
    ):
        deleted = _times(**{"detect": MINUTE, **spans})
        incidents.append(IncidentFactory(status=status, deleted_at=START, **deleted))
    return incidents


@pytest.mark.django_db
def test_the_sql_durations_equal_the_definition_row_by_row():
    incidents = _mix()

    in_sql = {row["pk"]: row for row in Incident.objects.with_durations().values("pk", "resolved", *NAMES)}

    assert len(in_sql) == len(incidents)
    for incident in incidents:
        incident = Incident.objects.only(*DURATION_FIELDS).get(pk=incident.pk)
        expected = incident.durations()
        row = in_sql[incident.pk]
        assert row["resolved"] == incident.is_resolved
        for name in NAMES:
            if expected[name] is None:
                assert row[name] is None, (incident.status, name)
            else:
                assert row[name] == pytest.approx(expected[name], abs=1e-6), (incident.status, name)


@pytest.mark.django_db
def test_the_metrics_aggregate_equals_the_definition_on_the_same_rows():
    _mix()
    incidents = list(Incident.objects.visible())
    timed = [incident.durations() for incident in incidents]

    metrics = incident_metrics(IncidentFilters())

    assert metrics["count"] == len(incidents)
    assert metrics["open"] == sum(1 for incident in incidents if not incident.is_resolved)
    assert metrics["excluded"] == sum(
        is_missing_a_time(values, resolved=incident.is_resolved)
        for incident, values in zip(incidents, timed, strict=True)
    )
    assert metrics["open"] == 3 and metrics["excluded"] == 2
    for name in NAMES:
        expected = stats.summary([values[name] for values in timed])
        assert metrics[name]["n"] == expected["n"], name
        for figure in ("median", "p90", "q1", "q3", "mean"):
            assert metrics[name][figure] == pytest.approx(expected[figure], rel=1e-9), (name, figure)
    assert metrics["time_to_detect"]["n"] == 10, "open incidents have a time to detect"
    assert metrics["time_to_resolve"]["n"] == 5 and metrics["impact"]["n"] == 6


@pytest.mark.django_db
def test_the_report_rows_equal_the_definition():
    _mix()
    incidents = {incident.pk: incident for incident in Incident.objects.visible()}

    rows = incident_rows(IncidentFilters())

    assert {row.incident_id for row in rows} == set(incidents)
    for row in rows:
        expected = incidents[row.incident_id].durations()
        for name in NAMES:
            actual = getattr(row, name)
            assert actual == (None if expected[name] is None else pytest.approx(expected[name], abs=1e-6))
