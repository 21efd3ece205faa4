"""Shift arithmetic: handoff instants on the wall clock, and who holds each level.

No Django here. Every instant returned is an aware UTC datetime.

DST policy (also in the README, "On call"): handoffs are computed on the
rotation's local calendar, never by adding hours to a UTC instant.
- A handoff time that does not exist that day (spring forward) moves to the
  first valid instant after the gap (02:30 in a 02:00–03:00 gap → 03:00).
- A handoff time that happens twice (fall back) is the first occurrence
  (the earlier instant, `fold=0`).
"""

import datetime as dt
from collections.abc import Hashable, Sequence
from dataclasses import dataclass, field
from typing import Generic, TypeVar
from zoneinfo import ZoneInfo

from morgue.sleep import is_asleep

UTC = dt.UTC
MIN_LENGTH_DAYS = 1
MAX_LENGTH_DAYS = 28

# Whatever names a member to the caller (a user id in the app, a letter in tests).
Key = TypeVar("Key", bound=Hashable)


def local_instant(day: dt.date, at: dt.time, zone: ZoneInfo) -> dt.datetime:
    """The UTC instant of wall-clock `at` on `day` in `zone`, under the DST policy above."""
    naive = dt.datetime.combine(day, at.replace(tzinfo=None, fold=0))
    first = naive.replace(tzinfo=zone, fold=0)
    instant = first.astimezone(UTC)
    # A wall time inside a gap does not round-trip: zoneinfo maps it with the
    # offset from before the gap, landing after the gap's end. The first valid
    # instant after the gap is the moment the new offset starts.
    if instant.astimezone(zone).replace(tzinfo=None) != naive:
        return _gap_end(naive, zone)
    return instant


