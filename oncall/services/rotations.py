"""Teams and rotations, and the shifts materialised from them."""

import datetime as dt
from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from django.contrib.auth import get_user_model
from django.contrib.auth.models import Group, User
from django.core.exceptions import ValidationError
from django.db import transaction
from django.db.models import Max, Q, QuerySet
from django.utils import timezone

from morgue import audit
from morgue.services import ENGINEERS_GROUP

from .. import shifts as shift_rules
from ..exceptions import RotationInvalid
from ..models import (
    Advance,
    Level,
    Override,
    Rotation,
    RotationMember,
    Shift,
    ShiftSource,
    Team,
)
from .changes import PersonChange, compare, snapshot, tell_people

HORIZON = dt.timedelta(days=180)
DEFAULT_ESCALATION_MINUTES = 15


@dataclass(frozen=True)
class MemberSpec:
    user: User
    experienced: bool = False


@transaction.atomic
def create_team(*, name: str, slug: str, **fields: Any) -> Team:
    """Create a team (fallback: Ops, when empty)."""
    team = Team(name=name, slug=slug, **fields)
    team.full_clean()
    team.save()
    audit.record_created(team)
    return team


@transaction.atomic
def update_team(*, team: Team, **fields: Any) -> Team:
    """Change a team's settings (its webhook, fallback, notification settings)."""
    before = audit.values(team)
    for name, value in fields.items():
        setattr(team, name, value)
    if team.fallback_team_id == team.pk and team.pk:
        raise RotationInvalid("A team cannot be its own fallback.", field="fallback_team")
    team.full_clean()
    team.save()
    audit.record_changes(team, before=before, after=audit.values(team))
    return team


def _member_names(rotation: Rotation) -> list[str]:
    """The rotation's people in order, as the audit trail shows them."""
    return [
        member.user.get_username() for member in rotation.members.select_related("user").order_by("position")
    ]


@transaction.atomic
def create_rotation(
    *,
    team: Team,
    name: str,
    slug: str,
    first_shift_date: dt.date,
    members: Sequence[MemberSpec] = (),
    time_zone: str = "UTC",
    shift_length_days: int = 3,
    shift_length_hours: int | None = None,
    handoff_time: dt.time = dt.time(10, 0),
    restrictions: Sequence[dict[str, str]] = (),
    advance: str = Advance.WALL_TIME,
    layer: int | None = None,
    has_l2: bool = True,
    escalation_timeout_minutes: int = DEFAULT_ESCALATION_MINUTES,
    everyone_else: bool = False,
    group: Group | None = None,
    now: dt.datetime | None = None,
    starts_at: dt.datetime | None = None,
) -> Rotation:
    """Create a rotation, its members and its shifts up to the horizon.

    With `starts_at`, its first shift is cut to start then (a rotation taking
    over mid-turn from an ended one): the turns keep their wall-clock rule.
    """
    rotation = Rotation(
        team=team,
        name=name,
        slug=slug,
        first_shift_date=first_shift_date,
        time_zone=time_zone,
        shift_length_days=shift_length_days,
        shift_length_hours=shift_length_hours,
        handoff_time=handoff_time,
        restrictions=list(restrictions),
        advance=advance,
        layer=layer,
        has_l2=has_l2,
        escalation_timeout_minutes=escalation_timeout_minutes,
        everyone_else=everyone_else,
        group=group,
    )
    _clean(rotation)
    rotation.save()
    if everyone_else:
        _sync_everyone_else(rotation, extra=members)
    else:
        _set_members(rotation, members)
    _check_staffable(rotation)
    materialise_shifts(rotation=rotation, now=now, since=starts_at)
    audit.record_created(rotation, extra={"members": _member_names(rotation)})
    return rotation


@transaction.atomic
def update_rotation(
    *,
    rotation: Rotation,
    members: Sequence[MemberSpec] | None = None,
    now: dt.datetime | None = None,
    **fields: Any,
) -> Rotation:
    """Edit a rotation from its next handoff on, and tell the people whose future shifts changed."""
    rotation, changes = _edit_rotation(rotation=rotation, members=members, now=now, **fields)
    tell_people(rotation=rotation, changes=changes)
    return rotation


