"""A large organisation's on call for `seed_scale`: rotations with five years of shifts, some overrides."""

import datetime as dt

from django.contrib.auth import get_user_model

from morgue.models import Team
from morgue.scale import ZONES, anchor, rng_for, scaled

from . import services
from .models import Level, Rotation, Shift

ROTATIONS = 50
YEARS = 5


def seed(scale: float, stdout=None) -> None:
    rng = rng_for("oncall")
    now = anchor()
    teams = list(Team.objects.order_by("pk"))
    people = list(get_user_model().objects.order_by("pk"))
    start = (now - dt.timedelta(days=365 * YEARS)).date()
    monday = start - dt.timedelta(days=start.weekday())
    count = scaled(ROTATIONS, scale, minimum=2)
    for number in range(count):
        team = teams[number % len(teams)]
        members = list(team.members.order_by("pk")[:8])
        # Rotations need at least four people to keep L1 and L2 apart; small teams borrow.
        while len(members) < 4:
            person = rng.choice(people)
            if person not in members:
                members.append(person)
        services.create_rotation(
            team=team,
            name=f"{team.name} {'primary' if number < len(teams) else 'secondary'}",
            slug=f"{team.slug}-{number}",
            first_shift_date=monday,
            time_zone=rng.choice(ZONES),
            shift_length_days=rng.choice([7, 7, 7, 3, 1]),
            has_l2=rng.random() < 0.8,
            members=[
                services.MemberSpec(member, experienced=index < 3) for index, member in enumerate(members)
            ],
            now=now,
        )
    overrides = 0
    for rotation in Rotation.objects.order_by("pk"):
        members = [member.user for member in rotation.members.order_by("position", "pk")]
        for _ in range(3):
            starts_at = now + dt.timedelta(days=rng.randint(-60, 60), hours=rng.randint(0, 23))
            ends_at = starts_at + dt.timedelta(hours=rng.choice([4, 8, 24]))
            holders = set(
                Shift.objects.overlapping(starts_at, ends_at)
                .filter(rotation=rotation)
                .values_list("user_id", flat=True)
            )
            candidates = [member for member in members if member.pk not in holders]
            if not candidates:
                continue
            services.create_override(
                rotation=rotation,
                level=Level.L1,
                user=rng.choice(candidates),
                starts_at=starts_at,
                ends_at=ends_at,
                reason=rng.choice(["Dentist", "Travelling", "Covering a swap", "Family event"]),
            )
            overrides += 1
    if stdout is not None:
        stdout.write(
            f"on call: {Rotation.objects.count()} rotations, {Shift.objects.count()} shifts, "
            f"{overrides} overrides"
        )
