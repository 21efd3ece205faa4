from .incident import Impact, Incident, IncidentCount, IncidentQuerySet, ProblemType, Severity, Status, Tag
from .timeline import EventKind, TimelineEvent

__all__ = [
    "EventKind",
    "Impact",
    "Incident",
    "IncidentCount",
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
    RemediationCount,
    RemediationItem,
    RemediationItemQuerySet,
    RemediationKind,
    RemediationPriority,
    RemediationStatus,
)

__all__ += [
    "RemediationCategory",
    "RemediationCount",
    "RemediationItem",
    "RemediationItemQuerySet",
    "RemediationKind",
    "RemediationPriority",
    "RemediationStatus",
]

# Incidents and postmortems: revisions, presence, review meetings, blameless phrases.
from .incident import (  # noqa: E402
    MILESTONES,
    POSTMORTEM_FIELDS,
    POSTMORTEM_SECTIONS,
    severity_choices,
    severity_labels,
)
from .phrase import BlamelessPhrase  # noqa: E402
from .review import CancellationReason, ReviewCancellation, ReviewMeeting  # noqa: E402
from .revision import PRESENCE_WINDOW, EditorPresence, Revision  # noqa: E402

__all__ += [
    "MILESTONES",
    "POSTMORTEM_FIELDS",
    "POSTMORTEM_SECTIONS",
    "PRESENCE_WINDOW",
    "BlamelessPhrase",
    "CancellationReason",
    "EditorPresence",
    "ReviewCancellation",
    "ReviewMeeting",
    "Revision",
    "severity_choices",
    "severity_labels",
]

# Running an incident: roles, status updates, subscribers, postmortem templates.
from .running import (  # noqa: E402
    PostmortemTemplate,
    RoleAssignment,
    RoleKind,
    StatusUpdate,
    Subscription,
    UpdateDelivery,
    UpdateDeliveryStatus,
)

__all__ += [
    "PostmortemTemplate",
    "RoleAssignment",
    "RoleKind",
    "StatusUpdate",
    "Subscription",
    "UpdateDelivery",
    "UpdateDeliveryStatus",
]
# The chat channel an incident is run in.
from .chat import ROOM_KINDS, ChannelSetup, ChatProvider, IncidentChannel, SlackUserGroup  # noqa: E402
from .running import RoleChangeDelivery  # noqa: E402

__all__ += [
    "ROOM_KINDS",
    "ChannelSetup",
    "ChatProvider",
    "IncidentChannel",
    "RoleChangeDelivery",
    "SlackUserGroup",
]


# Remediation items followed up in a team's tracker.
from .tracker import (  # noqa: E402
    RemoteState,
    TeamTracker,
    TrackerIssue,
    TrackerIssueStatus,
    TrackerKind,
)

__all__ += [
    "RemoteState",
    "TeamTracker",
    "TrackerIssue",
    "TrackerIssueStatus",
    "TrackerKind",
]
