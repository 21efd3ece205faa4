"""Reads about remediation items: the board, a person's open items, digests, figures."""

import datetime as dt
from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass, field

from django.db.models import Count, F, Q
from django.db.models.functions import TruncDate, TruncMonth

from incidents.blameless import DEFAULT_PHRASES, Finding, Phrase, check
from incidents.models import Incident, RemediationItem, RemediationKind, RemediationStatus
from incidents.models.remediation import ORIGIN_RELATED, UNFINISHED
from morgue.stats import median

DIGEST_HORIZON_DAYS = 3


def items_blocking_close(incident: Incident) -> list[RemediationItem]:
    """The incident's items that are open or in progress: while any exist it cannot close."""
    return list(incident.remediation_items.unfinished().order_by("due_date", "id"))


def blameless_findings(
    item: RemediationItem, *, phrases: Iterable[Phrase] = DEFAULT_PHRASES, names: Iterable[str] = ()
) -> list[Finding]:
    """Blameful phrasing in an item's title and description (advice only).

    Callers load the team's phrase list and people's names once per page
    (incidents.selectors.incident.blameless_phrases / people_names).
    """
    text = f"{item.title}\n{item.description}"
    return check(text, phrases=phrases, names=names)


def items_for_incident(incident: Incident) -> dict[str, list[RemediationItem]]:
    """An incident's items split into Dev and Ops, unfinished first, then by due date."""
    columns: dict[str, list[RemediationItem]] = {RemediationKind.DEV: [], RemediationKind.OPS: []}
    items = incident.remediation_items.select_related("owner__profile", "team").order_by("due_date", "id")
    for item in sorted(items, key=lambda item: (not item.is_unfinished, item.due_date, item.pk)):
        columns[item.kind].append(item)
    return columns


def open_items_for(person) -> list[RemediationItem]:
    """A person's items still to do, soonest due first."""
    return list(
        RemediationItem.objects.visible()
        .unfinished()
        .filter(owner=person)
        .select_related("incident", "team", *ORIGIN_RELATED)
        .order_by("due_date", "id")
    )


def digest_items(*, owner, today: dt.date) -> list[RemediationItem]:
    """An owner's unmuted items overdue or due within three days of their local `today`."""
    horizon = today + dt.timedelta(days=DIGEST_HORIZON_DAYS)
    return list(
        RemediationItem.objects.visible()
        .due_by(horizon)
        .filter(owner=owner, reminders_muted=False)
        .select_related("incident", *ORIGIN_RELATED)
        .order_by("due_date", "id")
    )


def owners_with_items_due(*, utc_today: dt.date) -> list[int]:
    """Ids of people who may be due a digest; each is checked again on their own calendar."""
    # The furthest-ahead zone is at most one day past UTC.
    horizon = utc_today + dt.timedelta(days=DIGEST_HORIZON_DAYS + 1)
    return list(
        RemediationItem.objects.visible()
        .due_by(horizon)
        .filter(reminders_muted=False, owner__is_active=True)
        .order_by()
        .values_list("owner_id", flat=True)
        .distinct()
    )


# --- The board ------------------------------------------------------------------


@dataclass
class BoardFilters:
    kind: str = ""
    status: str = ""
    owner: str = ""  # username
    team: str = ""  # slug
    category: str = ""
    severity: int | None = None
    overdue: bool = False
    incident: int | None = None
    descending: bool = False


# Board filter name → the lookup it applies when given.
FILTER_LOOKUPS = {
    "kind": "kind",
    "status": "status",
    "owner": "owner__username",
    "team": "team__slug",
    "category": "category",
    "severity": "incident__severity",
    "incident": "incident_id",
}


def filtered_items(filters: BoardFilters, *, today: dt.date):
    """Every visible item that passes the filters, sorted by due date.

    The board's own SQL (incidents.selectors.board) chooses the same items.
    """
    items = RemediationItem.objects.visible()
    lookups = {
        lookup: getattr(filters, name) for name, lookup in FILTER_LOOKUPS.items() if getattr(filters, name)
    }
    items = items.filter(**lookups)
    if filters.overdue:
        items = items.overdue(today)
    order = ("-due_date", "-id") if filters.descending else ("due_date", "id")
    return items.order_by(*order)


# --- Figures --------------------------------------------------------------------


def _age_days(created_at: dt.datetime, today: dt.date) -> int:
    return (today - created_at.astimezone(dt.UTC).date()).days


def _median(values: list[float]) -> float | None:
    return median(values)


