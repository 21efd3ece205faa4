from .deploy import PRODUCTION as PRODUCTION
from .deploy import Deploy as Deploy
from .deploy import DeployLink as DeployLink
from .deploy import DeployQuerySet as DeployQuerySet
from .graph import GraphSnapshot as GraphSnapshot
from .graph import GraphSnapshotQuerySet as GraphSnapshotQuerySet
from .graph import SnapshotStatus as SnapshotStatus
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

# Incidents and postmortems: revisions, presence, review meetings, blameless phrases.
from .incident import MILESTONES, POSTMORTEM_FIELDS, POSTMORTEM_SECTIONS, severity_choices, severity_labels
from .phrase import BlamelessPhrase
from .review import ReviewMeeting
from .revision import PRESENCE_WINDOW, EditorPresence, Revision

__all__ += [
    "MILESTONES",
    "POSTMORTEM_FIELDS",
    "POSTMORTEM_SECTIONS",
    "PRESENCE_WINDOW",
    "BlamelessPhrase",
    "EditorPresence",
    "ReviewMeeting",
    "Revision",
    "severity_choices",
    "severity_labels",
]
