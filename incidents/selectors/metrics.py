"""Incident metrics: n, median, p90, quartiles and mean of the three durations.

On PostgreSQL the percentiles are computed in the database with
percentile_cont; elsewhere the durations are fetched and summarised with
morgue.stats, which interpolates the same way.
"""

import datetime as dt
from dataclasses import dataclass

from django.db import connection
from django.db.models import Count, Exists, OuterRef, Q, QuerySet

from morgue import stats

from ..models import DeployLink, Incident, Status

METRICS = ("time_to_detect", "time_to_resolve", "impact")
FRACTIONS = (0.25, 0.5, 0.75, 0.9)


@dataclass(frozen=True)
class IncidentFilters:
    since: dt.datetime | None = None
    until: dt.datetime | None = None
    severity: list[int] | None = None
    team: str | None = None
    tag: str | None = None
    deploy_related: bool | None = None


def filtered_incidents(filters: IncidentFilters) -> QuerySet[Incident]:
    """Visible incidents that started in the period and match the filters."""
    queryset = Incident.objects.visible().started_between(filters.since, filters.until)
    if filters.severity:
        queryset = queryset.filter(severity__in=filters.severity)
    if filters.team:
        queryset = queryset.filter(team__slug=filters.team)
    if filters.tag:
        queryset = queryset.filter(tags__name=filters.tag)
    if filters.deploy_related is not None:
        linked = Exists(DeployLink.objects.filter(incident=OuterRef("pk")))
        queryset = queryset.filter(linked if filters.deploy_related else ~linked)
    return queryset


def _summaries_in_python(queryset: QuerySet[Incident]) -> dict[str, dict]:
    rows = list(queryset.values_list("impact_started_at", "detected_at", "mitigated_at", "resolved_at"))
    columns: dict[str, list[float]] = {name: [] for name in METRICS}
    excluded = 0
    for started, detected, mitigated, resolved in rows:
        ttd = (detected - started).total_seconds()
        ttr = (resolved - detected).total_seconds() if resolved else None
        end = mitigated or resolved
        impact = (end - started).total_seconds() if end else None
        columns["time_to_detect"].append(ttd)
        if ttr is not None:
            columns["time_to_resolve"].append(ttr)
        if impact is not None:
            columns["impact"].append(impact)
        if ttr is None or impact is None:
            excluded += 1
    summaries = {name: stats.summary(values) for name, values in columns.items()}
    summaries["excluded"] = excluded
    return summaries


SUMMARY_SQL = """
WITH durations AS (
    SELECT date_part('epoch', detected_at - impact_started_at) AS time_to_detect,
           date_part('epoch', resolved_at - detected_at) AS time_to_resolve,
           date_part('epoch', COALESCE(mitigated_at, resolved_at) - impact_started_at) AS impact
    FROM ({inner}) AS selected
)
SELECT count(*) FILTER (WHERE time_to_resolve IS NULL OR impact IS NULL),
       {columns}
FROM durations
"""


def _summaries_in_postgres(queryset: QuerySet[Incident]) -> dict[str, dict]:
    # No ORDER BY inside: the model's default ordering would sort every row
    # before the percentiles sort them again. date_part gives seconds as a
    # float directly; EXTRACT computes a numeric first, twice as slow here.
    inner, params = (
        queryset.order_by()
        .values("impact_started_at", "detected_at", "mitigated_at", "resolved_at")
        .query.sql_with_params()
    )
    fractions = ", ".join(str(fraction) for fraction in FRACTIONS)
    columns = ",\n       ".join(
        f"count({name}), avg({name}), percentile_cont(ARRAY[{fractions}]) WITHIN GROUP (ORDER BY {name})"
        for name in METRICS
    )
    with connection.cursor() as cursor:
        cursor.execute(SUMMARY_SQL.format(inner=inner, columns=columns), params)
        row = cursor.fetchone()
    summaries: dict = {"excluded": row[0]}
    for index, name in enumerate(METRICS):
        count, average, quantiles = row[1 + index * 3 : 4 + index * 3]
        q1, middle, q3, p90 = quantiles if count else (None, None, None, None)
        summaries[name] = {"n": count, "median": middle, "p90": p90, "q1": q1, "q3": q3, "mean": average}
    return summaries


def duration_summaries(queryset: QuerySet[Incident]) -> dict:
    """`{excluded, time_to_detect: {n, median, p90, q1, q3, mean}, time_to_resolve, impact}`.

    Only incidents that are no longer open are timed: an open incident is never
    timed up to "now". `excluded` counts those left out for a missing timestamp.
    """
    closed = queryset.exclude(status=Status.OPEN)
    if connection.vendor == "postgresql":
        return _summaries_in_postgres(closed)
    return _summaries_in_python(closed)


def incident_metrics(filters: IncidentFilters) -> dict:
    """The figures behind GET /api/v1/metrics/incidents/."""
    queryset = filtered_incidents(filters)
    # IN (the linked incidents) is one hashed scan of the links; EXISTS per
    # incident probed the links once for every incident in the period.
    linked = Q(pk__in=DeployLink.objects.values("incident_id"))
    counts = queryset.aggregate(
        count=Count("id"),
        open=Count("id", filter=Q(status=Status.OPEN)),
        deploy_related=Count("id", filter=linked),
    )
    summaries = duration_summaries(queryset)
    return {
        "count": counts["count"],
        "open": counts["open"],
        "excluded": summaries["excluded"],
        "time_to_detect": summaries["time_to_detect"],
        "time_to_resolve": summaries["time_to_resolve"],
        "impact": summaries["impact"],
        "deploy_related": counts["deploy_related"],
    }
