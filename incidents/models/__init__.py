from .incident import Impact, Incident, IncidentQuerySet, ProblemType, Severity, Status, Tag
from .timeline import EventKind, TimelineEvent

__all__ = [
    "EventKind",
    "Impact",
    "Incident",
    "IncidentQuerySet",
    "ProblemType",
    "Severity",
    "Status",
    "Tag",
    "TimelineEvent",
]

from .remediation import (
    Category,
    ItemStatus,
    Kind,
    Priority,
    RemediationDigest,
    RemediationItem,
    RemediationItemQuerySet,
)

__all__ += [
    "Category",
    "ItemStatus",
    "Kind",
    "Priority",
    "RemediationDigest",
    "RemediationItem",
    "RemediationItemQuerySet",
]
