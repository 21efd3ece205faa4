"""Remediation items: writing them, moving them along, closing the loop, and the daily digest."""

import datetime as dt
from typing import Any

from django.conf import settings
from django.contrib.auth.models import User
from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils import timezone

from incidents.exceptions import IncidentHasOpenItems
from incidents.models import (
    Incident,
    RemediationItem,
    RemediationPriority,
    RemediationStatus,
)
from incidents.models.remediation import default_due_date, incident_origin
from incidents.selectors.remediation import digest_items, items_blocking_close
from morgue import audit
from morgue.emails import send_email
from morgue.models import EmailDelivery, Profile, Team, display_name

# What a PATCH or the inline form may change (status goes through set_status).
EDITABLE_FIELDS = (
    "title",
    "description",
    "kind",
    "category",
    "owner",
    "team",
    "priority",
    "ticket_url",
    "due_date",
    "reminders_muted",
)

# What the audit trail compares on an edit: everything a person changes, status included.
AUDITED_FIELDS = (*EDITABLE_FIELDS, "status", "wont_do_reason")


def _validate_and_save(item: RemediationItem) -> RemediationItem:
    item.full_clean(exclude=["created_by", "incident"])
    item.save()
    return item


@transaction.atomic
def create_item(
    *,
    incident: Incident | None,
    title: str,
    kind: str,
    category: str,
    owner: User,
    description: str = "",
    team: Team | None = None,
    priority: str = RemediationPriority.NORMAL,
    ticket_url: str = "",
    due_date: dt.date | None = None,
    status: str = RemediationStatus.OPEN,
    wont_do_reason: str = "",
    reminders_muted: bool = False,
    created_by: User | None = None,
    origin_title: str = "",
    origin_url: str = "",
    now: dt.datetime | None = None,
) -> RemediationItem:
    """Add a remediation item to an incident, or to none with the title and page of where it came from."""
    now = now or timezone.now()
    if due_date is None:
        severity = incident.severity if incident is not None else None
        due_date = default_due_date(severity=severity, written_on=timezone.localdate(now))
    if incident is not None:
        origin_title, origin_url = incident_origin(incident)
    item = RemediationItem(
        incident=incident,
        origin_title=origin_title,
        origin_url=origin_url,
        title=title.strip(),
        description=description,
        kind=kind,
        category=category,
        owner=owner,
        team=team,
        priority=priority,
        ticket_url=ticket_url,
        due_date=due_date,
        reminders_muted=reminders_muted,
        created_by=created_by,
        created_at=now,
        updated_at=now,
    )
    item.set_status(status, reason=wont_do_reason, at=now)
    _validate_and_save(item)
    audit.record_created(item, actor=created_by)
    # Imported here: the trackers' workflows change items through this module.
    from incidents.services.trackers import request_issue_automatically

    request_issue_automatically(item=item)
    return item


@transaction.atomic
def update_item(
    *,
    item: RemediationItem,
    changes: dict[str, Any],
    status: str | None = None,
    wont_do_reason: str | None = None,
    now: dt.datetime | None = None,
    from_tracker: bool = False,
) -> RemediationItem:
    """Edit an item's fields and, when given, its status; all or nothing.

    A status change reaches the item's tracker issue, unless it came from there (`from_tracker`).
    """
    now = now or timezone.now()
    unknown = set(changes) - set(EDITABLE_FIELDS)
    if unknown:
        raise ValidationError({name: ["This field cannot be changed."] for name in sorted(unknown)})
    if item.incident_id:
        # The incident first, as before, so an edit and the incident's close
        # take their locks in the same order. It is locked on its own: an item
        # without an incident joins it on the nullable side, where PostgreSQL
        # refuses FOR UPDATE.
        Incident.objects.select_for_update().filter(pk=item.incident_id).first()
    item = RemediationItem.objects.select_for_update(of=("self",)).select_related("incident").get(pk=item.pk)
    before = audit.values(item, AUDITED_FIELDS)
    for name, value in changes.items():
        setattr(item, name, value.strip() if name == "title" else value)
    if status is not None:
        item.set_status(status, reason=wont_do_reason or "", at=now)
    elif wont_do_reason is not None and item.status == RemediationStatus.WONT_DO:
        item.wont_do_reason = wont_do_reason.strip()
    item.updated_at = now
    _validate_and_save(item)
    audit.record_changes(item, before=before, after=audit.values(item, AUDITED_FIELDS))
    if item.status != before["status"] and not from_tracker:
        from incidents.services.tracker_status import item_status_changed

        item_status_changed(item=item)
    return item


def follow_incident_title(*, incident: Incident) -> int:
    """After a rename, give an incident's items its new title as where they came from; how many changed."""
    items = RemediationItem.objects.filter(incident=incident).exclude(origin_title=incident.title)
    return items.update(origin_title=incident.title)


def change_status(
    *,
    item: RemediationItem,
    status: str,
    reason: str = "",
    now: dt.datetime | None = None,
    from_tracker: bool = False,
) -> RemediationItem:
    """Move an item to open, in progress, done, or won't do (with a reason)."""
    return update_item(
        item=item, changes={}, status=status, wont_do_reason=reason, now=now, from_tracker=from_tracker
    )


def assert_can_close(incident: Incident) -> None:
    """Refuse to close an incident while any of its remediation items is open or in progress."""
    blocking = items_blocking_close(incident)
    if blocking:
        raise IncidentHasOpenItems(blocking)


def _local_today(owner: User, now: dt.datetime) -> dt.date:
    return now.astimezone(Profile.objects.for_user(owner).zone).date()


def send_digest(*, owner: User, now: dt.datetime | None = None) -> EmailDelivery | None:
    """Email one person their overdue and soon-due items, at most once per local day.

    The delivery is keyed by the person and their local date: a second run
    the same day sends nothing; a send that fails leaves it for a retry.
    """
    now = now or timezone.now()
    today = _local_today(owner, now)
    items = digest_items(owner=owner, today=today)
    if not items or not owner.email:
        return None
    overdue = [item for item in items if item.is_overdue(today)]
    due_soon = [item for item in items if not item.is_overdue(today)]
    context = {
        "name": display_name(owner),
        "today": today,
        "overdue": overdue,
        "due_soon": due_soon,
        "count": len(items),
        "base_url": settings.MORGUE_BASE_URL,
        "board_url": f"{settings.MORGUE_BASE_URL}/remediations/?mine=1",
    }
    return send_email(
        name="remediation-digest",
        key=today.isoformat(),
        recipient=str(owner.pk),
        to=[owner.email],
        context=context,
    )