def preview_rotation_change(
    *,
    rotation: Rotation,
    members: Sequence[MemberSpec] | None = None,
    now: dt.datetime | None = None,
    **fields: Any,
) -> list[PersonChange]:
    """Per person, the future shifts an edit would add and remove; nothing is saved."""
    with transaction.atomic():
        _, changes = _edit_rotation(rotation=rotation, members=members, now=now, **fields)
        transaction.set_rollback(True)
    return changes


def _edit_rotation(
    *,
    rotation: Rotation,
    members: Sequence[MemberSpec] | None,
    now: dt.datetime | None,
    **fields: Any,
) -> tuple[Rotation, list[PersonChange]]:
    """The edit itself: changes take effect from the next handoff, never on shifts begun."""
    rotation = Rotation.objects.select_for_update().get(pk=rotation.pk)
    now = now or timezone.now()
    team_ids = {rotation.team_id, getattr(fields.get("team"), "pk", rotation.team_id)}
    before = snapshot(team_ids=team_ids, since=now)
    moved_start = fields.get("first_shift_date", rotation.first_shift_date) != rotation.first_shift_date
    if moved_start and rotation.shifts.filter(starts_at__lte=now).exists():
        raise RotationInvalid(
            "The first shift date cannot change once the rotation has started.", field="first_shift_date"
        )
    previous_schedule = rotation.schedule()
    previous_team_id = rotation.team_id
    recorded = {**audit.values(rotation), "members": _member_names(rotation)}
    for name, value in fields.items():
        setattr(rotation, name, value)
    _clean(rotation)
    rotation.save()
    if members is not None:
        if rotation.everyone_else:
            _sync_everyone_else(rotation, extra=members)
        else:
            _set_members(rotation, members)
    elif rotation.everyone_else:
        _sync_everyone_else(rotation)
    _check_staffable(rotation)
    materialise_shifts(rotation=rotation, now=now, reanchor=True, previous_schedule=previous_schedule)
    if rotation.team_id != previous_team_id:
        resolve_layers(team_id=previous_team_id, since=now)
    audit.record_changes(
        rotation, before=recorded, after={**audit.values(rotation), "members": _member_names(rotation)}
    )
    return rotation, compare(before, snapshot(team_ids=team_ids, since=now))


def _clean(rotation: Rotation) -> None:
    try:
        rotation.full_clean(exclude=["team", "group"])
    except ValidationError as error:
        field, messages = next(iter(error.message_dict.items()))
        raise RotationInvalid(" ".join(messages), field=field) from error
    # Stored in one spelling (three-letter days, HH:MM), whatever was sent.
    rotation.restrictions = [window.as_dict() for window in rotation.weekly_windows()]


def _set_members(rotation: Rotation, members: Sequence[MemberSpec]) -> None:
    users = [member.user.pk for member in members]
    if len(set(users)) != len(users):
        raise RotationInvalid("A person is listed twice in the rotation.", field="members")
    rotation.members.exclude(user_id__in=users).delete()
    existing = {member.user_id: member for member in rotation.members.all()}
    for position, spec in enumerate(members):
        member = existing.get(spec.user.pk) or RotationMember(rotation=rotation, user=spec.user)
        member.position = position
        member.experienced = member.experienced or spec.experienced
        member.save()


def everyone_else_users(rotation: Rotation) -> QuerySet[User]:
    """Everyone in the rotation's group (engineers by default) who is in no other rotation."""
    User = get_user_model()
    group_filter = Q(groups=rotation.group_id) if rotation.group_id else Q(groups__name=ENGINEERS_GROUP)
    taken = RotationMember.objects.exclude(rotation=rotation).exclude(rotation__everyone_else=True)
    return (
        User.objects.filter(group_filter, is_active=True)
        .exclude(pk__in=taken.values("user_id"))
        .distinct()
        .order_by("username")
    )


def _sync_everyone_else(rotation: Rotation, extra: Sequence[MemberSpec] = ()) -> None:
    experienced = {spec.user.pk for spec in extra if spec.experienced}
    users = list(everyone_else_users(rotation))
    rotation.members.exclude(user__in=users).delete()
    existing = {member.user_id: member for member in rotation.members.all()}
    for position, user in enumerate(users):
        member = existing.get(user.pk) or RotationMember(rotation=rotation, user=user)
        member.position = position
        member.experienced = member.experienced or user.pk in experienced
        member.save()


