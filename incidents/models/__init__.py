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
    RemediationCategory,
    RemediationDigest,
    RemediationItem,
    RemediationItemQuerySet,
    RemediationKind,
    RemediationPriority,
    RemediationStatus,
)

__all__ += [
    "RemediationCategory",
    "RemediationDigest",
    "RemediationItem",
    "RemediationItemQuerySet",
    "RemediationKind",
    "RemediationPriority",
    "RemediationStatus",
]
