"""The neutral plan every source is translated into, before anything touches the database.

No Django here. A source module (pagerduty, …) reads that vendor's JSON and
fills a Plan; the applier writes it; the verifier compares Morgue's result
with the `timeline` the source rendered itself. Whatever a source has that
Morgue cannot express goes into `problems`, by name and with the reason, so
nothing is dropped silently.
"""

import datetime as dt
from dataclasses import dataclass, field


class ImportFailed(Exception):
    """The import cannot go on; str() is the sentence shown to people. Nothing was written."""


@dataclass(frozen=True)
class Person:
    key: str  # the source's user id
    name: str
    email: str
    time_zone: str


@dataclass(frozen=True)
class RotationPlan:
    """One round robin of people, handing off on the wall clock of `time_zone`.

    Turn `k` (k may be negative) starts at the local wall time
    `virtual_start + k × turn_hours`, and is held by members[k mod len(members)].
    Restrictions are weekly windows as oncall.shifts.parse_restrictions reads them.
    The higher `layer` wins where it has someone.
    """

    key: str
    name: str
    time_zone: str
    virtual_start: dt.datetime  # naive, local wall time of turn 0
    turn_hours: int
    members: tuple[str, ...]  # person keys, in turn order
    restrictions: tuple[tuple[tuple[str, str], ...], ...] = ()
    advance: str = "wall_time"
    layer: int = 1
    # In force from `starts_at` (None: already) until `ends_at` (None: it goes on); aware UTC.
    starts_at: dt.datetime | None = None
    ends_at: dt.datetime | None = None

    def restriction_dicts(self) -> list[dict[str, str]]:
        return [dict(window) for window in self.restrictions]


@dataclass(frozen=True)
class OverridePlan:
    person: str
    starts_at: dt.datetime
    ends_at: dt.datetime
    rotation: str | None = None  # the rotation key it replaces; None: the whole schedule (the top layer)
    layer: int | None = None  # or: the rotation of the highest layer up to this one (an event at a level)
    name: str = ""


@dataclass(frozen=True)
class TimelineEntry:
    """Who the source says is on call from `starts_at` to `ends_at` (None: nobody)."""

    starts_at: dt.datetime
    ends_at: dt.datetime
    person: str | None


@dataclass
class SchedulePlan:
    """A source schedule: it becomes a Morgue team whose L1 is served by the rotations as layers."""

    key: str
    name: str
    slug: str
    time_zone: str
    rotations: list[RotationPlan] = field(default_factory=list)
    overrides: list[OverridePlan] = field(default_factory=list)
    timeline: list[TimelineEntry] = field(default_factory=list)
    escalation_minutes: int | None = None
    fallback: str | None = None  # the key of the schedule paged when this one does not answer
    # L2 is Morgue's own: the previous turn's L1 of the team's one rotation
    # (oncall.shifts.assign_levels). Set when the source's second rule pages exactly that.
    has_l2: bool = False
    l2_timeline: list[TimelineEntry] | None = None  # the source's own rendering of that L2, when it has one
    person_step: bool = False  # made for an escalation rule that pages one fixed person


@dataclass(frozen=True)
class HistoryAlert:
    identity: str
    title: str
    fired_at: dt.datetime
    resolved_at: dt.datetime | None
    schedule: str | None  # the key of the schedule whose team it belongs to
    severity: str = ""
    state: str = ""


@dataclass(frozen=True)
class Problem:
    """A record Morgue cannot express, by name, and why."""

    kind: str
    name: str
    reason: str
    # Blocking: importing without it would change who is on call, so nothing is applied.
    # Not blocking: an approximation or something with no future effect, only reported.
    blocks: bool = True

    def __str__(self) -> str:
        return f"cannot import {self.kind} {self.name!r}: {self.reason}"


@dataclass
class Plan:
    source: str
    people: dict[str, Person] = field(default_factory=dict)
    schedules: list[SchedulePlan] = field(default_factory=list)
    history: list[HistoryAlert] = field(default_factory=list)
    problems: list[Problem] = field(default_factory=list)
    since: dt.datetime | None = None  # the rendered timelines cover since .. until
    until: dt.datetime | None = None
