"""The incident metrics report page: figures, per-period buckets, distributions, comparison."""

import datetime as dt
from collections import defaultdict
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any
from zoneinfo import ZoneInfo

from django.db import connection
from django.db.models import (
    Count,
    DateTimeField,
    DurationField,
    ExpressionWrapper,
    F,
    FloatField,
    Func,
    Q,
    Subquery,
)
from django.db.models.functions import Trunc, TruncDate

from morgue import charts, stats

from ..models import IncidentQuerySet, RemediationItem, RemediationStatus, ReviewMeeting, Severity, Status
from ..models.incident import Seconds
from .metrics import (
    IncidentFilters,
    duration_summaries,
    filtered_incidents,
    float_summary,
    metrics_of,
)

SMALL_BUCKET = 10  # fewer incidents than this: drawn faded, with a note


@dataclass(frozen=True)
class Row:
    """One incident's figures, for buckets, distributions and the CSV export."""

    incident_id: int
    title: str
    severity: int
    status: str
    team: str
    started: dt.datetime
    time_to_detect: float | None
    time_to_resolve: float | None
    impact: float | None


def incident_rows(filters: IncidentFilters) -> list[Row]:
    """The incidents behind the numbers, with durations (incidents.durations: None while not known)."""
    values = (
        filtered_incidents(filters)
        .with_durations()
        .order_by("impact_started_at", "id")
        # The stubs' plugin does not see annotations made from a dict (the span columns).
        .values_list(  # type: ignore[misc]
            "id", "title", "severity", "status", "team__slug", "impact_started_at",
            "time_to_detect", "time_to_resolve", "impact",
        )
    )  # fmt: skip
    return [
        Row(
            incident_id=pk,
            title=title,
            severity=severity,
            status=status,
            team=team or "",
            started=started,
            time_to_detect=time_to_detect,
            time_to_resolve=time_to_resolve,
            impact=impact,
        )
        for pk, title, severity, status, team, started, time_to_detect, time_to_resolve, impact in values
    ]


BucketKey = Callable[[dt.datetime], str]


def _month_key(local: dt.datetime) -> str:
    return local.strftime("%Y-%m")


def _quarter_key(local: dt.datetime) -> str:
    return f"{local.year}-Q{(local.month - 1) // 3 + 1}"


@dataclass(frozen=True)
class Bucket:
    """One month's or quarter's incidents: how many of each severity, and the median durations."""

    name: str
    by_severity: dict[int, int]
    time_to_detect: float | None
    time_to_resolve: float | None

    @property
    def count(self) -> int:
        return sum(self.by_severity.values())


BUCKET_SIZES: dict[str, BucketKey] = {"month": _month_key, "quarter": _quarter_key}


def _buckets_in_postgres(queryset: IncidentQuerySet, zone: ZoneInfo) -> dict[str, list[Bucket]]:
    """Both bucket sizes in one scan of the incidents: GROUP BY GROUPING SETS ((month), (quarter))."""
    truncated = {
        by: Trunc("impact_started_at", by, output_field=DateTimeField(), tzinfo=zone) for by in BUCKET_SIZES
    }
    inner, params = (
        queryset.with_durations()
        .annotate(**{f"{by}_bucket": expression for by, expression in truncated.items()})
        .order_by()
        .values("severity", "time_to_detect", "time_to_resolve", *(f"{by}_bucket" for by in BUCKET_SIZES))
        .query.sql_with_params()
    )
    severities = ", ".join(f"COUNT(*) FILTER (WHERE severity = {int(level)})" for level in Severity.values)
    medians = ", ".join(
        f"percentile_cont(0.5) WITHIN GROUP (ORDER BY {column})"
        for column in ("time_to_detect", "time_to_resolve")
    )
    # Column names and severity levels come from the code; the filters are parameters.
    sql = (
        "SELECT month_bucket, quarter_bucket, GROUPING(month_bucket), "  # noqa: S608
        f"{severities}, {medians} FROM ({inner}) AS incidents "
        "GROUP BY GROUPING SETS ((month_bucket), (quarter_bucket)) ORDER BY 3, 1, 2"
    )
    with connection.cursor() as cursor:
        cursor.execute(sql, params)
        rows = cursor.fetchall()
    buckets: dict[str, list[Bucket]] = {by: [] for by in BUCKET_SIZES}
    levels = len(Severity.values)
    for month, quarter, by_quarter, *figures in rows:
        by = "quarter" if by_quarter else "month"
        start = quarter if by_quarter else month
        # Read raw, the truncated start is the local wall time, naive (Trunc's
        # tzinfo converts before truncating); the ORM would have made it aware.
        local = start if start.tzinfo is None else start.astimezone(zone)
        buckets[by].append(
            Bucket(
                name=BUCKET_SIZES[by](local),
                by_severity=dict(zip(Severity.values, figures[:levels], strict=True)),
                time_to_detect=figures[levels],
                time_to_resolve=figures[levels + 1],
            )
        )
    return buckets