def _check_staffable(rotation: Rotation) -> None:
    members = [shift_rules.Member(member.user_id, member.experienced) for member in rotation.members.all()]
    try:
        shift_rules.check_members(members, has_l2=rotation.has_l2)
    except ValueError as error:
        raise RotationInvalid(str(error), field="members") from error


@transaction.atomic
def materialise_shifts(
    *,
    rotation: Rotation,
    now: dt.datetime | None = None,
    until: dt.datetime | None = None,
    reanchor: bool = False,
    append: bool = False,
    previous_schedule: shift_rules.Schedule | None = None,
    since: dt.datetime | None = None,
) -> int:
    """(Re)build the rotation's shifts after the current one, up to the horizon; return how many.

    Shifts that have started (and every piece of the current shift number)
    are never touched: only later shift numbers are deleted and rebuilt.
    With `append`, nothing is rebuilt: shifts are only added after the last one.
    With `since`, no piece starts before it (the turns before it still count
    for who is L1 and L2 next).
    """
    now = now or timezone.now()
    until = until or now + HORIZON
    rotation = Rotation.objects.select_for_update().get(pk=rotation.pk)
    if rotation.ends_at is not None:
        until = min(until, rotation.ends_at)
    every_piece = Shift.all_pieces.filter(rotation=rotation)
    kept = every_piece if append else every_piece.filter(starts_at__lte=now)
    begun = kept.aggregate(number=Max("number"))["number"]
    if begun is None:
        every_piece.delete()
        next_number = 0
        boundary = None
        if rotation.anchor_number or rotation.anchor_date or rotation.anchor_time:
            rotation.anchor_number, rotation.anchor_date, rotation.anchor_time = 0, None, None
            rotation.save(update_fields=["anchor_number", "anchor_date", "anchor_time"])
    else:
        every_piece.filter(number__gt=begun).delete()
        next_number = begun + 1
        boundary = every_piece.filter(number=begun).aggregate(end=Max("ends_at"))["end"]
        if rotation.restrictions and rotation.advance == Advance.WALL_TIME:
            # The begun turn's last piece may end at a window's close, before
            # its handoff: the next turn still starts at the handoff, by the
            # rule the begun turn was made with.
            boundary = max(boundary, (previous_schedule or rotation.schedule()).end(begun))
        if reanchor:
            # The rule in force now starts at the next handoff, date and wall time.
            wall = _handoff_wall(rotation, previous_schedule, begun=begun, boundary=boundary)
            anchor = shift_rules.reanchor_wall(
                wall=wall,
                handoff=rotation.handoff_time,
                step=rotation.turn_length,
                moved_handoff=previous_schedule is not None
                and previous_schedule.handoff != rotation.handoff_time,
            )
            rotation.anchor_number = next_number
            rotation.anchor_date, rotation.anchor_time = anchor.date(), anchor.time()
            rotation.save(update_fields=["anchor_number", "anchor_date", "anchor_time"])
    _mark_experienced(rotation, now)
    schedule = rotation.schedule()
    turns = _turns(rotation, schedule, number=next_number, start=boundary, until=until)
    if not turns:
        resolve_layers(team_id=rotation.team_id, since=now)
        return 0
    members = [shift_rules.Member(member.user_id, member.experienced) for member in rotation.members.all()]
    plan = shift_rules.assign_levels(
        members,
        start=next_number,
        count=turns[-1][0] - next_number + 1,
        has_l2=rotation.has_l2,
        history=_history(rotation, next_number),
    )
    by_number = {assignment.number: assignment for assignment in plan}
    pieces: dict[str, list[Shift]] = defaultdict(list)
    for number, window in turns:
        if since is not None:
            if window.ends_at <= since:
                continue
            window = shift_rules.Window(max(window.starts_at, since), window.ends_at)
        assignment = by_number[number]
        for level, user_id in ((Level.L1, assignment.l1), (Level.L2, assignment.l2)):
            if user_id is None:
                continue
            pieces[level].append(
                Shift(
                    rotation=rotation,
                    level=level,
                    user_id=user_id,
                    starts_at=window.starts_at,
                    ends_at=window.ends_at,
                    number=number,
                )
            )
    rebuilt_from = boundary or schedule.start(next_number)
    overrides = rotation.overrides.filter(ends_at__gt=rebuilt_from).order_by("created_at", "pk")
    experienced = {member.key for member in members if member.experienced}
    experienced |= {assignment.l1 for assignment in plan}
    for override in overrides:
        displaced = {
            piece.number: piece.user_id
            for piece in pieces[override.level]
            if piece.starts_at < override.ends_at and override.starts_at < piece.ends_at
        }
        pieces[override.level] = _apply_in_memory(pieces[override.level], override)
        if rotation.restrictions:
            pieces[override.level] = _fill_outside_windows(
                pieces[override.level], override, since=rebuilt_from, first_number=next_number
            )
        if rotation.has_l2:
            other = Level.L2 if override.level == Level.L1 else Level.L1
            pieces[other] = _keep_levels_apart(
                pieces[other], override, displaced, experienced, [member.key for member in members]
            )
    rows = [shift for level in pieces for shift in pieces[level]]
    Shift.objects.bulk_create(rows, batch_size=1000)
    resolve_layers(team_id=rotation.team_id, since=now)
    return len(rows)


