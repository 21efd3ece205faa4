"""Reads about remediation items: the board, a person's open items, digests, figures."""

import datetime as dt
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from typing import Any

from django.contrib.auth import get_user_model
from django.contrib.auth.models import User
from django.core.exceptions import ObjectDoesNotExist
from django.db.models import Count, F, Q
from django.db.models.functions import TruncDate, TruncMonth

from incidents.blameless import DEFAULT_PHRASES, Finding, Phrase, check
from incidents.models import (
    Incident,
    RemediationCategory,
    RemediationItem,
    RemediationItemQuerySet,
    RemediationKind,
    RemediationPriority,
    RemediationStatus,
    TeamTracker,
    TrackerIssue,
)
from incidents.models.remediation import UNFINISHED, default_due_date
from incidents.selectors.incident import blameless_phrases, people_names
from morgue.stats import median
from oncall.models import Team

DIGEST_HORIZON_DAYS = 3


def items_blocking_close(incident: Incident) -> list[RemediationItem]:
    """The incident's items that are open or in progress: while any exist it cannot close."""
    return list(incident.remediation_items.unfinished().order_by("due_date", "id"))


def blameless_findings(
    item: RemediationItem,
    *,
    phrases: Iterable[Phrase] = DEFAULT_PHRASES,
    names: Iterable[str] | Callable[[], Iterable[str]] = (),
) -> list[Finding]:
    """Blameful phrasing in an item's title and description (advice only).

    Callers load the team's phrase list and people's names once per page
    (incidents.selectors.incident.blameless_phrases / people_names).
    """
    text = f"{item.title}\n{item.description}"
    return check(text, phrases=phrases, names=names)


@dataclass(frozen=True, slots=True)
class ItemRow:
    """An item as a page lists it, with whether it is overdue on the page's day."""

    item: RemediationItem
    overdue: bool


def item_rows(items: Iterable[RemediationItem], *, today: dt.date) -> list[ItemRow]:
    return [ItemRow(item=item, overdue=item.is_overdue(today)) for item in items]


@dataclass(frozen=True, slots=True)
class PanelItem:
    """An item in its incident's panel: overdue or not, and its blameless-language findings."""

    item: RemediationItem
    overdue: bool
    findings: list[Finding]
    # Its issue in a tracker, if one was asked for; and whether its team's tracker can make one.
    issue: TrackerIssue | None = None
    tracker: TeamTracker | None = None


def form_choices(*, usernames: list[str] | None = None) -> dict[str, Any]:
    """What the item forms offer: people, teams, kinds, categories, priorities and statuses (two queries).

    `usernames` are the owners suggested before anyone types; every active
    username when not given.
    """
    if usernames is None:
        people = get_user_model().objects.filter(is_active=True).order_by("username")
        usernames = list(people.values_list("username", flat=True))
    return {
        "usernames": usernames,
        "teams": list(Team.objects.order_by("name")),
        "kinds": RemediationKind.choices,
        "categories": RemediationCategory.choices,
        "priorities": RemediationPriority.choices,
        "statuses": RemediationStatus.choices,
    }


def incident_panel(*, incident: Incident, today: dt.date) -> dict[str, Any]:
    """An incident's remediation panel: Dev and Ops columns, the items keeping it open, the forms' choices."""
    phrases, names = blameless_phrases(), people_names()
    items = incident.remediation_items.select_related("owner__profile", "team__tracker", "tracker_issue")
    # Unfinished first, then by due date.
    ordered = sorted(items, key=lambda item: (not item.is_unfinished, item.due_date, item.pk))
    columns: dict[str, list[PanelItem]] = {kind: [] for kind in RemediationKind.values}
    for item in ordered:
        findings = blameless_findings(item, phrases=phrases, names=names)
        columns[item.kind].append(
            PanelItem(
                item=item,
                overdue=item.is_overdue(today),
                findings=findings,
                issue=_joined(item, "tracker_issue"),
                tracker=_joined(item.team, "tracker") if item.team else None,
            )
        )
    return {
        "blocking": [item for item in ordered if item.is_unfinished],
        "columns": [(kind, RemediationKind(kind).label, columns[kind]) for kind in RemediationKind.values],
        "default_due": default_due_date(severity=incident.severity, written_on=today),
        # The people of this incident are suggested as owners; others come as the owner is
        # typed (people-suggest): every username of a large organisation made the page heavy.
        **form_choices(usernames=_people_of(incident, ordered)),
    }


def _joined(row: Any, name: str) -> Any:
    """A reverse one-to-one loaded by select_related, or None when there is none (no query either way)."""
    try:
        return getattr(row, name)
    except ObjectDoesNotExist:
        return None


def _people_of(incident: Incident, items: Iterable[RemediationItem]) -> list[str]:
    """Usernames of the incident's facilitator, contact and item owners (no query: already loaded)."""
    people = [incident.facilitator, incident.contact, *(item.owner for item in items)]
    return sorted({person.username for person in people if person is not None and person.is_active})