def _buckets_in_python(queryset: IncidentQuerySet, zone: ZoneInfo) -> dict[str, list[Bucket]]:
    grouped: dict[str, dict[str, list[tuple[int, float | None, float | None]]]] = {
        by: defaultdict(list) for by in BUCKET_SIZES
    }
    rows = (
        queryset.with_durations()
        .order_by()
        # The stubs' plugin does not see annotations made from a dict (the span columns).
        .values_list("impact_started_at", "severity", "time_to_detect", "time_to_resolve")  # type: ignore[misc]
    )
    for started, severity, detect, resolve in rows:
        local = started.astimezone(zone)
        for by, key in BUCKET_SIZES.items():
            grouped[by][key(local)].append((severity, detect, resolve))
    return {
        by: [
            Bucket(
                name=name,
                by_severity={
                    level: sum(1 for row in named[name] if row[0] == level) for level in Severity.values
                },
                time_to_detect=stats.median([row[1] for row in named[name] if row[1] is not None]),
                time_to_resolve=stats.median([row[2] for row in named[name] if row[2] is not None]),
            )
            for name in sorted(named)
        ]
        for by, named in grouped.items()
    }


def period_buckets(filters: IncidentFilters, zone: ZoneInfo) -> dict[str, list[Bucket]]:
    """The filtered incidents per local month and per quarter, counted and medians taken in SQL.

    On PostgreSQL one scan groups both sizes. On SQLite the medians are taken
    in Python with morgue.stats, which interpolates as PostgreSQL's percentile_cont.
    """
    queryset = filtered_incidents(filters)
    if connection.vendor == "postgresql":
        return _buckets_in_postgres(queryset, zone)
    return _buckets_in_python(queryset, zone)


def _bucket_charts(buckets: list[Bucket], label: str) -> dict[str, Any]:
    names = [bucket.name for bucket in buckets]
    faded = [index for index, bucket in enumerate(buckets) if bucket.count < SMALL_BUCKET]
    by_severity = charts.bar_chart(
        f"Incidents per {label} by severity",
        names,
        [
            charts.Series(f"sev {level}", [bucket.by_severity[level] for bucket in buckets])
            for level in Severity.values
        ],
        y_label="incidents",
        x_label=label,
        stacked=True,
        faded=faded,
    )
    medians = charts.duration_line_chart(
        f"Median durations per {label}",
        names,
        [
            charts.Series("time to detect", [bucket.time_to_detect for bucket in buckets]),
            charts.Series("time to resolve", [bucket.time_to_resolve for bucket in buckets]),
        ],
        what="median duration",
        x_label=label,
    )
    small = [names[index] for index in faded]
    return {"counts": by_severity, "medians": medians, "small": small}


def _durations(filters: IncidentFilters) -> dict[str, list[float]]:
    """Each known time to detect and time to resolve of the filtered incidents (no other column)."""
    rows = (
        filtered_incidents(filters)
        .with_durations()
        .order_by()
        .values_list("time_to_detect", "time_to_resolve")  # type: ignore[misc]
    )
    columns: dict[str, list[float]] = {"time_to_detect": [], "time_to_resolve": []}
    for detect, resolve in rows:
        if detect is not None:
            columns["time_to_detect"].append(detect)
        if resolve is not None:
            columns["time_to_resolve"].append(resolve)
    return columns


