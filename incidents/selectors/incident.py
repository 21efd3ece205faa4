"""Composed reads about incidents: the filtered list and search, history, presence, the check, the queue."""

import datetime as dt
import difflib
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any

from django.contrib.auth import get_user_model
from django.contrib.auth.models import User
from django.contrib.postgres.search import SearchQuery, SearchRank
from django.core.paginator import Paginator
from django.db import connection
from django.db.models import Count, F, Min, Q, QuerySet, Sum
from django.utils import timezone

from incidents import blameless
from incidents.drawing import Mark, timeline_svg
from incidents.models import (
    MILESTONES,
    POSTMORTEM_FIELDS,
    POSTMORTEM_SECTIONS,
    PRESENCE_WINDOW,
    BlamelessPhrase,
    EditorPresence,
    Impact,
    Incident,
    IncidentCount,
    ProblemType,
    ReviewMeeting,
    Revision,
    Status,
    TimelineEvent,
)
from incidents.models.incident import SEARCH_CONFIG, revision_field_label, severity_labels
from incidents.scheduling import suggest_slot
from morgue import permissions
from morgue.models import Profile, Team, display_name
from morgue.timezones import zone as zone_named


@dataclass(frozen=True)
class IncidentFilters:
    search: str = ""
    status: str = ""
    severity: int | None = None
    team: str = ""  # team slug
    tag: str = ""
    started_after: dt.datetime | None = None
    started_before: dt.datetime | None = None
    oldest_first: bool = False
    deleted: bool = False  # staff only: the deleted incidents instead of the visible ones


def incident_list(*, filters: IncidentFilters) -> QuerySet[Incident]:
    """Incidents matching the filters, most recent first (or best match first when searching)."""
    queryset = Incident.objects.deleted() if filters.deleted else Incident.objects.visible()
    queryset = queryset.for_list()
    if filters.status:
        queryset = queryset.filter(status=filters.status)
    if filters.severity:
        queryset = queryset.filter(severity=filters.severity)
    if filters.team:
        queryset = queryset.filter(team__slug=filters.team)
    if filters.tag:
        queryset = queryset.filter(tags__name=filters.tag)
    queryset = queryset.started_between(filters.started_after, filters.started_before)
    order = ["impact_started_at", "id"] if filters.oldest_first else ["-impact_started_at", "-id"]
    search = filters.search.strip()
    if not search:
        return queryset.order_by(*order)
    if connection.vendor == "postgresql":
        query = SearchQuery(search, search_type="websearch", config=SEARCH_CONFIG)
        # Ranking sorts every match: load team and facilitator for the page
        # only (two small queries) instead of joining them to every match.
        queryset = queryset.select_related(None).prefetch_related("team", "facilitator")
        return (
            queryset.filter(search_vector=query)
            .annotate(rank=SearchRank(F("search_vector"), query))
            .order_by("-rank", *order)
        )
    # SQLite: every word must appear in the title or the postmortem, in any case.
    for word in search.split():
        matches = Q(title__icontains=word)
        for name in POSTMORTEM_FIELDS:
            matches |= Q(**{f"{name}__icontains": word})
        queryset = queryset.filter(matches)
    return queryset.order_by(*order)


def count_incidents(*, filters: IncidentFilters) -> int:
    """How many incidents the list shows.

    Summed from IncidentCount (a few dozen rows kept by triggers) when only
    status, severity and team narrow the list; counted otherwise.
    """
    if filters.search.strip() or filters.tag or filters.started_after or filters.started_before:
        return incident_list(filters=filters).count()
    counts = IncidentCount.objects.filter(deleted=filters.deleted)
    if filters.status:
        counts = counts.filter(status=filters.status)
    if filters.severity:
        counts = counts.filter(severity=filters.severity)
    if filters.team:
        counts = counts.filter(team_key__in=Team.objects.filter(slug=filters.team).values("pk"))
    return counts.aggregate(total=Sum("total"))["total"] or 0


