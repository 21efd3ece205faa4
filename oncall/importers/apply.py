"""Write a plan into Morgue: people, teams, layered rotations, overrides. Idempotent.

The caller runs it inside one transaction (the command and the staff page
roll it back in plan mode), so a failure leaves nothing half-imported. A
second run over the same plan changes nothing: people are matched by email,
teams and rotations by slug, overrides by their window, and a rotation is
only replaced when its rule differs from the plan's.
"""

import datetime as dt
from dataclasses import dataclass, field
from zoneinfo import ZoneInfo

from django.contrib.auth import get_user_model
from django.contrib.auth.models import User
from django.db import transaction
from django.db.models import Q
from django.utils.text import slugify

from morgue.models import Team
from morgue.services import create_person

from .. import shifts as shift_rules
from ..models import Level, Override, Rotation
from ..services import (
    MemberSpec,
    create_override,
    create_rotation,
    create_team,
    end_rotation,
    update_team,
)
from ..services.rotations import DEFAULT_ESCALATION_MINUTES
from .plan import ImportFailed, Plan, RotationPlan, SchedulePlan


@dataclass
class Applied:
    """What an apply did (or, rolled back, would do): one line per change, and where things went."""

    changes: list[str] = field(default_factory=list)
    people: dict[str, User] = field(default_factory=dict)
    teams: dict[str, Team] = field(default_factory=dict)


@transaction.atomic
def apply_plan(*, plan: Plan, now: dt.datetime) -> Applied:
    """Create or update everything in the plan; a second call with the same plan changes nothing."""
    applied = Applied()
    for person in plan.people.values():
        applied.people[person.key] = _person(person.email, person.name, person.time_zone, applied)
    for schedule in plan.schedules:
        applied.teams[schedule.key] = _team(schedule, applied)
    for schedule in plan.schedules:
        team = applied.teams[schedule.key]
        fallback = applied.teams.get(schedule.fallback) if schedule.fallback else None
        if fallback is not None and team.fallback_team_id != fallback.pk:
            update_team(team=team, fallback_team=fallback)
            applied.changes.append(f"set the fallback team of {team.name} to {fallback.name}")
        rotations = {
            rotation.key: _rotation(schedule, rotation, team, now, applied) for rotation in schedule.rotations
        }
        _end_the_rest(schedule, team, [rotation.pk for rotation in rotations.values()], now, applied)
        if rotations:
            top = max(rotations.values(), key=lambda rotation: rotation.layer or 0)
            for override in schedule.overrides:
                target = rotations.get(override.rotation or "", top)
                if override.layer is not None:
                    target = _at_level(schedule, rotations, override.layer) or top
                _override(target, override.person, override.starts_at, override.ends_at, now, applied)
    return applied


def _at_level(schedule: SchedulePlan, rotations: dict[str, Rotation], layer: int) -> Rotation | None:
    """The rotation of the highest layer at or below `layer` (the importer checked there is one)."""
    below = [plan for plan in schedule.rotations if plan.layer <= layer]
    return rotations[max(below, key=lambda plan: plan.layer).key] if below else None


def _person(email: str, name: str, time_zone: str, applied: Applied) -> User:
    users = get_user_model().objects
    user = users.filter(email__iexact=email).order_by("pk").first()
    if user is not None:
        return user
    base = slugify(email.split("@")[0]).replace("-", ".")[:140] or "person"
    username, number = base, 1
    while users.filter(username=username).exists():
        number += 1
        username = f"{base}{number}"
    first, _, last = name.partition(" ")
    profile = create_person(
        username=username,
        email=email,
        display_name=name,
        time_zone=time_zone,
        first_name=first[:150],
        last_name=last[:150],
    )
    applied.changes.append(f"create person {name} <{email}> ({time_zone})")
    return profile.user


def _team(schedule: SchedulePlan, applied: Applied) -> Team:
    team = Team.objects.filter(slug=schedule.slug).first()
    if team is not None:
        return team
    name = schedule.name
    if Team.objects.filter(name=name).exists():
        name = f"{name} ({schedule.slug})"
    applied.changes.append(f"create team {name}")
    return create_team(name=name[:100], slug=schedule.slug)