def comparison(current: IncidentFilters, previous: IncidentFilters) -> dict[str, Any]:
    """Difference in medians between two periods with a bootstrap 95% interval."""
    now, then = _durations(current), _durations(previous)
    return {
        name: stats.bootstrap_median_difference(then[name], now[name])
        for name in ("time_to_detect", "time_to_resolve")
    }


def follow_through(filters: IncidentFilters) -> dict[str, Any]:
    """What happened after the incidents: remediation done on time, and how long until review.

    An item is on time when it was completed (UTC date) on or before its due date.
    Days to review run from resolution to the review meeting of each postmortem
    that has been reviewed (status reviewed or closed).
    """
    incidents = filtered_incidents(filters)
    # MIN(id + 0): a bare MIN(id) would be read by walking the primary key
    # until an incident of the period turns up, past every later one.
    lowest, highest = (
        Subquery(incidents.order_by().annotate(bound=Func(F("pk") + 0, function=bound)).values("bound")[:1])
        for bound in ("MIN", "MAX")
    )
    done = (
        RemediationItem.objects.filter(
            incident__in=incidents.values("pk"),
            # Incidents are numbered as they are declared, so a period's incidents
            # span a narrow range of ids: bounded by it, the items read are a range
            # of their index (remediation_incident_done), not every item done.
            incident_id__gte=lowest,
            incident_id__lte=highest,
            status=RemediationStatus.DONE,
        )
        .annotate(completed_on=TruncDate("completed_at", tzinfo=dt.UTC))
        .aggregate(
            count=Count("incident_id"),
            on_time=Count("incident_id", filter=Q(completed_on__lte=F("due_date"))),
        )
    )
    meetings = ReviewMeeting.objects.filter(
        incident__in=incidents.filter(
            status__in=[Status.REVIEWED, Status.CLOSED], resolved_at__isnull=False
        ).values("pk")
    ).annotate(
        days=ExpressionWrapper(
            Seconds(
                ExpressionWrapper(F("starts_at") - F("incident__resolved_at"), output_field=DurationField())
            )
            / 86400,
            output_field=FloatField(),
        )
    )
    return {
        "remediation_done": done["count"],
        "remediation_on_time": done["on_time"],
        "remediation_on_time_share": done["on_time"] / done["count"] if done["count"] else None,
        "review_days": float_summary(meetings, "days"),
    }


SAMPLE_SIZE = 300  # points per series in the distribution charts; the CSV has every incident


def incident_report(
    *, filters: IncidentFilters, zone: ZoneInfo, compare_with: IncidentFilters | None
) -> dict[str, Any]:
    """The report page's figures and charts, aggregated in the database: they do not grow with the rows."""
    summaries = duration_summaries(filtered_incidents(filters), sample_size=SAMPLE_SIZE)

    def sampled(label: str, name: str) -> charts.Series:
        return charts.Series(label, summaries[name]["sample"], total=summaries[name]["n"])

    buckets = period_buckets(filters, zone)
    return {
        "metrics": metrics_of(summaries),
        "monthly": _bucket_charts(buckets["month"], "month"),
        "quarterly": _bucket_charts(buckets["quarter"], "quarter"),
        "distribution": charts.ecdf(
            "Distribution of time to detect and time to resolve",
            [sampled("time to detect", "time_to_detect"), sampled("time to resolve", "time_to_resolve")],
            x_label="duration",
        ),
        "strip": charts.strip_plot(
            "Each incident's time to detect and time to resolve",
            [sampled("detect", "time_to_detect"), sampled("resolve", "time_to_resolve")],
            x_label="duration",
        ),
        "comparison": comparison(filters, compare_with) if compare_with else None,
        "follow_through": follow_through(filters),
        "small_bucket": SMALL_BUCKET,
    }
