import datetime as dt
import statistics

import pytest

from incidents.models import Incident, Status
from incidents.selectors.metrics import (
    IncidentFilters,
    duration_summaries,
    filtered_incidents,
    incident_metrics,
)
from morgue import stats
from tests.factories import IncidentFactory

START = dt.datetime(2026, 3, 1, tzinfo=dt.UTC)


def _incident(day: int, detect_minutes: float, resolve_minutes: float | None, *, severity=3, mitigate=None):
    started = START + dt.timedelta(days=day)
    detected = started + dt.timedelta(minutes=detect_minutes)
    resolved = detected + dt.timedelta(minutes=resolve_minutes) if resolve_minutes is not None else None
    return Incident.objects.create(
        title=f"incident {day}",
        severity=severity,
        status=Status.RESOLVED if resolved else Status.OPEN,
        impact_started_at=started,
        detected_at=detected,
        resolved_at=resolved,
        mitigated_at=started + dt.timedelta(minutes=mitigate) if mitigate else None,
    )


def _inclusive(values, fraction):
    return statistics.quantiles(values, n=100, method="inclusive")[round(fraction * 100) - 1]


@pytest.mark.django_db
def test_durations_summary_matches_an_independent_computation():
    detect = [1, 2, 3, 5, 8, 13, 21, 34, 55, 89, 144]
    resolve = [10, 20, 30, 40, 50, 60, 70, 80, 90, 100, 1000]
    for day, (d, r) in enumerate(zip(detect, resolve, strict=True)):
        _incident(day, d, r)

    result = incident_metrics(IncidentFilters())

    ttd = result["time_to_detect"]
    seconds = [d * 60 for d in detect]
    assert ttd["n"] == 11
    assert ttd["median"] == pytest.approx(statistics.median(seconds))
    assert ttd["p90"] == pytest.approx(_inclusive(seconds, 0.9))
    assert ttd["q1"] == pytest.approx(_inclusive(seconds, 0.25))
    assert ttd["q3"] == pytest.approx(_inclusive(seconds, 0.75))
    assert ttd["mean"] == pytest.approx(statistics.mean(seconds))
    assert result["time_to_resolve"]["median"] == pytest.approx(60 * 60)
    assert result["impact"]["n"] == 11


@pytest.mark.django_db
def test_open_incidents_are_counted_apart_and_timed_only_to_detection():
    _incident(0, 5, 30)
    _incident(1, 10, None)  # still open

    result = incident_metrics(IncidentFilters())

    assert result["count"] == 2
    assert result["open"] == 1
    assert result["excluded"] == 0
    assert result["time_to_detect"]["n"] == 2
    assert result["time_to_resolve"]["n"] == 1
    assert result["impact"]["n"] == 1


@pytest.mark.django_db
def test_incidents_missing_a_timestamp_are_excluded_and_counted():
    _incident(0, 5, 30)
    closed_without_resolution = _incident(1, 5, None)
    closed_without_resolution.status = Status.CLOSED
    closed_without_resolution.save()

    result = incident_metrics(IncidentFilters())

    assert result["excluded"] == 1
    assert result["time_to_resolve"]["n"] == 1
    assert result["time_to_detect"]["n"] == 2


@pytest.mark.django_db
def test_filters_by_period_and_severity_and_skip_deleted():
    _incident(0, 5, 30, severity=1)
    _incident(10, 5, 30, severity=2)
    deleted = _incident(11, 5, 30, severity=1)
    deleted.deleted_at = START
    deleted.save()

    result = incident_metrics(IncidentFilters(since=START, until=START + dt.timedelta(days=20), severity=[1]))

    assert result["count"] == 1


@pytest.mark.django_db
def test_empty_period_has_null_figures():
    result = incident_metrics(IncidentFilters())

    assert result["count"] == 0
    assert result["time_to_detect"] == {
        "n": 0,
        "median": None,
        "p90": None,
        "q1": None,
        "q3": None,
        "mean": None,
    }


@pytest.mark.django_db
def test_metrics_api_returns_seconds_as_numbers(api):
    _incident(0, 5, 30, severity=1)
    _incident(1, 15, 90, severity=2)

    response = api.get(
        "/api/v1/metrics/incidents/", {"since": "2026-03-01", "until": "2026-03-31", "severity": "1,2"}
    )

    assert response.status_code == 200
    body = response.json()
    assert set(body) >= {"count", "open", "excluded", "time_to_detect", "time_to_resolve", "impact"}
    assert body["count"] == 2
    assert body["time_to_detect"]["median"] == 600.0


@pytest.mark.django_db
def test_metrics_api_until_a_date_counts_incidents_during_that_day(api):
    IncidentFactory(impact_started_at=dt.datetime(2026, 3, 31, 15, 0, tzinfo=dt.UTC))

    response = api.get("/api/v1/metrics/incidents/", {"since": "2026-03-01", "until": "2026-03-31"})

    assert response.status_code == 200
    assert response.json()["count"] == 1


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("params", "message"),
    [
        ({"since": "yesterday"}, "since must be an ISO 8601 date"),
        ({"severity": "7"}, "severity must be from 1 to 5"),
        ({"since": "2026-03-02", "until": "2026-03-01"}, "until must be after since"),
    ],
)
def test_metrics_api_names_bad_parameters(api, params, message):
    response = api.get("/api/v1/metrics/incidents/", params)

    assert response.status_code == 400
    assert message in response.json()["detail"]


@pytest.mark.django_db
def test_deploy_related_incidents_are_counted_and_filterable(api):
    from incidents.models import DeployLink
    from tests.factories import DeployFactory

    linked = _incident(0, 5, 30)
    _incident(1, 5, 30)
    DeployLink.objects.create(incident=linked, deploy=DeployFactory())

    assert incident_metrics(IncidentFilters())["deploy_related"] == 1
    assert incident_metrics(IncidentFilters(deploy_related=True))["count"] == 1
    assert api.get("/api/v1/metrics/incidents/", {"deploy_related": "false"}).json()["count"] == 1
    assert api.get("/api/v1/metrics/incidents/", {"deploy_related": "maybe"}).status_code == 400


@pytest.mark.django_db
@pytest.mark.parametrize("size", [4, 7, 50])
def test_the_duration_sample_picked_with_the_summaries_is_the_python_rank_sample(size):
    for day in range(23):
        _incident(day, detect_minutes=(day * 7) % 11 + 1, resolve_minutes=None if day % 5 == 0 else day * 3)
    summaries = duration_summaries(filtered_incidents(IncidentFilters()), sample_size=size)
    for name in ("time_to_detect", "time_to_resolve", "impact"):
        values = [incident.durations()[name] for incident in Incident.objects.all()]
        assert summaries[name]["sample"] == stats.rank_sample(values, size)
        assert summaries[name]["n"] == sum(1 for value in values if value is not None)
    assert "sample" not in duration_summaries(filtered_incidents(IncidentFilters()))["impact"]


@pytest.mark.django_db
def test_an_empty_period_has_an_empty_sample():
    summaries = duration_summaries(filtered_incidents(IncidentFilters()), sample_size=300)
    assert summaries["time_to_detect"]["sample"] == [] and summaries["time_to_detect"]["n"] == 0
