"""The incident metrics report page: figures, per-period buckets, distributions, comparison."""

import datetime as dt
from collections import defaultdict
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any
from zoneinfo import ZoneInfo

from morgue import charts, stats

from ..models import RemediationItem, RemediationStatus, ReviewMeeting, Severity, Status
from .metrics import IncidentFilters, filtered_incidents, incident_metrics

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


def _month_key(instant: dt.datetime, zone: ZoneInfo) -> str:
    return instant.astimezone(zone).strftime("%Y-%m")


def _quarter_key(instant: dt.datetime, zone: ZoneInfo) -> str:
    local = instant.astimezone(zone)
    return f"{local.year}-Q{(local.month - 1) // 3 + 1}"


def _buckets(
    rows: list[Row], key: Callable[[dt.datetime, ZoneInfo], str], zone: ZoneInfo, label: str
) -> dict[str, Any]:
    grouped: dict[str, list[Row]] = defaultdict(list)
    for row in rows:
        grouped[key(row.started, zone)].append(row)
    names = sorted(grouped)
    faded = [index for index, name in enumerate(names) if len(grouped[name]) < SMALL_BUCKET]
    by_severity = charts.bar_chart(
        f"Incidents per {label} by severity",
        names,
        [
            charts.Series(
                f"sev {level}", [sum(1 for r in grouped[name] if r.severity == level) for name in names]
            )
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
            charts.Series(
                "time to detect",
                [
                    stats.median([r.time_to_detect for r in grouped[n] if r.time_to_detect is not None])
                    for n in names
                ],
            ),
            charts.Series(
                "time to resolve",
                [
                    stats.median([r.time_to_resolve for r in grouped[n] if r.time_to_resolve is not None])
                    for n in names
                ],
            ),
        ],
        what="median duration",
        x_label=label,
    )
    small = [names[index] for index in faded]
    return {"counts": by_severity, "medians": medians, "small": small}


def comparison(current: IncidentFilters, previous: IncidentFilters) -> dict[str, Any]:
    """Difference in medians between two periods with a bootstrap 95% interval."""
    now_rows = incident_rows(current)
    then_rows = incident_rows(previous)
    result = {}
    for name, attribute in (("time_to_detect", "time_to_detect"), ("time_to_resolve", "time_to_resolve")):
        result[name] = stats.bootstrap_median_difference(
            [getattr(r, attribute) for r in then_rows if getattr(r, attribute) is not None],
            [getattr(r, attribute) for r in now_rows if getattr(r, attribute) is not None],
        )
    return result


def follow_through(filters: IncidentFilters) -> dict[str, Any]:
    """What happened after the incidents: remediation done on time, and how long until review.

    Days to review run from resolution to the review meeting of each postmortem
    that has been reviewed (status reviewed or closed).
    """
    incidents = filtered_incidents(filters)
    done = list(
        RemediationItem.objects.filter(
            incident__in=incidents.values("pk"), status=RemediationStatus.DONE
        ).values_list("completed_at", "due_date")
    )
    on_time = sum(1 for completed, due in done if completed and completed.astimezone(dt.UTC).date() <= due)
    meetings = ReviewMeeting.objects.filter(
        incident__in=incidents.filter(
            status__in=[Status.REVIEWED, Status.CLOSED], resolved_at__isnull=False
        ).values("pk")
    ).values_list("starts_at", "incident__resolved_at")
    # resolved_at is never null here (the filter above); the check is for the type checker.
    days = [
        (starts - resolved).total_seconds() / 86400 for starts, resolved in meetings if resolved is not None
    ]
    return {
        "remediation_done": len(done),
        "remediation_on_time": on_time,
        "remediation_on_time_share": on_time / len(done) if done else None,
        "review_days": stats.summary(days),
    }


def incident_report(
    *, filters: IncidentFilters, zone: ZoneInfo, compare_with: IncidentFilters | None
) -> dict[str, Any]:
    rows = incident_rows(filters)
    detect = [r.time_to_detect for r in rows if r.time_to_detect is not None]
    resolve = [r.time_to_resolve for r in rows if r.time_to_resolve is not None]
    report = {
        "metrics": incident_metrics(filters),
        "rows": rows,
        "monthly": _buckets(rows, _month_key, zone, "month"),
        "quarterly": _buckets(rows, _quarter_key, zone, "quarter"),
        "distribution": charts.ecdf(
            "Distribution of time to detect and time to resolve",
            [charts.Series("time to detect", detect), charts.Series("time to resolve", resolve)],
            x_label="duration",
        ),
        "strip": charts.strip_plot(
            "Each incident's time to detect and time to resolve",
            [charts.Series("detect", detect), charts.Series("resolve", resolve)],
            x_label="duration",
        ),
        "comparison": comparison(filters, compare_with) if compare_with else None,
        "follow_through": follow_through(filters),
        "small_bucket": SMALL_BUCKET,
    }
    return report
