import datetime as dt
from typing import Any

from django.conf import settings
from django.db import connection
from django.db.models import Count, Exists, OuterRef, QuerySet
from django.db.models.functions import TruncDate

from morgue.stats import median

from ..models import Deploy, DeployLink, Incident
from ..models.incident import DURATION_FIELDS, IncidentQuerySet

# Each next value is the least one greater than the last, read from the index
# that starts with the column (the unique report key for stack, the
# environment-and-time index for environment): a few index probes per
# distinct value, where SELECT DISTINCT reads every deploy ever reported.
_DISTINCT_SQL = """
WITH RECURSIVE found (value) AS (
    SELECT MIN({column}) FROM {table}
    UNION ALL
    SELECT (SELECT MIN({column}) FROM {table} WHERE {column} > found.value) FROM found
    WHERE found.value IS NOT NULL
)
SELECT value FROM found WHERE value IS NOT NULL
"""


def deploy_filter_choices() -> tuple[list[str], list[str]]:
    """Every stack and every environment ever deployed, sorted, for the deploy log's filters."""
    chosen = []
    with connection.cursor() as cursor:
        for column in ("stack", "environment"):
            cursor.execute(_DISTINCT_SQL.format(column=column, table=Deploy._meta.db_table))
            chosen.append([value for (value,) in cursor.fetchall()])
    return chosen[0], chosen[1]


def suggestion_window_minutes() -> int:
    return int(getattr(settings, "DEPLOY_SUGGESTION_MINUTES", 60))


def suggested_deploys(*, incident: Incident, minutes: int | None = None) -> QuerySet[Deploy]:
    """Production deploys from before impact started up to detection: the usual suspects."""
    return Deploy.objects.before_incident(incident, minutes=minutes or suggestion_window_minutes())


def linked_deploys(*, incident: Incident) -> QuerySet[Deploy]:
    return Deploy.objects.filter(links__incident=incident).order_by("-started_at", "-id")


def deploy_related_incidents() -> IncidentQuerySet:
    """Visible incidents with at least one linked deploy."""
    return Incident.objects.visible().filter(Exists(DeployLink.objects.filter(incident=OuterRef("pk"))))


def with_deploy_related(queryset: QuerySet[Incident]) -> QuerySet[Incident]:
    """Annotate each incident with `deploy_related` (a linked deploy exists), for lists and filters."""
    return queryset.annotate(deploy_related=Exists(DeployLink.objects.filter(incident=OuterRef("pk"))))


def deploy_log(
    *,
    stack: str = "",
    environment: str = "",
    deployer: str = "",
    since: dt.datetime | None = None,
    until: dt.datetime | None = None,
) -> QuerySet[Deploy]:
    """The deploy log, newest first, narrowed by whichever filters are given."""
    queryset = Deploy.objects.started_between(since, until)
    if stack:
        queryset = queryset.filter(stack=stack)
    if environment:
        queryset = queryset.filter(environment=environment)
    if deployer:
        queryset = queryset.filter(deployer=deployer)
    return queryset.order_by("-started_at", "-id")


def deploys_per_day(queryset: QuerySet[Deploy], *, zone: dt.tzinfo) -> list[tuple[dt.date, int]]:
    """Counts by local day over the range the queryset covers, with empty days as zero."""
    rows = (
        queryset.order_by()
        .annotate(day=TruncDate("started_at", tzinfo=zone))
        .values("day")
        # COUNT(*): the start alone, so unfiltered it is an index-only scan of deploy_start.
        .annotate(count=Count("*"))
        .values_list("day", "count")
    )
    days = dict(rows)
    if not days:
        return []
    first, last = min(days), max(days)
    every_day = (first + dt.timedelta(days=offset) for offset in range((last - first).days + 1))
    return [(day, days.get(day, 0)) for day in every_day]


def deploy_metrics(*, since: dt.datetime | None, until: dt.datetime | None) -> dict[str, Any]:
    """The "N deploys, M deploy-related incidents, MTTD, MTTR" line for a period."""
    deploys = Deploy.objects.production().started_between(since, until).count()
    incidents = list(deploy_related_incidents().started_between(since, until).only(*DURATION_FIELDS))
    detect = [i.time_to_detect_seconds for i in incidents if i.time_to_detect_seconds is not None]
    resolve = [i.time_to_resolve_seconds for i in incidents if i.time_to_resolve_seconds is not None]
    return {
        "deploys": deploys,
        "deploy_related_incidents": len(incidents),
        "time_to_detect_median_seconds": median(detect),
        "time_to_resolve_median_seconds": median(resolve),
    }
