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
from .deploy import PRODUCTION as PRODUCTION
from .deploy import Deploy as Deploy
from .deploy import DeployLink as DeployLink
from .deploy import DeployQuerySet as DeployQuerySet
from .graph import GraphSnapshot as GraphSnapshot
from .graph import GraphSnapshotQuerySet as GraphSnapshotQuerySet
from .graph import SnapshotStatus as SnapshotStatus
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
