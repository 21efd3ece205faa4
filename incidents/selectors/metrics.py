"""Incident metrics: n, median, p90, quartiles and mean of the three durations.

The durations are the SQL columns of IncidentQuerySet.with_durations (the
definition in incidents.durations). On PostgreSQL the percentiles are computed
in the database with percentile_cont; elsewhere the durations are fetched and
summarised with morgue.stats, which interpolates the same way.
"""

import datetime as dt
from dataclasses import dataclass
from typing import Any

from django.db import connection
from django.db.models import (
    Aggregate,
    Avg,
    BooleanField,
    Count,
    Exists,
    ExpressionWrapper,
    FloatField,
    OuterRef,
    Q,
    QuerySet,
)

from morgue import stats

from ..durations import NAMES as METRICS
from ..durations import is_missing_a_time
from ..models import DeployLink, Incident, IncidentQuerySet, Status

FRACTIONS = (0.25, 0.5, 0.75, 0.9)


@dataclass(frozen=True)
class IncidentFilters:
    since: dt.datetime | None = None
    until: dt.datetime | None = None
    severity: list[int] | None = None
    team: str | None = None
    tag: str | None = None
    deploy_related: bool | None = None


def filtered_incidents(filters: IncidentFilters) -> IncidentQuerySet:
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


def _with_counted(queryset: IncidentQuerySet) -> QuerySet[Any]:
    """The durations, and what the counts need: the status and whether a deploy is linked."""
    # IN (the linked incidents) is one hashed scan of the links; EXISTS per
    # incident probed the links once for every incident in the period.
    linked = ExpressionWrapper(
        Q(pk__in=DeployLink.objects.values("incident_id")), output_field=BooleanField()
    )
    rows: QuerySet[Any] = (
        queryset.with_durations()
        .annotate(deploy_linked=linked)
        .order_by()
        .values("resolved", "status", "deploy_linked", *METRICS)
    )
    return rows


def _summaries_in_python(queryset: IncidentQuerySet, sample_size: int) -> dict[str, Any]:
    columns: dict[str, list[float]] = {name: [] for name in METRICS}
    excluded = count = still_open = deploy_related = 0
    for row in _with_counted(queryset):
        for name in METRICS:
            if row[name] is not None:
                columns[name].append(row[name])
        excluded += is_missing_a_time(row, resolved=row["resolved"])
        count += 1
        still_open += row["status"] == Status.OPEN
        deploy_related += bool(row["deploy_linked"])
    summaries: dict[str, Any] = {name: stats.summary(values) for name, values in columns.items()}
    if sample_size:
        for name, values in columns.items():
            summaries[name]["sample"] = stats.rank_sample(values, sample_size)
    summaries |= {"excluded": excluded, "count": count, "open": still_open, "deploy_related": deploy_related}
    return summaries


SUMMARY_SQL = """
SELECT count(*) FILTER (WHERE resolved AND ({missing})),
       count(*), count(*) FILTER (WHERE status = %s), count(*) FILTER (WHERE deploy_linked),
       {columns}
FROM ({inner}) AS durations
"""