def incident_for_page(*, pk: int, user: User) -> Incident:
    """One incident with what its page shows; deleted ones only for staff (404 otherwise)."""
    queryset = Incident.objects.select_related(
        "team", "facilitator__profile", "contact__profile", "created_by"
    )
    if not permissions.allowed(user, "view_deleted", None, kind="incident"):
        queryset = queryset.visible()
    return queryset.prefetch_related("tags").get(pk=pk)


def _same_day_in(year: int, today: dt.date) -> dt.date | None:
    """This calendar day in an earlier year; Feb 29 exists only in leap years."""
    try:
        return today.replace(year=year)
    except ValueError:
        return None


HISTORY_SINCE_YEAR = 1970  # "today in history" looks no further back

HISTORY_SQL = """
SELECT found.id, found.title, found.severity, found.status, found.impact_started_at
  FROM unnest(%s::timestamptz[], %s::timestamptz[]) AS day(starts, ends)
 CROSS JOIN LATERAL (
       SELECT id, title, severity, status, impact_started_at FROM {incident}
        WHERE deleted_at IS NULL AND impact_started_at >= day.starts AND impact_started_at < day.ends
        ORDER BY impact_started_at DESC LIMIT %s) AS found
 ORDER BY found.impact_started_at DESC LIMIT %s
"""


def today_in_history(*, today: dt.date, zone: dt.tzinfo | None = None, limit: int = 10) -> list[Incident]:
    """Visible incidents that started on this calendar day (in `zone`, else the active one) in earlier years.

    One range of local midnight to midnight per earlier year since
    HISTORY_SINCE_YEAR, on the indexed start time: extracting month and day
    from every incident served no index and read every incident on each page.
    On PostgreSQL the ranges are one statement, an index probe each; elsewhere
    the oldest incident first bounds the years.
    """
    zone = zone or timezone.get_current_timezone()
    first_year = HISTORY_SINCE_YEAR
    if connection.vendor != "postgresql":
        oldest = Incident.objects.visible().aggregate(first=Min("impact_started_at"))["first"]
        if oldest is None:
            return []
        first_year = max(first_year, oldest.year - 1)
    # A day in the zone can fall in the previous UTC year: start one year early.
    days = filter(None, (_same_day_in(year, today) for year in range(first_year, today.year)))
    ranges = [
        (
            dt.datetime.combine(day, dt.time(0), tzinfo=zone),
            dt.datetime.combine(day + dt.timedelta(days=1), dt.time(0), tzinfo=zone),
        )
        for day in days
    ]
    if connection.vendor == "postgresql":
        sql = HISTORY_SQL.format(incident=Incident._meta.db_table)
        starts, ends = [start for start, _ in ranges], [end for _, end in ranges]
        return list(Incident.objects.raw(sql, [starts, ends, limit, limit]))
    within = Q(pk__in=[])
    for start, end in ranges:
        within |= Q(impact_started_at__gte=start, impact_started_at__lt=end)
    return list(
        Incident.objects.visible()
        .only("id", "title", "severity", "status", "impact_started_at")
        .filter(within)
        .order_by("-impact_started_at")[:limit]
    )


def others_editing(*, incident: Incident, user: User, now: dt.datetime | None = None) -> list[str]:
    """Names of the other people who opened this incident's editor in the last two minutes."""
    now = now or timezone.now()
    presences = (
        EditorPresence.objects.filter(incident=incident, seen_at__gte=now - PRESENCE_WINDOW)
        .exclude(user=user)
        .select_related("user__profile")
        .order_by("seen_at")
    )
    return [_name(presence.user) for presence in presences]


def _name(user: User) -> str:
    try:
        return user.profile.name
    except Profile.DoesNotExist:
        return user.get_full_name() or user.username


# --- The blameless-language check ------------------------------------------------