def resolve_layers(*, team_id: int, since: dt.datetime) -> None:
    """Mask, from `since` on, the parts of layered rotations' pieces that a higher layer covers.

    The one home of "a higher layer wins where it has someone": every
    reader (Holders, on_call_now, feeds, fairness, pages) sees only unmasked
    pieces (Shift.objects), so each reads the final result. Pieces keep
    their rotation's turns whole underneath, so a rotation is rebuilt and
    re-resolved without loss. Nothing before `since` changes.
    """
    layered = dict(Rotation.objects.filter(team_id=team_id, layer__isnull=False).values_list("id", "layer"))
    pieces = Shift.all_pieces.filter(rotation__team_id=team_id, ends_at__gt=since)
    if not layered:
        pieces = pieces.filter(masked=True)
    pieces = pieces.order_by("level", "rotation_id", "starts_at", "id")
    by_level: dict[str, list[Shift]] = defaultdict(list)
    for piece in pieces:
        by_level[piece.level].append(piece)
    stale: list[int] = []
    fresh: list[Shift] = []
    for level_pieces in by_level.values():
        ranked = [piece for piece in level_pieces if piece.rotation_id in layered]
        resolved = shift_rules.resolve_layers(
            [
                (
                    (-(layered[piece.rotation_id] or 0), piece.rotation_id),
                    shift_rules.Window(max(piece.starts_at, since), piece.ends_at),
                )
                for piece in ranked
            ]
        )
        parts_of = {piece.pk: parts for piece, parts in zip(ranked, resolved, strict=True)}
        for piece in level_pieces:
            future = max(piece.starts_at, since)
            parts = parts_of.get(piece.pk) or [(shift_rules.Window(future, piece.ends_at), False)]
            if piece.starts_at < since:
                parts = [(shift_rules.Window(piece.starts_at, since), piece.masked), *parts]
            merged: list[tuple[shift_rules.Window, bool]] = []
            for window, masked in parts:
                if merged and merged[-1][1] == masked:
                    merged[-1] = (shift_rules.Window(merged[-1][0].starts_at, window.ends_at), masked)
                else:
                    merged.append((window, masked))
            if len(merged) == 1 and merged[0][1] == piece.masked:
                continue
            stale.append(piece.pk)
            fresh.extend(
                Shift(
                    rotation_id=piece.rotation_id,
                    level=piece.level,
                    user_id=piece.user_id,
                    starts_at=window.starts_at,
                    ends_at=window.ends_at,
                    source=piece.source,
                    number=piece.number,
                    masked=masked,
                )
                for window, masked in merged
            )
    Shift.all_pieces.filter(pk__in=stale).delete()
    Shift.all_pieces.bulk_create(fresh, batch_size=1000)


def _handoff_wall(
    rotation: Rotation,
    previous_schedule: shift_rules.Schedule | None,
    *,
    begun: int,
    boundary: dt.datetime,
) -> dt.datetime:
    """The naive local wall time of the next handoff, at `boundary`.

    Taken from the rule before the edit when its turn ends there (a handoff
    inside a spring-forward gap keeps its wall time, e.g. 02:30, not 03:30);
    otherwise (turns by time on duty, a new zone, a rotation that had ended)
    the wall clock at `boundary` in the rotation's zone.
    """
    if (
        previous_schedule is not None
        and rotation.advance == Advance.WALL_TIME
        and previous_schedule.zone == rotation.zone
        and previous_schedule.end(begun) == boundary
    ):
        return previous_schedule.wall_start(begun + 1)
    return boundary.astimezone(rotation.zone).replace(tzinfo=None)


