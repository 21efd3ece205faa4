"""The remediation board: a column per status with its count and a page of items.

Pages come from `filtered_items` (incidents.selectors.remediation), the
queryset the API and the CSV export use: one query per column that has items
to show, each a short scan of the board's indexes with the owner, the team
and the incident's severity joined. Counts are one grouped query: summed from
RemediationCount, which database triggers keep, when only kind, status, team
and category narrow the board (the unfiltered board would otherwise count
every item); counted from the rows, through their indexes, for every other
filter. Tests hold the two ways equal. At most five queries whatever the
number of items.
"""

import datetime as dt
from dataclasses import dataclass, field

from django.db.models import Count, F, Sum

from incidents.models import RemediationCount, RemediationItem, RemediationStatus
from incidents.selectors.remediation import BoardFilters, ItemRow, filtered_items, item_rows
from morgue.models import Team

BOARD_COLUMN_SIZE = 25

STATUS_LABELS = dict(RemediationStatus.choices)


@dataclass
class BoardColumn:
    status: str
    label: str
    count: int
    items: list[ItemRow] = field(default_factory=list)
    offset: int = 0

    @property
    def more(self) -> int:
        return max(self.count - len(self.items), 0)

    @property
    def has_next(self) -> bool:
        return self.offset + len(self.items) < self.count


def _shown(filters: BoardFilters) -> list[str]:
    """The columns the board shows: all four, or the one asked for."""
    if filters.status:
        return [filters.status] if filters.status in RemediationStatus.values else []
    return list(RemediationStatus.values)


def _kept_counts_apply(filters: BoardFilters) -> bool:
    """Whether RemediationCount can answer: it is grouped by kind, status, team and category only."""
    return not (filters.owner or filters.severity or filters.incident or filters.overdue)


def column_counts(filters: BoardFilters, *, today: dt.date) -> dict[str, int]:
    """How many visible items each column holds (columns with none are left out)."""
    if not _kept_counts_apply(filters):
        rows = filtered_items(filters, today=today).order_by().values("status").annotate(total=Count("id"))
        return {row["status"]: row["total"] for row in rows}
    keys = ("kind", "status", "category")
    narrow = {name: getattr(filters, name) for name in keys if getattr(filters, name)}
    kept = RemediationCount.objects.filter(**narrow)
    if filters.team:
        kept = kept.filter(team_key__in=Team.objects.filter(slug=filters.team).values("pk"))
    # The kept counts include the items of soft-deleted incidents (see
    # RemediationCount): a few, counted here to be taken away.
    hidden = RemediationItem.objects.filter(incident__deleted_at__isnull=False, **narrow).order_by()
    if filters.team:
        hidden = hidden.filter(team__slug=filters.team)
    totals = kept.values("status").annotate(total=Sum("total")).values_list("status", "total")
    taken = hidden.values("status").annotate(total=-Count("id")).values_list("status", "total")
    counts: dict[str, int] = {}
    for status, total in totals.union(taken, all=True):
        counts[status] = counts.get(status, 0) + total
    return {status: total for status, total in counts.items() if total}


def board_columns(
    filters: BoardFilters, *, today: dt.date, page: int = 1, size: int = BOARD_COLUMN_SIZE
) -> list[BoardColumn]:
    """One column per status with its count and a page of items.

    Pages past the first apply when one status is asked for.
    """
    counts = column_counts(filters, today=today)
    offset = (max(page, 1) - 1) * size if filters.status else 0
    columns = [
        BoardColumn(status=status, label=STATUS_LABELS[status], count=counts.get(status, 0), offset=offset)
        for status in _shown(filters)
    ]
    # Of its incident a card shows only the severity (items store where they came from).
    items = (
        filtered_items(filters, today=today)
        .select_related("owner__profile", "team")
        .annotate(incident_severity=F("incident__severity"))
    )
    for column in columns:
        if offset < column.count:
            page_items = items.filter(status=column.status)[offset : offset + size]
            column.items = item_rows(page_items, today=today)
    return columns