def open_items_for(person: User, *, today: dt.date) -> list[ItemRow]:
    """A person's items still to do, soonest due first, each marked overdue or not on `today`."""
    items = RemediationItem.objects.visible().unfinished().filter(owner=person).order_by("due_date", "id")
    return item_rows(items, today=today)


def digest_items(*, owner: User, today: dt.date) -> list[RemediationItem]:
    """An owner's unmuted items overdue or due within three days of their local `today`."""
    horizon = today + dt.timedelta(days=DIGEST_HORIZON_DAYS)
    return list(
        RemediationItem.objects.visible()
        .due_by(horizon)
        .filter(owner=owner, reminders_muted=False)
        .select_related("incident")
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


LARGEST_ID = 2**63 - 1

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


def filtered_items(filters: BoardFilters, *, today: dt.date) -> RemediationItemQuerySet:
    """Every visible item that passes the filters, by due date: the board's, the API's, the CSV's."""
    if filters.incident and abs(filters.incident) > LARGEST_ID:
        # No row has such an id, and SQLite cannot even bind it.
        return RemediationItem.objects.none()
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

FIGURE_NAMES = ("opened", "completed", "completed_on_time", "open_overdue")


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


def summarise(months: list[MonthRow]) -> dict[str, Any]:
    """The figures for the whole window from its monthly rows (the board's headline)."""
    totals: dict[str, Any] = {name: sum(getattr(row, name) for row in months) for name in FIGURE_NAMES}
    totals["median_open_age_days"] = median([age for row in months for age in row.open_ages])
    return totals


def _window(
    items: RemediationItemQuerySet, field_name: str, since: dt.datetime | None, until: dt.datetime | None
) -> RemediationItemQuerySet:
    if since is not None:
        items = items.filter(**{f"{field_name}__gte": since})
    if until is not None:
        items = items.filter(**{f"{field_name}__lt": until})
    return items


def monthly_figures(
    *, since: dt.datetime | None, until: dt.datetime | None, today: dt.date
) -> list[MonthRow]:
    """Per calendar month (UTC) and kind: opened, completed, on time, overdue, median age of those still open.

    Opened counts items written in the window; completed counts items done in
    it; open_overdue and the ages are about items written in the window that
    are still to do on `today`. Two grouped queries: items written, per kind
    and day (ages are whole days, so a day's count is each of its items'
    age), and items done, per kind and month.
    """
    items = RemediationItem.objects.visible().order_by()
    rows: dict[tuple[dt.date, str], MonthRow] = {}

    def row(month: dt.date, kind: str) -> MonthRow:
        return rows.setdefault((month, kind), MonthRow(month=month, kind=kind))

    written = (
        _window(items, "created_at", since, until)
        .annotate(day=TruncDate("created_at", tzinfo=dt.UTC))
        .values("day", "kind")
        .annotate(
            opened=Count("id"),
            unfinished=Count("id", filter=Q(status__in=UNFINISHED)),
            overdue=Count("id", filter=RemediationItemQuerySet.overdue_condition(today)),
        )
        .order_by("day")
    )
    for entry in written:
        month_row = row(entry["day"].replace(day=1), entry["kind"])
        month_row.opened += entry["opened"]
        month_row.open_overdue += entry["overdue"]
        month_row.open_ages += [(today - entry["day"]).days] * entry["unfinished"]
    done = (
        _window(items.filter(status=RemediationStatus.DONE), "completed_at", since, until)
        .annotate(
            month=TruncMonth("completed_at", tzinfo=dt.UTC),
            completed_day=TruncDate("completed_at", tzinfo=dt.UTC),
        )
        .values("month", "kind")
        .annotate(completed=Count("id"), on_time=Count("id", filter=Q(completed_day__lte=F("due_date"))))
    )
    for done_entry in done:
        month = done_entry["month"]
        month_row = row(month.date() if isinstance(month, dt.datetime) else month, done_entry["kind"])
        month_row.completed = done_entry["completed"]
        month_row.completed_on_time = done_entry["on_time"]
    for month_row in rows.values():
        month_row.median_open_age_days = median(month_row.open_ages)
    return sorted(rows.values(), key=lambda month_row: (month_row.month, month_row.kind))


def figures(*, since: dt.datetime | None, until: dt.datetime | None, today: dt.date) -> dict[str, Any]:
    """Opened, completed (and on time), overdue and median open age, overall and per kind.

    The same figures as the board's, summed from its monthly rows.
    """
    months = monthly_figures(since=since, until=until, today=today)
    overall = summarise(months)
    overall["by_kind"] = {
        kind: summarise([row for row in months if row.kind == kind]) for kind in RemediationKind.values
    }
    return overall