def _turns(
    rotation: Rotation,
    schedule: shift_rules.Schedule,
    *,
    number: int,
    start: dt.datetime | None,
    until: dt.datetime,
) -> list[tuple[int, shift_rules.Window]]:
    """The numbered windows to staff from shift `number` on (from `start`, else its handoff) to `until`.

    Unrestricted: whole turns on the wall clock. Restricted and advancing by
    wall time: the same turns cut to the active windows. Restricted and
    advancing by time on duty: turns of the rotation's length inside them.
    """
    restrictions = rotation.weekly_windows()
    start = start or schedule.start(number)
    if restrictions and rotation.advance == Advance.ON_DUTY:
        active = shift_rules.active_windows(restrictions, rotation.zone, start)
        return _cut_at_end(
            rotation,
            shift_rules.on_duty_turns(
                start=start, length=schedule.step, first_number=number, until=until, active=active
            ),
        )
    turns = []
    while start < until:
        end = schedule.end(number)
        if end > start:
            turns.append((number, shift_rules.Window(start, end)))
        start = max(start, end)
        number += 1
    if restrictions and turns:
        active = shift_rules.active_windows(restrictions, rotation.zone, turns[0][1].starts_at)
        turns = shift_rules.restrict(turns, active)
    return _cut_at_end(rotation, turns)


def _cut_at_end(
    rotation: Rotation, turns: list[tuple[int, shift_rules.Window]]
) -> list[tuple[int, shift_rules.Window]]:
    """An ended rotation's last turn stops at its end; none starts after it."""
    if rotation.ends_at is None:
        return turns
    ends_at = rotation.ends_at
    return [
        (number, shift_rules.Window(window.starts_at, min(window.ends_at, ends_at)))
        for number, window in turns
        if window.starts_at < ends_at
    ]


def _fill_outside_windows(
    pieces: list[Shift], override: Override, *, since: dt.datetime, first_number: int
) -> list[Shift]:
    """An override holds its whole window, also where the restricted rotation has nobody on call."""
    covered = sorted(
        (
            piece
            for piece in pieces
            if piece.starts_at < override.ends_at and override.starts_at < piece.ends_at
        ),
        key=lambda piece: piece.starts_at,
    )
    cursor = max(override.starts_at, since)
    added = []
    for piece in [*covered, None]:
        gap_end = override.ends_at if piece is None else min(piece.starts_at, override.ends_at)
        if gap_end > cursor:
            earlier = [other.number for other in pieces if other.starts_at < cursor]
            added.append(
                Shift(
                    rotation_id=override.rotation_id,
                    level=override.level,
                    user_id=override.user_id,
                    starts_at=cursor,
                    ends_at=gap_end,
                    source=ShiftSource.OVERRIDE,
                    number=max(earlier, default=first_number),
                )
            )
        if piece is not None:
            cursor = max(cursor, piece.ends_at)
    return sorted([*pieces, *added], key=lambda piece: piece.starts_at)


def _mark_experienced(rotation: Rotation, now: dt.datetime) -> None:
    """A member becomes experienced after finishing a shift in the rotation."""
    finished = rotation.shifts.filter(ends_at__lte=now).values("user_id")
    rotation.members.filter(experienced=False, user_id__in=finished).update(experienced=True)


def _history(rotation: Rotation, next_number: int) -> shift_rules.History[int]:
    before = Shift.all_pieces.filter(rotation=rotation, number__lt=next_number)
    last_l1 = dict(
        before.filter(level=Level.L1)
        .values_list("user_id")
        .annotate(last=Max("number"))
        .values_list("user_id", "last")
    )
    last_l2 = dict(
        before.filter(level=Level.L2)
        .values_list("user_id")
        .annotate(last=Max("number"))
        .values_list("user_id", "last")
    )
    previous = (
        before.filter(number=next_number - 1, level=Level.L1, source=ShiftSource.ROTATION)
        .values_list("user_id", flat=True)
        .first()
    )
    experienced = set(before.values_list("user_id", flat=True).distinct())
    return shift_rules.History(
        last_l1=last_l1, last_l2=last_l2, previous_l1=previous, experienced=experienced
    )


