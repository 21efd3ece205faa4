"""Composed reads for the project-level pages."""

from typing import Any

from django.contrib.auth import get_user_model
from django.contrib.auth.models import User
from django.db import connection
from django.db.models import Case, Q, Value, When
from django.utils import timezone

from alerts_review.selectors import month_figures
from incidents.models import Incident, RemediationItem, Status
from incidents.selectors.incident import today_in_history
from incidents.selectors.running import roles_held
from morgue.models import Profile, display_name
from oncall.selectors import OnCallRow, on_call_now, open_pages_for

HOME_LIST_SIZE = 10
HOME_ON_CALL_ROWS = 12


def _on_call_panel(rows: list[OnCallRow], *, user: User) -> tuple[list[OnCallRow], int]:
    """The rows the home page shows: the person's own, then their teams', then others, up to a bound.

    The rest (the count is returned) are on /oncall/; the panel keeps the
    rows' team and rotation order.
    """
    username = user.get_username()
    mine = set(user.teams.values_list("slug", flat=True))

    def rank(index_row: tuple[int, OnCallRow]) -> tuple[int, int]:
        index, row = index_row
        return (0 if row.user == username else 1 if row.team in mine else 2, index)

    chosen = sorted(sorted(enumerate(rows), key=rank)[:HOME_ON_CALL_ROWS])
    return [row for _, row in chosen], len(rows) - len(chosen)


def home_context(*, user: User) -> dict[str, Any]:
    """What a person needs at a glance, in a bounded number of queries."""
    zone = Profile.objects.for_user(user).zone
    now = timezone.now()
    today = now.astimezone(zone).date()
    on_call = on_call_now(at=now)
    open_incidents = list(
        Incident.objects.open()
        .select_related("team")
        .only("id", "title", "severity", "status", "impact_started_at", "team__name")
        .order_by("severity", "impact_started_at")[:HOME_LIST_SIZE]
    )
    awaiting = (
        Incident.objects.visible()
        .filter(status__in=[Status.RESOLVED, Status.REVIEW_SCHEDULED])
        .select_related("facilitator__profile")
        .only(
            "id",
            "title",
            "severity",
            "status",
            "resolved_at",
            "facilitator__username",
            "facilitator__first_name",
            "facilitator__last_name",
            "facilitator__profile__display_name",
        )
        .order_by("resolved_at", "id")
    )
    # The person's own first, then everyone else's: two short reads on indexes
    # (the facilitator, incident_awaiting_review) in one statement (UNION ALL),
    # instead of sorting every incident awaiting review to put the person's first.
    # SQLite cannot limit the parts of a UNION: there, two statements.
    own = awaiting.filter(facilitator=user).annotate(mine=Value(0))[:HOME_LIST_SIZE]
    others = awaiting.exclude(facilitator=user).annotate(mine=Value(1))[:HOME_LIST_SIZE]
    if connection.features.supports_slicing_ordering_in_compound:
        both = own.union(others, all=True).order_by("mine", "resolved_at", "id")
        awaiting_review = list(both[:HOME_LIST_SIZE])
    else:
        awaiting_review = [*own, *others][:HOME_LIST_SIZE]
    overdue = list(
        RemediationItem.objects.visible()
        .unfinished()
        .overdue(today)
        .filter(owner=user)
        # The list shows the stored origin (title and address): no join is needed.
        .only("id", "incident_id", "title", "kind", "due_date", "origin_title", "origin_url")
        .order_by("due_date", "id")[:HOME_LIST_SIZE]
    )
    shown, more = _on_call_panel(on_call, user=user)
    return {
        "now": now,
        "open_pages": open_pages_for(user=user),
        "on_call": shown,
        "on_call_more": more,
        "my_on_call": [row for row in on_call if row.user == user.get_username()],
        "open_incidents": open_incidents,
        "my_roles": roles_held(user=user),
        "awaiting_review": awaiting_review,
        "overdue_items": overdue,
        "alerts": month_figures(month=today.replace(day=1), zone=zone),
        "alerts_month": today.replace(day=1),
        "history": today_in_history(today=today, zone=zone),
        "today": today,
    }


PEOPLE_SUGGESTED = 20


def people_suggested(*, text: str) -> list[dict[str, str]]:
    """At most PEOPLE_SUGGESTED active people whose username or name contains `text`, usernames first."""
    text = text.strip()
    if not text:
        return []
    people = (
        get_user_model()
        .objects.filter(is_active=True)
        .filter(
            Q(username__icontains=text)
            | Q(first_name__icontains=text)
            | Q(last_name__icontains=text)
            | Q(profile__display_name__icontains=text)
        )
        .select_related("profile")
        .annotate(by_username=Case(When(username__istartswith=text, then=Value(0)), default=Value(1)))
        .order_by("by_username", "username")[:PEOPLE_SUGGESTED]
    )
    return [{"username": person.username, "name": display_name(person)} for person in people]
