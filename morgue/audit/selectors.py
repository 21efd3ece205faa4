"""Reading the audit trail: the filters staff use on /audit/, the CSV and GET /api/v1/audit/."""

import datetime as dt
from dataclasses import dataclass

from django.db.models import QuerySet

from morgue.models import AuditEntry


@dataclass(frozen=True)
class AuditFilters:
    """What a reader narrowed the trail to; each empty value means "any"."""

    actor: str = ""  # a person's user name; "system" for entries without one
    kind: str = ""  # app_label.model_name
    object_id: str = ""
    action: str = ""
    since: dt.datetime | None = None  # inclusive
    until: dt.datetime | None = None  # exclusive


def audit_entries(filters: AuditFilters) -> QuerySet[AuditEntry]:
    """The entries matching `filters`, newest first (ordered on the (at, id) index)."""
    entries = AuditEntry.objects.all()
    if filters.actor == "system":
        entries = entries.filter(actor_label="")
    elif filters.actor:
        entries = entries.filter(actor_label=filters.actor)
    if filters.kind:
        entries = entries.filter(kind=filters.kind)
    if filters.object_id:
        entries = entries.filter(object_id=filters.object_id)
    if filters.action:
        entries = entries.filter(action=filters.action)
    if filters.since is not None:
        entries = entries.filter(at__gte=filters.since)
    if filters.until is not None:
        entries = entries.filter(at__lt=filters.until)
    return entries.order_by("-at", "-id")


def known_kinds() -> list[str]:
    """The kinds of object the trail holds, for the filter's choices."""
    return list(AuditEntry.objects.order_by("kind").values_list("kind", flat=True).distinct())
