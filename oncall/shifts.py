"""Shift arithmetic: handoff instants on the wall clock, and who holds each level.

No Django here. Every instant returned is an aware UTC datetime.

DST policy (also in the README, "On call"): handoffs are computed on the
rotation's local calendar, never by adding hours to a UTC instant.
- A handoff time that does not exist that day (spring forward) moves to the
  first valid instant after the gap (02:30 in a 02:00–03:00 gap → 03:00).
- A handoff time that happens twice (fall back) is the first occurrence
  (the earlier instant, `fold=0`).
"""

import bisect
import datetime as dt
from collections.abc import Hashable, Iterator, Sequence
from dataclasses import dataclass, field
from typing import Generic, TypeVar
from zoneinfo import ZoneInfo

from morgue.sleep import is_asleep

UTC = dt.UTC
MIN_LENGTH_DAYS = 1
MAX_LENGTH_DAYS = 28
MIN_LENGTH_HOURS = 1
MAX_LENGTH_HOURS = MAX_LENGTH_DAYS * 24

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

    Shift k (k >= anchor_number) starts at the local wall time anchor_date +
    anchor_time (the handoff time when unset) + (k - anchor_number) × length,
    in the zone: the length is
    `length_hours` when set, else `length_days`. A length in days keeps the
    handoff time every day; a length in hours steps the local wall clock, so
    a 12-hour turn from 08:00 hands off at 08:00 and 20:00 local whatever the
    offset, and the turn spanning a DST change is an hour (or, in Lord Howe,
    half an hour) shorter or longer. A turn whose whole span falls inside a
    spring-forward gap is empty (its start and end are the same instant).
    A rotation that is edited gets a new anchor at its next handoff (its
    date and wall time, see `reanchor_wall`), so earlier shifts keep the old rule.
    """

    zone: ZoneInfo
    length_days: int
    handoff: dt.time
    anchor_date: dt.date
    anchor_number: int = 0
    length_hours: int | None = None
    anchor_time: dt.time | None = None

    @property
    def step(self) -> dt.timedelta:
        """The length of one turn on the local wall clock."""
        if self.length_hours:
            return dt.timedelta(hours=self.length_hours)
        return dt.timedelta(days=self.length_days)

    def _base(self) -> dt.datetime:
        time = self.anchor_time if self.anchor_time is not None else self.handoff
        return dt.datetime.combine(self.anchor_date, time.replace(tzinfo=None, fold=0))

    def wall_start(self, number: int) -> dt.datetime:
        """The naive local wall time at which shift `number` starts."""
        return self._base() + (number - self.anchor_number) * self.step

    def start(self, number: int) -> dt.datetime:
        wall = self.wall_start(number)
        return local_instant(wall.date(), wall.time(), self.zone)

    def end(self, number: int) -> dt.datetime:
        return self.start(number + 1)

    def number_at(self, instant: dt.datetime) -> int:
        """The shift number in force at an instant (may be below the anchor: then extrapolated)."""
        local = instant.astimezone(self.zone).replace(tzinfo=None)
        number = self.anchor_number + (local - self._base()) // self.step
        while self.start(number) > instant:
            number -= 1
        while self.start(number + 1) <= instant:
            number += 1
        return number


def reanchor_wall(
    *, wall: dt.datetime, handoff: dt.time, step: dt.timedelta, moved_handoff: bool
) -> dt.datetime:
    """The naive local wall time at which an edited rule's first turn is anchored.

    `wall` is the next handoff of the rule before the edit (where the new rule's
    first turn begins). Turns in days keep the handoff time on that date, so a
    moved handoff makes the first turn a little longer or shorter. Turns in
    hours are anchored at `wall` itself, so the new length counts from the
    next handoff; when the handoff time moved too, at the new rule's handoff
    (handoff + i × length from that date) nearest to `wall`, ties later, so
    the first turn lasts between half a turn and one and a half.
    """
    on_date = dt.datetime.combine(wall.date(), handoff.replace(tzinfo=None, fold=0))
    if step % dt.timedelta(days=1) == dt.timedelta():
        return on_date
    if not moved_handoff:
        return wall
    turns = (wall - on_date + step / 2) // step
    return on_date + turns * step


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


# --- Restrictions: weekly windows in which a rotation is active --------------------------------

WEEKDAYS = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")
# No active piece is longer than a week, so shift pieces stay shorter than the
# longest shift even when the windows join up into the whole week.
LONGEST_ACTIVE = dt.timedelta(days=7)


@dataclass(frozen=True)
class WeeklyWindow:
    """From `start_time` on `start_day` to `end_time` on `end_day` (0 = Monday), every week, local.

    A window ends on a later day than it starts when it crosses midnight
    (Fri 17:00 → Mon 09:00); on the same day it must end after it starts.
    """

    start_day: int
    start_time: dt.time
    end_day: int
    end_time: dt.time

    @property
    def days_spanned(self) -> int:
        return (self.end_day - self.start_day) % 7

    def as_dict(self) -> dict[str, str]:
        return {
            "start_day": WEEKDAYS[self.start_day],
            "start_time": self.start_time.strftime("%H:%M"),
            "end_day": WEEKDAYS[self.end_day],
            "end_time": self.end_time.strftime("%H:%M"),
        }


DAY_NAMES = ("monday", "tuesday", "wednesday", "thursday", "friday", "saturday", "sunday")


def _parse_day(value: object, where: str) -> int:
    name = value.strip().lower() if isinstance(value, str) else ""
    if name in WEEKDAYS:
        return WEEKDAYS.index(name)
    if name in DAY_NAMES:
        return DAY_NAMES.index(name)
    raise ValueError(f"{where}: {value!r} is not a weekday (mon, tue, wed, thu, fri, sat or sun).")


def _parse_time(value: object, where: str) -> dt.time:
    if isinstance(value, dt.time):
        return value.replace(second=0, microsecond=0, tzinfo=None)
    if isinstance(value, str):
        try:
            hours, minutes = value.strip().split(":")
            if len(minutes) == 2:
                return dt.time(int(hours), int(minutes))
        except ValueError:
            pass
    raise ValueError(f"{where}: {value!r} is not a time as HH:MM (for example 09:00).")


def parse_restrictions(value: object) -> list[WeeklyWindow]:
    """Weekly windows from their stored form (a list of day/time dicts); ValueError with a sentence."""
    if value is None:
        return []
    if not isinstance(value, list):
        raise ValueError("Restrictions are a list of windows.")
    windows = []
    keys = {"start_day", "start_time", "end_day", "end_time"}
    for index, item in enumerate(value, start=1):
        where = f"Window {index}"
        if isinstance(item, WeeklyWindow):
            windows.append(item)
            continue
        if not isinstance(item, dict) or set(item) != keys:
            raise ValueError(f"{where} needs exactly start_day, start_time, end_day and end_time.")
        window = WeeklyWindow(
            _parse_day(item["start_day"], where),
            _parse_time(item["start_time"], where),
            _parse_day(item["end_day"], where),
            _parse_time(item["end_time"], where),
        )
        if window.days_spanned == 0 and window.end_time <= window.start_time:
            raise ValueError(
                f"{where} ends before it starts on the same day; to cross midnight, end it on a later day."
            )
        windows.append(window)
    return windows


def active_windows(
    restrictions: Sequence[WeeklyWindow], zone: ZoneInfo, since: dt.datetime
) -> Iterator[Window]:
    """The instants a restricted rotation is active, from the window in force at `since` on, for ever.

    Each weekly window starts and ends at its local wall times under the DST
    policy of local_instant; overlapping or touching windows are joined (into
    pieces of at most a week). With no restrictions there is nothing to yield:
    callers treat an unrestricted rotation as always active.
    """
    if not restrictions:
        return
    day = since.astimezone(zone).date() - dt.timedelta(days=8)
    current: Window | None = None
    while True:
        starting = sorted(
            (
                Window(
                    local_instant(day, window.start_time, zone),
                    local_instant(day + dt.timedelta(days=window.days_spanned), window.end_time, zone),
                )
                for window in restrictions
                if window.start_day == day.weekday()
            ),
            key=lambda window: (window.starts_at, window.ends_at),
        )
        for window in starting:
            if window.ends_at <= window.starts_at:
                continue  # both ends fell in the same DST gap
            if current is not None and window.starts_at <= current.ends_at:
                current = Window(current.starts_at, max(current.ends_at, window.ends_at))
            else:
                if current is not None and current.ends_at > since:
                    yield current
                current = window
            while current.ends_at - current.starts_at > LONGEST_ACTIVE:
                head = Window(current.starts_at, current.starts_at + LONGEST_ACTIVE)
                if head.ends_at > since:
                    yield head
                current = Window(head.ends_at, current.ends_at)
        day += dt.timedelta(days=1)


def restrict(turns: Sequence[tuple[int, Window]], active: Iterator[Window]) -> list[tuple[int, Window]]:
    """Cut each numbered turn to the active windows (wall-time advance: restrictions only mask)."""
    pieces: list[tuple[int, Window]] = []
    pending: list[Window] = []
    for number, turn in turns:
        while True:
            while pending and pending[0].ends_at <= turn.starts_at:
                pending.pop(0)
            if pending and pending[-1].ends_at >= turn.ends_at:
                break
            following = next(active)
            pending.append(following)
        for window in pending:
            _, covered, _ = split(turn, window)
            if covered is not None:
                pieces.append((number, covered))
    return pieces


def on_duty_turns(
    *,
    start: dt.datetime,
    length: dt.timedelta,
    first_number: int,
    until: dt.datetime,
    active: Iterator[Window],
) -> list[tuple[int, Window]]:
    """Turns that hand off after `length` of time on duty (inside the active windows), from `start`.

    Returns the pieces of each turn, numbered; the last turn that starts
    before `until` is complete (it may end after `until`).
    """
    pieces: list[tuple[int, Window]] = []
    number, remaining = first_number, length
    for window in active:
        cursor = max(window.starts_at, start)
        if remaining == length and cursor >= until:
            break
        while cursor < window.ends_at:
            if remaining == length and cursor >= until:
                return pieces
            taken = min(window.ends_at - cursor, remaining)
            pieces.append((number, Window(cursor, cursor + taken)))
            cursor += taken
            remaining -= taken
            if not remaining:
                number, remaining = number + 1, length
    return pieces


# --- Layers: several rotations serving one level of a team --------------------------------------

Rank = TypeVar("Rank", bound=tuple[int, ...])


def resolve_layers(pieces: Sequence[tuple[Rank, Window]]) -> list[list[tuple[Window, bool]]]:
    """For each piece, its parts and whether each is masked: covered by a piece of a better rank.

    A rank orders the rotations (smaller wins: the higher layer, then the
    older rotation), so the result does not depend on the order of `pieces`.
    Within one rank pieces never overlap, so where anyone has someone, exactly
    one unmasked part covers the instant: the best-ranked rotation's.
    """
    # Each rank's pieces sorted by start, with its longest piece: a piece that
    # starts a longest-length or more before another ends before it starts, so
    # a bisection finds every candidate overlap (n log n, not n squared: a
    # team's hourly layer has thousands of pieces over the horizon).
    index: dict[Rank, tuple[list[dt.datetime], list[Window], dt.timedelta]] = {}
    for rank, piece in sorted(pieces, key=lambda item: (item[0], item[1].starts_at)):
        starts, windows, longest = index.setdefault(rank, ([], [], dt.timedelta()))
        starts.append(piece.starts_at)
        windows.append(piece)
        index[rank] = (starts, windows, max(longest, piece.ends_at - piece.starts_at))
    ranks = sorted(index)
    resolved = []
    for rank, piece in pieces:
        overlaps: list[tuple[dt.datetime, dt.datetime]] = []
        for other_rank in ranks:
            if not other_rank < rank:
                break
            starts, windows, longest = index[other_rank]
            low = bisect.bisect_right(starts, piece.starts_at - longest)
            high = bisect.bisect_left(starts, piece.ends_at)
            overlaps.extend(
                (max(other.starts_at, piece.starts_at), min(other.ends_at, piece.ends_at))
                for other in windows[low:high]
                if piece.starts_at < other.ends_at
            )
        cuts = sorted(overlaps)
        parts: list[tuple[Window, bool]] = []
        cursor = piece.starts_at
        for start, end in cuts:
            if end <= cursor:
                continue
            if start > cursor:
                parts.append((Window(cursor, start), False))
            masked_start = max(start, cursor)
            if parts and parts[-1][1] and parts[-1][0].ends_at == masked_start:
                parts[-1] = (Window(parts[-1][0].starts_at, end), True)
            else:
                parts.append((Window(masked_start, end), True))
            cursor = end
        if cursor < piece.ends_at:
            parts.append((Window(cursor, piece.ends_at), False))
        resolved.append(parts)
    return resolved
