"""The remediation board: a column per status with its count and a page of cards, in two queries.

The board is the page people keep open, so it is built for speed:

- Column counts are summed from RemediationCount and RemediationDueCount,
  which database triggers keep, when only kind, status, team, category and
  overdue narrow the board (team and category only without overdue). The
  owner, severity and incident filters count rows, which their indexes keep
  few.
- Every column's page comes from one statement: a UNION ALL of one short
  index scan per column (joined to its incident, which also hides items of
  soft-deleted incidents), joined afterwards to owner and team.
- Cards are small objects holding what a card shows, not model instances.

The statements are written here rather than by the ORM because compiling
the ORM's queryset for one column cost more than running it. They mirror
`filtered_items` (incidents.selectors.remediation), which the API and the CSV
export use; tests check that both choose the same items for every filter.
"""

import datetime as dt
from dataclasses import dataclass, field
from functools import cache

from django.contrib.auth import get_user_model
from django.db import connection

from incidents.models import (
    Incident,
    RemediationCategory,
    RemediationCount,
    RemediationDueCount,
    RemediationItem,
    RemediationKind,
    RemediationStatus,
)
from incidents.models.remediation import UNFINISHED, item_url, review_title, ticket_key
from incidents.selectors.remediation import BoardFilters
from morgue.models import Profile, Team, name_from_columns

BOARD_COLUMN_SIZE = 25
LARGEST_ID = 2**63 - 1

KIND_LABELS = dict(RemediationKind.choices)
CATEGORY_LABELS = dict(RemediationCategory.choices)
STATUS_LABELS = dict(RemediationStatus.choices)


@dataclass(slots=True)
class BoardCard:
    """One item as its board card shows it."""

    pk: int
    incident_id: int | None
    title: str
    kind: str
    category: str
    status: str
    ticket_url: str
    due_date: dt.date
    overdue: bool
    incident_title: str
    severity: int | None
    owner_name: str
    team_name: str
    review: object = None  # the alerts review an item without an incident came from

    @property
    def kind_label(self) -> str:
        return KIND_LABELS.get(self.kind, self.kind)

    @property
    def category_label(self) -> str:
        return CATEGORY_LABELS.get(self.category, self.category)

    @property
    def ticket_key(self) -> str:
        return ticket_key(self.ticket_url)

    @property
    def is_unfinished(self) -> bool:
        return self.status in UNFINISHED

    @property
    def origin_title(self) -> str:
        return self.incident_title if self.incident_id else review_title(self.review)

    def get_absolute_url(self) -> str:
        return item_url(pk=self.pk, incident_id=self.incident_id, review=self.review, status=self.status)


@dataclass
class BoardColumn:
    status: str
    label: str
    count: int
    items: list[BoardCard] = field(default_factory=list)
    offset: int = 0

    @property
    def more(self) -> int:
        return max(self.count - len(self.items), 0)

    @property
    def has_next(self) -> bool:
        return self.offset + len(self.items) < self.count


@cache
def _tables() -> dict[str, str]:
    return {
        "items": RemediationItem._meta.db_table,
        "incidents": Incident._meta.db_table,
        "people": get_user_model()._meta.db_table,
        "profiles": Profile._meta.db_table,
        "teams": Team._meta.db_table,
        "counts": RemediationCount._meta.db_table,
        "due_counts": RemediationDueCount._meta.db_table,
    }


def _shown(filters: BoardFilters) -> list[str]:
    """The columns the board shows: all four, or the one asked for."""
    if filters.status:
        return [filters.status] if filters.status in RemediationStatus.values else []
    return list(RemediationStatus.values)


def _statuses(filters: BoardFilters) -> list[str]:
    """The columns that can hold items: overdue ones are unfinished, so done and won't do hold none."""
    return [status for status in _shown(filters) if status in UNFINISHED or not filters.overdue]


class _Where:
    """WHERE clauses joined by AND, with their parameters in order."""

    def __init__(self) -> None:
        self.clauses: list[str] = []
        self.params: list = []

    def add(self, clause: str, *params) -> "_Where":
        self.clauses.append(clause)
        self.params += params
        return self

    def __str__(self) -> str:
        return " AND ".join(self.clauses) or "1 = 1"


