"""Domain errors of the incidents app; morgue/rest.py maps them to HTTP."""

import datetime as dt
from collections.abc import Iterable, Sequence
from typing import TYPE_CHECKING

from morgue.exceptions import Conflict, MorgueError, NotAllowed

if TYPE_CHECKING:
    from incidents.models import RemediationItem


class StaleVersion(Conflict):
    """An edit based on an older version that changes what the newer one changed too.

    `conflicts` names the fields both saves changed (incidents.merging); `kept_mine`
    the fields only this edit changed, which a merged form keeps as typed.
    """

    def __init__(
        self,
        *,
        current_version: int,
        conflicts: Sequence[tuple[str, str]] = (),
        kept_mine: Sequence[str] = (),
    ):
        message = (
            f"Someone else saved this incident first (it is now at version {current_version}); "
            "reload it, merge your changes and save again."
        )
        if conflicts:
            message += f" Both of you changed: {', '.join(label for _, label in conflicts)}."
        super().__init__(message, field="version")
        self.current_version = current_version
        self.conflicts = [name for name, _ in conflicts]
        self.kept_mine = list(kept_mine)
        self.extra = {"version": current_version, "conflicts": self.conflicts}


class StatusChangeRefused(MorgueError):
    """A status change the rule (Incident.move_to) does not allow."""


class StatusContradictsTimes(StatusChangeRefused):
    """A status asked for alongside a resolution time that says otherwise (Incident.move_to)."""

    def __init__(self, *, status: str, resolved_at: "dt.datetime | None") -> None:
        if resolved_at is None:
            message = (
                f"status is {status} but resolved_at (Resolved) is empty: a {status} incident has a "
                "resolution time; give resolved_at, or set status to open to reopen it."
            )
        else:
            message = (
                "status is open but resolved_at (Resolved) is given: an open incident has no resolution "
                "time; clear resolved_at to reopen it, or leave status out (or set it to resolved)."
            )
        super().__init__(message, field="status")
        # Both fields are named in the API's field errors.
        self.extra = {"errors": {"status": [message], "resolved_at": [message]}}


class ReviewNotReady(MorgueError):
    pass


class IncidentHasOpenItems(Conflict):
    """The incident cannot close while remediation items are still to do."""

    def __init__(self, items: Iterable["RemediationItem"]) -> None:
        self.items = list(items)
        listed = "; ".join(
            f"“{item.title}” ({item.get_kind_display()}, {item.get_status_display().lower()})"
            for item in self.items
        )
        count = len(self.items)
        noun = "item is" if count == 1 else "items are"
        super().__init__(
            f"The incident cannot be closed while {count} remediation {noun} still open: {listed}.",
            field="status",
        )
        self.extra = {"blocking_items": [item.pk for item in self.items]}


class TrackerNotConfigured(MorgueError):
    """An issue asked for where no tracker is named (the item's team has none, or no address is set)."""


class IssueAlreadyAsked(Conflict):
    """A remediation item has its one tracker issue already (or it is being made)."""


class TrackerUnavailable(MorgueError):
    """A tracker that could not be reached or answered with a server error: worth trying again later."""

    status_code = 503


__all__ = [
    "IncidentHasOpenItems",
    "IssueAlreadyAsked",
    "NotAllowed",
    "ReviewNotReady",
    "StaleVersion",
    "StatusChangeRefused",
    "StatusContradictsTimes",
    "TrackerNotConfigured",
    "TrackerUnavailable",
]