def _apply_in_memory(
    pieces: list[Shift], override: Override, source: str = ShiftSource.OVERRIDE
) -> list[Shift]:
    cut = shift_rules.Window(override.starts_at, override.ends_at)
    result = []
    for piece in pieces:
        before, covered, after = shift_rules.split(shift_rules.Window(piece.starts_at, piece.ends_at), cut)
        if covered is None:
            result.append(piece)
            continue
        for window, user_id, piece_source in (
            (before, piece.user_id, piece.source),
            (covered, override.user_id, source),
            (after, piece.user_id, piece.source),
        ):
            if window is not None:
                result.append(
                    Shift(
                        rotation_id=piece.rotation_id,
                        level=piece.level,
                        user_id=user_id,
                        starts_at=window.starts_at,
                        ends_at=window.ends_at,
                        source=piece_source,
                        number=piece.number,
                    )
                )
    return result


def _keep_levels_apart(
    pieces: list[Shift],
    override: Override,
    displaced: dict[int, int],
    experienced: set[int],
    order: list[int],
) -> list[Shift]:
    """After an override, the other level must not be the same person: hand that window on.

    The person the override displaced takes it (if it is L2, only when they
    are experienced), else the first experienced member who is not the
    override's person. Only a shift made by a rotation edit after the
    override can clash: creating an override that clashes is refused.
    """
    result = []
    for piece in pieces:
        if piece.user_id != override.user_id or piece.source != ShiftSource.ROTATION:
            result.append(piece)
            continue
        stand_in = displaced.get(piece.number)
        needs_experience = override.level == Level.L1
        if (
            stand_in is None
            or stand_in == override.user_id
            or (needs_experience and stand_in not in experienced)
        ):
            stand_in = next(
                (key for key in order if key != override.user_id and key in experienced),
                None,
            )
        if stand_in is None:
            result.append(piece)
            continue
        result.extend(
            _apply_in_memory(
                [piece],
                Override(
                    user_id=stand_in,
                    level=piece.level,
                    starts_at=override.starts_at,
                    ends_at=override.ends_at,
                ),
                source=ShiftSource.ROTATION,
            )
        )
    return result


@transaction.atomic
def end_rotation(*, rotation: Rotation, at: dt.datetime, now: dt.datetime | None = None) -> Rotation:
    """End a rotation at an instant not in the past: no shift of it from then on; its past stays.

    The piece in force at `at` is cut there, later pieces and the parts of
    overrides after `at` go, and the team's layers are resolved again.
    """
    now = now or timezone.now()
    rotation = Rotation.objects.select_for_update().get(pk=rotation.pk)
    if at < now:
        raise RotationInvalid("A rotation cannot end in the past: its past shifts stay as they were.")
    if rotation.ends_at is not None and rotation.ends_at <= at:
        return rotation
    before = audit.values(rotation)
    rotation.ends_at = at
    rotation.save(update_fields=["ends_at"])
    pieces = Shift.all_pieces.filter(rotation=rotation)
    pieces.filter(starts_at__gte=at).delete()
    pieces.filter(starts_at__lt=at, ends_at__gt=at).update(ends_at=at)
    overrides = rotation.overrides.all()
    overrides.filter(starts_at__gte=at).delete()
    overrides.filter(starts_at__lt=at, ends_at__gt=at).update(ends_at=at)
    resolve_layers(team_id=rotation.team_id, since=at)
    audit.record_changes(rotation, before=before, after=audit.values(rotation))
    return rotation


def extend_all_rotations(*, now: dt.datetime | None = None) -> int:
    """Keep every rotation materialised to the horizon; everyone-else rotations recompute members."""
    now = now or timezone.now()
    created = 0
    for rotation in Rotation.objects.filter(Q(ends_at__isnull=True) | Q(ends_at__gt=now)):
        with transaction.atomic():
            if rotation.everyone_else:
                _sync_everyone_else(rotation)
                created += materialise_shifts(rotation=rotation, now=now)
            else:
                created += _extend(rotation, now)
    return created


def _extend(rotation: Rotation, now: dt.datetime) -> int:
    """Append shifts after the last materialised one, touching none (the hourly top-up)."""
    return materialise_shifts(rotation=rotation, now=now, append=True)