def _summaries_in_postgres(queryset: IncidentQuerySet, sample_size: int) -> dict[str, Any]:
    # No ORDER BY inside: the model's default ordering would sort every row
    # before the percentiles sort them again.
    inner, params = _with_counted(queryset).query.sql_with_params()
    fractions = ", ".join(str(fraction) for fraction in FRACTIONS)
    # The sample's percentile_disc shares the sort of percentile_cont over the
    # same column: PostgreSQL sorts each duration once for both.
    sampled = ", percentile_disc(%s::float8[]) WITHIN GROUP (ORDER BY {name})" if sample_size else ""
    columns = ",\n       ".join(
        f"count({name}), avg({name}), percentile_cont(ARRAY[{fractions}]) WITHIN GROUP (ORDER BY {name})"
        + sampled.format(name=name)
        for name in METRICS
    )
    per_metric = 4 if sample_size else 3
    samples = [stats.rank_sample_fractions(sample_size)] * len(METRICS) if sample_size else []
    # incidents.durations.is_missing_a_time, over the same columns.
    missing = " OR ".join(f"{name} IS NULL" for name in METRICS)
    with connection.cursor() as cursor:
        cursor.execute(
            SUMMARY_SQL.format(inner=inner, columns=columns, missing=missing),
            [Status.OPEN, *samples, *params],
        )
        row = cursor.fetchone()
    excluded, total, still_open, deploy_related = row[:4]
    summaries: dict[str, Any] = {
        "excluded": excluded,
        "count": total,
        "open": still_open,
        "deploy_related": deploy_related,
    }
    for index, name in enumerate(METRICS):
        count, average, quantiles, *percentiles = row[4 + index * per_metric : 4 + (index + 1) * per_metric]
        q1, middle, q3, p90 = quantiles if count else (None, None, None, None)
        summaries[name] = {"n": count, "median": middle, "p90": p90, "q1": q1, "q3": q3, "mean": average}
        if sample_size:
            summaries[name]["sample"] = stats.rank_sample_from_percentiles(percentiles[0], count, sample_size)
    return summaries


def duration_summaries(queryset: IncidentQuerySet, *, sample_size: int = 0) -> dict[str, Any]:
    """`{excluded, count, open, deploy_related, time_to_detect: {n, median, p90, q1, q3, mean}, …}`.

    One statement on PostgreSQL: the counts come from the same scan as the percentiles.
    With `sample_size`, each duration also has `sample`: morgue.stats.rank_sample
    of its values, picked in the same statement (a chart of 20,000 incidents
    reads a few hundred numbers, not every incident).

    Each incident is timed as incidents.durations defines (IncidentQuerySet.with_durations):
    time to detect for every incident, open ones too; time to resolve and impact
    only once resolved. `excluded` counts resolved incidents left out for a
    missing timestamp.
    """
    if connection.vendor == "postgresql":
        return _summaries_in_postgres(queryset, sample_size)
    return _summaries_in_python(queryset, sample_size)


class Percentile(Aggregate):
    """PostgreSQL's percentile_cont: interpolates between closest ranks as morgue.stats.percentile."""

    function = "percentile_cont"
    template = "%(function)s(%(fraction)s) WITHIN GROUP (ORDER BY %(expressions)s)"
    output_field = FloatField()

    def __init__(self, expression: Any, *, fraction: float, **extra: Any) -> None:
        super().__init__(expression, fraction=repr(float(fraction)), **extra)


SUMMARY_FRACTIONS = {"q1": 0.25, "median": 0.5, "q3": 0.75, "p90": 0.9}


def float_summary(queryset: QuerySet[Any], column: str) -> dict[str, Any]:
    """morgue.stats.summary of one float column (None values skipped): in SQL on PostgreSQL."""
    if connection.vendor == "postgresql":
        return queryset.aggregate(
            n=Count(column),
            mean=Avg(column),
            **{name: Percentile(column, fraction=fraction) for name, fraction in SUMMARY_FRACTIONS.items()},
        )
    return stats.summary(list(queryset.values_list(column, flat=True)))


def incident_metrics(filters: IncidentFilters) -> dict[str, Any]:
    """The figures behind GET /api/v1/metrics/incidents/."""
    return metrics_of(duration_summaries(filtered_incidents(filters)))


def metrics_of(summaries: dict[str, Any]) -> dict[str, Any]:
    """incident_metrics from duration_summaries (the samples left out)."""
    durations = {
        name: {key: value for key, value in summaries[name].items() if key != "sample"} for name in METRICS
    }
    return {
        "count": summaries["count"],
        "open": summaries["open"],
        "excluded": summaries["excluded"],
        **durations,
        "deploy_related": summaries["deploy_related"],
    }