def _anchor(
    rotation: RotationPlan, now: dt.datetime, *, back: int = 0
) -> tuple[dt.datetime, tuple[str, ...]]:
    """The turn in force now (its local wall start) and the members in turn order from it.

    Starting the Morgue rotation at the current turn, with the order turned
    so that turn's person is first, keeps the source's sequence without
    materialising every turn since the source's virtual start. With L2 it
    starts `back` = 1 turn earlier: L2 is the previous turn's L1, so the
    turn in force now needs the one before it.
    """
    step = dt.timedelta(hours=rotation.turn_hours)
    local_now = now.astimezone(ZoneInfo(rotation.time_zone)).replace(tzinfo=None)
    number = (local_now - rotation.virtual_start) // step - back
    start = rotation.virtual_start + number * step
    offset = number % len(rotation.members)
    return start, rotation.members[offset:] + rotation.members[:offset]


def _fields(rotation: RotationPlan, escalation: int, has_l2: bool) -> dict[str, object]:
    days, hours = divmod(rotation.turn_hours, 24)
    by_days = not hours and days <= shift_rules.MAX_LENGTH_DAYS
    return {
        "time_zone": rotation.time_zone,
        "shift_length_days": days if by_days else 1,
        "shift_length_hours": None if by_days else rotation.turn_hours,
        "restrictions": [
            window.as_dict() for window in shift_rules.parse_restrictions(rotation.restriction_dicts())
        ],
        "advance": rotation.advance,
        "layer": rotation.layer,
        "has_l2": has_l2,
        "escalation_timeout_minutes": escalation,
    }


def _same_rule(
    existing: Rotation, plan: RotationPlan, team: Team, wanted: dict[str, object], ids: dict[str, int]
) -> bool:
    """Does the existing rotation hand the same turns to the same people as the plan?"""
    if existing.team_id != team.pk or existing.anchor_number or existing.everyone_else:
        return False
    if existing.ends_at is not None and (plan.ends_at is None or plan.ends_at > existing.ends_at):
        return False  # the source goes on longer than the rotation: a new one takes over
    if any(getattr(existing, name) != value for name, value in wanted.items()):
        return False
    step = dt.timedelta(hours=plan.turn_hours)
    base = dt.datetime.combine(existing.first_shift_date, existing.handoff_time)
    turns, remainder = divmod(base - plan.virtual_start, step)
    if remainder:
        return False
    offset = turns % len(plan.members)
    members = tuple(existing.members.order_by("position").values_list("user_id", flat=True))
    return members == tuple(ids[key] for key in plan.members[offset:] + plan.members[:offset])


def _rotation(
    schedule: SchedulePlan, plan: RotationPlan, team: Team, now: dt.datetime, applied: Applied
) -> Rotation:
    """The live rotation for the plan's: kept when the rule is the same, else ended and followed by a new one.

    A rule that changed in the source is never deleted and recreated: the old
    rotation ends at the change instant (now, or the new rule's start when
    that is later), keeping its past shifts, overrides and the pages they
    answered, and a new rotation with the new rule takes over at that instant.
    """
    slug = slugify(f"{schedule.slug} {plan.name}")[:50]
    wanted = _fields(plan, schedule.escalation_minutes or DEFAULT_ESCALATION_MINUTES, schedule.has_l2)
    existing = Rotation.objects.filter(slug=slug).first()
    if existing is not None and existing.team_id != team.pk:
        raise ImportFailed(
            f"A rotation {existing.name!r} of another team already has the address {slug!r}: "
            "rename one of them and import again."
        )
    starts_at = max(now, plan.starts_at) if plan.starts_at else None
    if existing is not None and _same_rule(
        existing, plan, team, wanted, {key: user.pk for key, user in applied.people.items()}
    ):
        _end(existing, plan.ends_at, now, applied)
        return existing
    if existing is not None:
        starts_at = starts_at or now
        _retire(existing, starts_at, now, applied, "its rule changed in the source")
    start, members = _anchor(plan, starts_at or now, back=1 if schedule.has_l2 else 0)
    rotation = create_rotation(
        team=team,
        name=f"{schedule.name} – {plan.name}"[:100],
        slug=slug,
        first_shift_date=start.date(),
        handoff_time=start.time(),
        members=[MemberSpec(applied.people[key], experienced=True) for key in members],
        now=now,
        starts_at=starts_at,
        **wanted,  # type: ignore[arg-type]
    )
    _end(rotation, plan.ends_at, now, applied, quiet=True)
    applied.changes.append(
        f"create rotation {rotation.name}: layer {plan.layer}, {rotation.describe_turn()} turns "
        + ("with L2 (the previous turn's L1) " if schedule.has_l2 else "")
        + f"waiting {rotation.escalation_timeout_minutes} minutes per level, "
        f"from {start:%Y-%m-%d %H:%M} {plan.time_zone}, "
        f"{', '.join(_display(applied.people[key]) for key in members)}"
        + (f"; active {rotation.describe_restrictions()}" if plan.restrictions else "")
        + (f"; taking over at {starts_at:%Y-%m-%d %H:%M} UTC" if starts_at else "")
        + (f"; ending at {plan.ends_at:%Y-%m-%d %H:%M} UTC" if plan.ends_at else "")
    )
    return rotation