def blameless_phrases() -> list[blameless.Phrase]:
    """The built-in phrases merged with the team's own (which can replace or switch off a built-in)."""
    phrases = {phrase.text.lower(): phrase for phrase in blameless.DEFAULT_PHRASES}
    for row in BlamelessPhrase.objects.all():
        if row.active:
            phrases[row.text.lower()] = blameless.Phrase(row.text, row.reason, row.suggestion)
        else:
            phrases.pop(row.text.lower(), None)
    return list(phrases.values())


def people_names() -> list[str]:
    """First names, display names and usernames of everyone, for the person-as-cause rule."""
    names: set[str] = set()
    for username, first_name, display in get_user_model().objects.values_list(
        "username", "first_name", "profile__display_name"
    ):
        names.update(name for name in (username, first_name, display) if name and len(name) > 2)
    return sorted(names)


def check_text(*, text: str) -> list[blameless.Finding]:
    return blameless.check(text, phrases=blameless_phrases(), names=people_names())


def postmortem_findings(*, incident: Incident) -> list[dict[str, Any]]:
    """Findings of the check for each postmortem section, for the incident page."""
    phrases, names = blameless_phrases(), people_names()
    out = []
    for name, label, _ in POSTMORTEM_SECTIONS:
        for finding in blameless.check(getattr(incident, name), phrases=phrases, names=names):
            out.append({"section": name, "section_label": label, **finding.as_dict()})
    return out


# --- History -----------------------------------------------------------------------


@dataclass(frozen=True)
class FieldDiff:
    field: str
    label: str  # what people call the field (incidents.models.incident.revision_field_label)
    before: str
    after: str
    lines: list[tuple[str, str]]  # (kind: "same" | "added" | "removed", text)


def _text(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, list):
        return ", ".join(str(item) for item in value)
    return str(value)


def _shown_values(snapshots: Iterable[dict[str, Any]]) -> dict[str, dict[str, str]]:
    """How a snapshot's stored values read on the page: names for ids, labels for choices."""
    ids: dict[str, set[Any]] = {"team_id": set(), "contact_id": set(), "facilitator_id": set()}
    for state in snapshots:
        for name, found in ids.items():
            if state.get(name) is not None:
                found.add(state[name])
    teams = {str(team.pk): team.name for team in Team.objects.filter(pk__in=ids["team_id"])}
    user_ids = ids["contact_id"] | ids["facilitator_id"]
    people = {
        str(user.pk): display_name(user)
        for user in get_user_model().objects.filter(pk__in=user_ids).select_related("profile")
    }
    return {
        "team_id": teams,
        "contact_id": people,
        "facilitator_id": people,
        "severity": {str(level): label for level, label in severity_labels().items()},
        "status": {str(value): str(label) for value, label in Status.choices},
        "problem_type": {str(value): str(label) for value, label in ProblemType.choices},
        "impact_type": {str(value): str(label) for value, label in Impact.choices},
    }


def _shown(name: str, value: Any, shown: dict[str, dict[str, str]], zone: dt.tzinfo) -> str:
    text = _text(value)
    if name in shown and text:
        return shown[name].get(text, text)
    if name.endswith("_at") and text:
        instant = dt.datetime.fromisoformat(text)
        return instant.astimezone(zone).strftime("%Y-%m-%d %H:%M")
    return text


def revision_diff(*, older: Revision, newer: Revision) -> list[FieldDiff]:
    """What changed between two revisions, field by field, as line diffs under each field's label.

    Ids read as names, choices as their labels and times on the viewer's clock.
    """
    out = []
    shown = _shown_values([older.snapshot, newer.snapshot])
    zone = timezone.get_current_timezone()
    names = list(dict.fromkeys([*older.snapshot, *newer.snapshot]))
    for name in names:
        before = _shown(name, older.snapshot.get(name), shown, zone)
        after = _shown(name, newer.snapshot.get(name), shown, zone)
        if before == after:
            continue
        lines = []
        for line in difflib.ndiff(before.splitlines(), after.splitlines()):
            if line.startswith("?"):
                continue
            kind = {"+": "added", "-": "removed"}.get(line[:1], "same")
            lines.append((kind, line[2:]))
        label = revision_field_label(name)
        out.append(FieldDiff(field=name, label=label, before=before, after=after, lines=lines))
    return out