def figures(*, since: dt.datetime | None, until: dt.datetime | None, today: dt.date) -> dict:
    """Opened, completed (and on time), overdue and median open age, overall and per kind.

    Opened counts items written in the window; completed counts items done in
    it; open_overdue and median_open_age_days are about items written in the
    window that are still to do on `today`.
    """
    items = RemediationItem.objects.visible().order_by()
    opened = items
    completed = items.filter(status=RemediationStatus.DONE)
    if since is not None:
        opened = opened.filter(created_at__gte=since)
        completed = completed.filter(completed_at__gte=since)
    if until is not None:
        opened = opened.filter(created_at__lt=until)
        completed = completed.filter(completed_at__lt=until)

    on_time = Q(completed_day__lte=F("due_date"))
    totals = {kind: _empty_figures() for kind in RemediationKind.values}
    for row in opened.values("kind").annotate(
        opened=Count("id"),
        open_overdue=Count("id", filter=Q(status__in=UNFINISHED, due_date__lt=today)),
    ):
        totals[row["kind"]]["opened"] = row["opened"]
        totals[row["kind"]]["open_overdue"] = row["open_overdue"]
    for row in (
        completed.annotate(completed_day=TruncDate("completed_at", tzinfo=dt.UTC))
        .values("kind")
        .annotate(completed=Count("id"), completed_on_time=Count("id", filter=on_time))
    ):
        totals[row["kind"]]["completed"] = row["completed"]
        totals[row["kind"]]["completed_on_time"] = row["completed_on_time"]
    ages: dict[str, list[int]] = defaultdict(list)
    for kind, created_at in opened.filter(status__in=UNFINISHED).values_list("kind", "created_at"):
        ages[kind].append(_age_days(created_at, today))
    for kind in RemediationKind.values:
        totals[kind]["median_open_age_days"] = _median(ages[kind])
    overall = {
        name: sum(totals[kind][name] for kind in RemediationKind.values)
        for name in ("opened", "completed", "completed_on_time", "open_overdue")
    }
    overall["median_open_age_days"] = _median([age for kind in RemediationKind.values for age in ages[kind]])
    overall["by_kind"] = totals
    return overall


def _empty_figures() -> dict:
    return dict.fromkeys(("opened", "completed", "completed_on_time", "open_overdue"), 0) | {
        "median_open_age_days": None
    }


@dataclass
class MonthRow:
    month: dt.date
    kind: str
    opened: int = 0
    completed: int = 0
    completed_on_time: int = 0
    open_overdue: int = 0
    median_open_age_days: float | None = None
    open_ages: list[int] = field(default_factory=list, repr=False)


def summarise(months: list[MonthRow]) -> dict:
    """The figures for the whole window from its monthly rows (the board's headline)."""
    names = ("opened", "completed", "completed_on_time", "open_overdue")
    totals = {name: sum(getattr(row, name) for row in months) for name in names}
    totals["median_open_age_days"] = _median([age for row in months for age in row.open_ages])
    return totals


def monthly_figures(*, since: dt.datetime, until: dt.datetime, today: dt.date) -> list[MonthRow]:
    """Per calendar month (UTC) and kind: opened, completed, on time, median age of those still open."""
    items = RemediationItem.objects.visible().order_by()
    rows: dict[tuple[dt.date, str], MonthRow] = {}

    def row(month, kind) -> MonthRow:
        month = month.date() if isinstance(month, dt.datetime) else month
        return rows.setdefault((month, kind), MonthRow(month=month, kind=kind))

    opened = items.filter(created_at__gte=since, created_at__lt=until)
    for entry in (
        opened.annotate(month=TruncMonth("created_at", tzinfo=dt.UTC))
        .values("month", "kind")
        .annotate(n=Count("id"), overdue=Count("id", filter=Q(status__in=UNFINISHED, due_date__lt=today)))
    ):
        month_row = row(entry["month"], entry["kind"])
        month_row.opened = entry["n"]
        month_row.open_overdue = entry["overdue"]
    for entry in (
        items.filter(status=RemediationStatus.DONE, completed_at__gte=since, completed_at__lt=until)
        .annotate(
            month=TruncMonth("completed_at", tzinfo=dt.UTC),
            completed_day=TruncDate("completed_at", tzinfo=dt.UTC),
        )
        .values("month", "kind")
        .annotate(n=Count("id"), on_time=Count("id", filter=Q(completed_day__lte=F("due_date"))))
    ):
        month_row = row(entry["month"], entry["kind"])
        month_row.completed = entry["n"]
        month_row.completed_on_time = entry["on_time"]
    ages: dict[tuple[dt.date, str], list[int]] = defaultdict(list)
    for kind, created_at in opened.filter(status__in=UNFINISHED).values_list("kind", "created_at"):
        month = created_at.astimezone(dt.UTC).date().replace(day=1)
        ages[(month, kind)].append(_age_days(created_at, today))
    for key, values in ages.items():
        month_row = row(*key)
        month_row.open_ages = values
        month_row.median_open_age_days = _median(values)
    return sorted(rows.values(), key=lambda month_row: (month_row.month, month_row.kind))