def _end(
    rotation: Rotation, ends_at: dt.datetime | None, now: dt.datetime, applied: Applied, quiet: bool = False
) -> None:
    """End a rotation at the source's end of its rule, when it has one Morgue has not yet."""
    if ends_at is None or (rotation.ends_at is not None and rotation.ends_at <= ends_at):
        return
    end_rotation(rotation=rotation, at=max(ends_at, now), now=now)
    if not quiet:
        applied.changes.append(
            f"end rotation {rotation.name} at {ends_at:%Y-%m-%d %H:%M} UTC, as the source does"
        )


def _retire(rotation: Rotation, at: dt.datetime, now: dt.datetime, applied: Applied, why: str) -> None:
    """End a rotation at `at` and move it aside (a new address and name) for the one taking its place."""
    end_rotation(rotation=rotation, at=at, now=now)
    Rotation.objects.filter(pk=rotation.pk).update(
        slug=f"{rotation.slug[:36]}-{at:%Y%m%d%H%M}",
        name=f"{rotation.name} (until {at:%Y-%m-%d %H:%M} UTC)"[:100],
    )
    applied.changes.append(
        f"end rotation {rotation.name} of {rotation.team.name} at {at:%Y-%m-%d %H:%M} UTC: {why}; "
        "its shifts before then stay"
    )


def _end_the_rest(
    schedule: SchedulePlan, team: Team, kept: list[int], now: dt.datetime, applied: Applied
) -> None:
    """Rotations an earlier import made for this schedule that the source no longer has end now."""
    gone = (
        Rotation.objects.filter(team=team, slug__startswith=f"{schedule.slug}-")
        .filter(Q(ends_at__isnull=True) | Q(ends_at__gt=now))
        .exclude(pk__in=kept)
        .select_related("team")
    )
    for rotation in gone:
        _retire(rotation, now, now, applied, "the source no longer has it")


def _display(user: User) -> str:
    return user.get_full_name() or user.username


def _override(
    rotation: Rotation,
    key: str,
    starts_at: dt.datetime,
    ends_at: dt.datetime,
    now: dt.datetime,
    applied: Applied,
) -> None:
    user = applied.people[key]
    window = {
        "rotation": rotation,
        "level": Level.L1,
        "user": user,
        "starts_at": starts_at,
        "ends_at": ends_at,
    }
    same = {name: value for name, value in window.items() if name != "rotation"}
    if Override.objects.filter(rotation__team_id=rotation.team_id, **same).exists():
        return  # already there, maybe on the rotation this one took over from
    if ends_at <= now:
        # Past: kept as a record; no shift of the imported rotation is that old.
        Override.objects.create(reason="Imported", **window)
    else:
        create_override(reason="Imported", **window)  # type: ignore[arg-type]
    applied.changes.append(
        f"create override of {rotation.name}: {_display(user)} "
        f"{starts_at:%Y-%m-%d %H:%M} – {ends_at:%Y-%m-%d %H:%M} UTC"
    )