def _narrow(where: _Where, filters: BoardFilters, *, kind: str, team: str = "", category: str = "") -> _Where:
    """The filters the items and the kept counts share (kind, team, category), on the columns named."""
    if filters.kind:
        where.add(f"{kind} = %s", filters.kind)
    if team and filters.team:
        where.add(f"{team} IN (SELECT id FROM {_tables()['teams']} WHERE slug = %s)", filters.team)
    if category and filters.category:
        where.add(f"{category} = %s", filters.category)
    return where


def _conditions(filters: BoardFilters, *, today: dt.date) -> _Where:
    """Clauses over `item` for every filter but status and visibility.

    The same meaning as the lookups of incidents.selectors.remediation.FILTER_LOOKUPS:
    a filter applies when it is given (not empty, not zero).
    """
    tables = _tables()
    where = _narrow(_Where(), filters, kind="item.kind", team="item.team_id", category="item.category")
    if filters.owner:
        where.add(f"item.owner_id IN (SELECT id FROM {tables['people']} WHERE username = %s)", filters.owner)
    for value, clause in (
        (filters.severity, f"item.incident_id IN (SELECT id FROM {tables['incidents']} WHERE severity = %s)"),
        (filters.incident, "item.incident_id = %s"),
    ):
        # Ids past a signed 64-bit integer match nothing (SQLite cannot even bind them).
        if value and abs(value) > LARGEST_ID:
            where.add("1 = 0")
        elif value:
            where.add(clause, value)
    if filters.overdue:
        # With the columns limited to unfinished statuses (_statuses), this is overdue().
        where.add("item.due_date < %s", connection.ops.adapt_datefield_value(today))
    return where


def _kept_counts_apply(filters: BoardFilters) -> bool:
    """Whether the kept counts can answer: they are grouped by kind, status, team and category only."""
    if filters.owner or filters.severity or filters.incident:
        return False
    # RemediationDueCount has no team or category, so overdue needs them absent.
    return not (filters.overdue and (filters.team or filters.category))


def column_counts(filters: BoardFilters, *, today: dt.date) -> dict[str, int]:
    """How many visible items each column holds, in one query."""
    statuses = _statuses(filters)
    if not statuses:
        return {}
    tables = _tables()
    in_columns = f"status IN ({', '.join(['%s'] * len(statuses))})"
    items = _conditions(filters, today=today).add(f"item.{in_columns}", *statuses)
    if not _kept_counts_apply(filters):
        # RemediationItem.objects.visible(): no incident, or one not soft-deleted.
        items.add(
            "(item.incident_id IS NULL OR item.incident_id NOT IN "
            f"(SELECT id FROM {tables['incidents']} WHERE deleted_at IS NOT NULL))"
        )
        sql = f"SELECT item.status, COUNT(*) FROM {tables['items']} AS item WHERE {items} GROUP BY 1"
        return _fetch_counts(sql, items.params)

    kept = _narrow(
        _Where().add(in_columns, *statuses), filters, kind="kind", team="team_key", category="category"
    )
    parts = [(f"SELECT status, total FROM {tables['counts']} WHERE {kept}", kept.params)]
    if filters.overdue:
        # Not overdue yet: due today or later (a few weeks of rows at most).
        due = _Where().add(in_columns, *statuses)
        due.add("due_date >= %s", connection.ops.adapt_datefield_value(today))
        _narrow(due, filters, kind="kind")
        parts.append((f"SELECT status, -total FROM {tables['due_counts']} WHERE {due}", due.params))
    # The kept counts include items of soft-deleted incidents; take those away.
    items.add(f"item.incident_id IN (SELECT id FROM {tables['incidents']} WHERE deleted_at IS NOT NULL)")
    parts.append((f"SELECT item.status, -1 FROM {tables['items']} AS item WHERE {items}", items.params))
    union = " UNION ALL ".join(sql for sql, _ in parts)
    sql = f"SELECT status, SUM(total) FROM ({union}) AS counted GROUP BY status"
    return _fetch_counts(sql, [param for _, params in parts for param in params])


def _fetch_counts(sql: str, params: list) -> dict[str, int]:
    with connection.cursor() as cursor:
        cursor.execute(sql, params)
        return {status: int(total) for status, total in cursor.fetchall() if total}