def _gap_end(naive: dt.datetime, zone: ZoneInfo) -> dt.datetime:
    """The first instant whose wall time is at or after `naive`, for a `naive` inside a gap."""
    before = naive.replace(tzinfo=zone, fold=0).utcoffset()
    after = naive.replace(tzinfo=zone, fold=1).utcoffset()
    assert before is not None and after is not None
    # Between these two instants the wall clock jumps over `naive`; offsets
    # change on whole minutes, so a binary search over minutes finds the jump.
    low = (naive - max(before, after)).replace(tzinfo=UTC)
    low_minute, high_minute = 0, int((abs(after - before)).total_seconds() // 60)
    while low_minute < high_minute:
        middle = (low_minute + high_minute) // 2
        instant = low + dt.timedelta(minutes=middle)
        if instant.astimezone(zone).replace(tzinfo=None) >= naive:
            high_minute = middle
        else:
            low_minute = middle + 1
    return low + dt.timedelta(minutes=low_minute)


@dataclass(frozen=True)
class Schedule:
    """The wall-clock rule of a rotation from an anchor shift onwards.

    Shift k (k >= anchor_number) starts on anchor_date + (k - anchor_number) ×
    length_days at the handoff time, in the zone. A rotation that is edited
    gets a new anchor at its next handoff, so earlier shifts keep the old rule.
    """

    zone: ZoneInfo
    length_days: int
    handoff: dt.time
    anchor_date: dt.date
    anchor_number: int = 0

    def start(self, number: int) -> dt.datetime:
        day = self.anchor_date + dt.timedelta(days=(number - self.anchor_number) * self.length_days)
        return local_instant(day, self.handoff, self.zone)

    def end(self, number: int) -> dt.datetime:
        return self.start(number + 1)

    def number_at(self, instant: dt.datetime) -> int:
        """The shift number in force at an instant (may be below the anchor: then extrapolated)."""
        local_day = instant.astimezone(self.zone).date()
        number = self.anchor_number + (local_day - self.anchor_date).days // self.length_days
        while self.start(number) > instant:
            number -= 1
        while self.start(number + 1) <= instant:
            number += 1
        return number


@dataclass(frozen=True)
class Member(Generic[Key]):
    key: Key
    experienced: bool = False


@dataclass
class History(Generic[Key]):
    """What level assignment needs to remember between shifts.

    `last_l1` maps a member to the last shift number they were L1 in;
    `previous_l1` is the L1 of the shift before the next one to plan;
    `experienced` holds everyone who has finished a shift in the rotation.
    """

    last_l1: dict[Key, int] = field(default_factory=dict)
    last_l2: dict[Key, int] = field(default_factory=dict)
    previous_l1: Key | None = None
    experienced: set[Key] = field(default_factory=set)


@dataclass(frozen=True)
class Assignment(Generic[Key]):
    number: int
    l1: Key
    l2: Key | None


class NoExperiencedMember(ValueError):
    pass


def check_members(members: Sequence[Member[Key]], *, has_l2: bool) -> None:
    """Refuse member lists that cannot staff a rotation, with a sentence."""
    if not members:
        raise ValueError("A rotation needs at least one member.")
    keys = [member.key for member in members]
    if len(set(keys)) != len(keys):
        raise ValueError("A person is listed twice in the rotation.")
    if has_l2:
        if len(members) < 2:
            raise ValueError("A rotation with L1 and L2 needs at least two members.")
        if not any(member.experienced for member in members):
            raise NoExperiencedMember(
                "A rotation with an L2 level needs at least one experienced member to be L2."
            )


def assign_levels(
    members: Sequence[Member[Key]],
    *,
    start: int,
    count: int,
    has_l2: bool,
    history: History[Key] | None = None,
) -> list[Assignment[Key]]:
    """Who is L1 and L2 for shifts start .. start+count-1.

    L1 goes to the member who has waited longest since their last L1 (never
    first, then in member order), so a stable rotation is a plain round robin
    and everyone is L1 once per cycle. L2 goes to the previous shift's L1 —
    who has just finished a shift, so is experienced — which makes L2 a round
    robin too; when that person is gone, the experienced member who has
    waited longest since their last L2. A first-timer is never L2.
    """
    check_members(members, has_l2=has_l2)
    history = history or History[Key]()
    order = {member.key: index for index, member in enumerate(members)}
    experienced = set(history.experienced) | {member.key for member in members if member.experienced}
    last_l1 = dict(history.last_l1)
    last_l2 = dict(history.last_l2)
    previous = history.previous_l1
    plan: list[Assignment[Key]] = []
    for number in range(start, start + count):
        queue = sorted(order, key=lambda key: (last_l1.get(key, -(10**9)), order[key]))
        l1 = queue[0]
        l2 = None
        if has_l2:
            l2 = _pick_l2(l1, previous, order, experienced, last_l2)
            if l2 is None:
                # Only one experienced member and it is their L1 turn: let the
                # next in the queue take L1 so the experienced one can be L2.
                l1 = queue[1]
                l2 = _pick_l2(l1, previous, order, experienced, last_l2)
            assert l2 is not None and l2 != l1
            last_l2[l2] = number
        last_l1[l1] = number
        plan.append(Assignment(number, l1, l2))
        # Finishing the shift makes both people experienced.
        experienced.add(l1)
        previous = l1
    return plan


def _pick_l2(
    l1: Key, previous: Key | None, order: dict[Key, int], experienced: set[Key], last_l2: dict[Key, int]
) -> Key | None:
    if previous is not None and previous != l1 and previous in order and previous in experienced:
        return previous
    candidates = [key for key in order if key != l1 and key in experienced]
    if not candidates:
        return None
    return min(candidates, key=lambda key: (last_l2.get(key, -(10**9)), order[key]))


@dataclass(frozen=True)
class Window:
    starts_at: dt.datetime
    ends_at: dt.datetime


def split(piece: Window, cut: Window) -> tuple[Window | None, Window | None, Window | None]:
    """Split `piece` by `cut`: the part before, the part covered, the part after (None when empty)."""
    start = max(piece.starts_at, cut.starts_at)
    end = min(piece.ends_at, cut.ends_at)
    if start >= end:
        return None, None, None
    before = Window(piece.starts_at, start) if piece.starts_at < start else None
    after = Window(end, piece.ends_at) if end < piece.ends_at else None
    return before, Window(start, end), after


def hours_in(
    window: Window, zone: dt.tzinfo, *, weekend: bool = False, night: tuple[dt.time, dt.time] | None = None
) -> float:
    """Hours of a window on a weekend (Sat/Sun) and/or inside a person's sleep hours, on `zone`'s wall clock.

    `night` is the (start, end) of the sleep hours, such as (22:00, 07:00),
    judged by morgue.sleep.is_asleep. The walk is in quarter hours of real
    time (every zone offset is a whole quarter hour), so a DST night is an
    hour shorter or longer, as it really is.
    """
    step = dt.timedelta(minutes=15)
    total = dt.timedelta()
    cursor = window.starts_at
    while cursor < window.ends_at:
        following = min(window.ends_at, cursor + step)
        counts = not weekend or cursor.astimezone(zone).weekday() >= 5
        if counts and night is not None:
            counts = is_asleep(cursor, zone, *night)
        if counts:
            total += following - cursor
        cursor = following
    return total.total_seconds() / 3600