# --- Timeline picture ---------------------------------------------------------------


def timeline_picture(*, incident: Incident, events: Iterable[TimelineEvent], zone: dt.tzinfo) -> str:
    milestones = [Mark(at, label) for _, label, at in incident.milestones()]
    marks = [Mark(event.occurred_at, event.text[:120], event.kind) for event in events]
    return timeline_svg(
        milestones=milestones, events=marks, zone=zone, title=f"Timeline of “{incident.title}”"
    )


def milestone_rows(*, incident: Incident) -> list[dict[str, Any]]:
    """Each milestone with its source note and the time since the previous one that is set."""
    rows, previous = [], None
    for name, label in MILESTONES:
        at = getattr(incident, f"{name}_at")
        rows.append(
            {
                "name": name,
                "label": label,
                "at": at,
                "source": getattr(incident, f"{name}_source"),
                "since_previous": (at - previous).total_seconds() if at and previous else None,
            }
        )
        previous = at or previous
    return rows


# --- Review meetings ----------------------------------------------------------------


def suggested_review_slot(
    *, incident: Incident, facilitator: User, now: dt.datetime | None = None
) -> dt.datetime:
    """A free slot within five business days of resolution, on the facilitator's local calendar."""
    now = now or timezone.now()
    zone = zone_named(Profile.objects.for_user(facilitator).time_zone)
    busy = [
        (meeting.starts_at, meeting.ends_at)
        for meeting in ReviewMeeting.objects.filter(facilitator=facilitator, starts_at__gte=now).exclude(
            incident=incident
        )
    ]
    return suggest_slot(resolved_at=incident.resolved_at or now, now=now, zone=zone, busy=busy)


AWAITING_REVIEW = (Status.RESOLVED, Status.REVIEW_SCHEDULED)


REVIEW_QUEUE_PAGE_SIZE = 25
REVIEW_QUEUE_LISTS = ("needs_facilitator", "needs_meeting", "scheduled")


def review_queue(*, pages: Mapping[str, str | int | None] | None = None) -> dict[str, Any]:
    """Incidents awaiting a facilitator or a meeting, the scheduled meetings, each facilitator's load.

    The three lists are pages (REVIEW_QUEUE_PAGE_SIZE), each turned by its own
    number in `pages` (keyed by the list's name): a large organisation's queue
    holds thousands of resolved incidents.
    """
    pages = pages or {}
    base = (
        Incident.objects.visible()
        .select_related("team", "facilitator__profile")
        .defer("search_vector", *POSTMORTEM_FIELDS)
    )
    lists = {
        "needs_facilitator": base.filter(status=Status.RESOLVED, facilitator__isnull=True).order_by(
            "resolved_at", "id"
        ),
        "needs_meeting": base.filter(
            status=Status.RESOLVED, facilitator__isnull=False, review__isnull=True
        ).order_by("resolved_at", "id"),
        "scheduled": base.filter(status=Status.REVIEW_SCHEDULED)
        .select_related("review")
        .order_by("review__starts_at", "id"),
    }
    load = (
        get_user_model()
        .objects.filter(facilitated_incidents__isnull=False, facilitated_incidents__deleted_at__isnull=True)
        .annotate(
            active=Count(
                "facilitated_incidents", filter=Q(facilitated_incidents__status__in=AWAITING_REVIEW)
            ),
            reviewed=Count(
                "facilitated_incidents",
                filter=Q(facilitated_incidents__status__in=[Status.REVIEWED, Status.CLOSED]),
            ),
        )
        .select_related("profile")
        .order_by("-active", "username")
    )
    return {
        **{
            name: Paginator(queryset, REVIEW_QUEUE_PAGE_SIZE).get_page(pages.get(name))
            for name, queryset in lists.items()
        },
        "load": [
            {"person": _name(user), "user": user, "active": user.active, "reviewed": user.reviewed}
            for user in load
        ],
    }