def _cards(
    filters: BoardFilters, *, today: dt.date, pages: list[tuple[str, int]], size: int
) -> dict[str, list[BoardCard]]:
    """A page of cards for each (status, offset), in one query."""
    tables = _tables()
    # Joined inside the scan, the incident both hides items of deleted
    # incidents and gives the card its title, one index probe per row.
    where = _conditions(filters, today=today).add("incident.deleted_at IS NULL")
    order = "item.due_date DESC, item.id DESC" if filters.descending else "item.due_date, item.id"
    columns = (
        "item.id, item.incident_id, item.title, item.kind, item.category, item.status, "
        "item.ticket_url, item.due_date, item.owner_id, item.team_id, "
        "incident.title AS incident_title, incident.severity"
    )
    scans = []
    scan_params: list = []
    for number, (status, offset) in enumerate(pages):
        scans.append(
            f"SELECT * FROM (SELECT {columns} FROM {tables['items']} AS item "
            f"LEFT JOIN {tables['incidents']} AS incident ON incident.id = item.incident_id "
            f"WHERE {where} AND item.status = %s ORDER BY {order} LIMIT %s OFFSET %s) AS column_{number}"
        )
        scan_params += [*where.params, status, size, offset]
    sql = (
        "SELECT page.id, page.incident_id, page.title, page.kind, page.category, page.status, "
        "page.ticket_url, page.due_date, page.incident_title, page.severity, "
        "person.username, person.first_name, person.last_name, profile.display_name, team.name "
        f"FROM ({' UNION ALL '.join(scans)}) AS page "
        f"JOIN {tables['people']} AS person ON person.id = page.owner_id "
        f"LEFT JOIN {tables['profiles']} AS profile ON profile.user_id = page.owner_id "
        f"LEFT JOIN {tables['teams']} AS team ON team.id = page.team_id"
    )
    with connection.cursor() as cursor:
        cursor.execute(sql, scan_params)
        rows = cursor.fetchall()
    cards: dict[str, list[BoardCard]] = {status: [] for status, _ in pages}
    for row in rows:
        (pk, incident_id, title, kind, category, status, ticket, due, *people) = row
        incident_title, severity, username, first_name, last_name, display_name, team_name = people
        # SQLite hands back dates as text; PostgreSQL as dates.
        due = dt.date.fromisoformat(due) if isinstance(due, str) else due
        cards[status].append(
            BoardCard(
                pk=pk,
                incident_id=incident_id,
                title=title,
                kind=kind,
                category=category,
                status=status,
                ticket_url=ticket,
                due_date=due,
                overdue=status in UNFINISHED and due < today,
                incident_title=incident_title or "",
                severity=severity,
                owner_name=name_from_columns(username, first_name, last_name, display_name),
                team_name=team_name or "",
            )
        )
    for column in cards.values():
        column.sort(key=lambda card: (card.due_date, card.pk), reverse=filters.descending)
    return cards


def _attach_reviews(cards: list[BoardCard]) -> None:
    """Where cards without an incident came from: one query, none when every card has an incident."""
    orphans = {card.pk: card for card in cards if card.incident_id is None}
    if not orphans:
        return
    # alerts_review.ReviewAction, reached through the reverse one-to-one so
    # this app does not import the alerts review's models.
    actions = RemediationItem.review_action.related.related_model.objects
    for action in actions.filter(remediation_id__in=orphans).select_related("review__team"):
        orphans[action.remediation_id].review = action.review


def board_columns(
    filters: BoardFilters, *, today: dt.date, page: int = 1, size: int = BOARD_COLUMN_SIZE
) -> list[BoardColumn]:
    """One column per status with its count and a page of cards.

    Two queries (counts, then every column's page), a third only when a page
    shows items from an alerts review; none for pages when nothing matches.
    Pages past the first apply when one status is asked for.
    """
    counts = column_counts(filters, today=today)
    offset = (max(page, 1) - 1) * size if filters.status else 0
    columns = [
        BoardColumn(status=status, label=STATUS_LABELS[status], count=counts.get(status, 0), offset=offset)
        for status in _shown(filters)
    ]
    pages = [(column.status, offset) for column in columns if offset < column.count]
    if pages:
        cards = _cards(filters, today=today, pages=pages, size=size)
        for column in columns:
            column.items = cards.get(column.status, [])
        _attach_reviews([card for column in columns for card in column.items])
    return columns
