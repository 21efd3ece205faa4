"""Compare Morgue's who-is-on-call with the source's own rendered timeline, at every change point.

Between two consecutive change points (a boundary of a source entry or of a
Morgue shift piece) neither side changes, so comparing at each change point
is comparing minute by minute. Morgue's side is the one rule for "who holds
a level at an instant", oncall.selectors.Holders, over the layer-resolved
pieces: what pages, feeds and the alerts review read.
"""

import datetime as dt
import itertools
from dataclasses import dataclass

from django.contrib.auth.models import User

from morgue.models import Team

from ..models import Level, Shift
from ..selectors import Holders
from .apply import Applied
from .plan import Plan, TimelineEntry


@dataclass(frozen=True)
class Difference:
    starts_at: dt.datetime
    ends_at: dt.datetime
    team: str
    level: str
    source_says: str
    morgue_says: str

    def __str__(self) -> str:
        return (
            f"{self.starts_at:%Y-%m-%d %H:%M} – {self.ends_at:%Y-%m-%d %H:%M} UTC  {self.team} {self.level}: "
            f"source says {self.source_says}, Morgue says {self.morgue_says}"
        )


def _name(user: User | None) -> str:
    if user is None:
        return "nobody"
    return f"{user.get_full_name() or user.username} <{user.email}>"


def _source_at(entries: list[TimelineEntry], at: dt.datetime) -> list[str]:
    """Everyone the source has on call at an instant (Opsgenie's rotations can overlap)."""
    return sorted(
        {entry.person for entry in entries if entry.person and entry.starts_at <= at < entry.ends_at}
    )


def verify(*, plan: Plan, applied: Applied) -> list[Difference]:
    """Every stretch over plan.since .. plan.until where Morgue's L1 or L2 differs from the source's timeline.

    L2 is compared where the source renders it itself: a secondary schedule
    the escalation maps onto Morgue's L2 (oncall.importers.escalation).
    """
    assert plan.since is not None and plan.until is not None
    differences: list[Difference] = []
    for schedule in plan.schedules:
        team = applied.teams[schedule.key]
        levels = [(Level.L1, schedule.timeline)]
        if schedule.l2_timeline is not None:
            levels.append((Level.L2, schedule.l2_timeline))
        for level, timeline in levels:
            differences.extend(_compare(plan.since, plan.until, team, level, timeline, applied))
    return differences


def _compare(
    since: dt.datetime,
    until: dt.datetime,
    team: Team,
    level: str,
    timeline: list[TimelineEntry],
    applied: Applied,
) -> list[Difference]:
    differences: list[Difference] = []
    entries = [entry for entry in timeline if entry.ends_at > since and entry.starts_at < until]
    pieces = Shift.objects.filter(rotation__team=team, level=level).overlapping(since, until)
    points = {since, until}
    for entry in entries:
        points.update((entry.starts_at, entry.ends_at))
    for starts_at, ends_at in pieces.values_list("starts_at", "ends_at"):
        points.update((starts_at, ends_at))
    instants = sorted(point for point in points if since <= point <= until)
    holders = Holders(level=level, team_ids=[team.pk], instants=[since, until])
    for start, end in itertools.pairwise(instants):
        keys = _source_at(entries, start)
        key = keys[0] if keys else None
        expected = applied.people.get(key) if key else None
        held = holders.person(team.pk, start)
        if len(keys) > 1:
            says = " and ".join(_name(applied.people.get(key)) for key in keys) + " at once"
        elif key and expected is None:
            says = f"unknown person {key}"
        else:
            says = _name(expected)
            if (expected.pk if expected else None) == (held.pk if held else None):
                continue
        found = _name(held)
        last = differences[-1] if differences else None
        joins = last is not None and last.ends_at == start
        if last is not None and joins and (last.source_says, last.morgue_says) == (says, found):
            differences[-1] = Difference(last.starts_at, end, team.name, level, says, found)
        else:
            differences.append(Difference(start, end, team.name, level, says, found))
    return differences
