"""A large organisation for `seed_scale`: people and teams, scaled. Deterministic.

Each app owns its part in `<app>/scale.py` with a `seed(scale, stdout)`
function, run in layer order like the demo data. At scale 1 the organisation
is the one whole-request measurements in `bench/` are read against: 500
people, 40 teams, 50 rotations with five years of shifts, 20,000 incidents,
200,000 deploys, 60,000 remediation items and 1,000,000 alerts.
"""

import datetime as dt
import math
import random

from django.contrib.auth import get_user_model
from django.contrib.auth.hashers import make_password
from django.contrib.auth.models import Group

from .models import Profile, Team, TeamMembership
from .services import ENGINEERS_GROUP

PEOPLE = 500
TEAMS = 40
PASSWORD = "morgue-scale"  # noqa: S105 (a measuring database's sign-in, like the demo's)
ZONES = [
    "Europe/London",
    "Europe/Berlin",
    "America/New_York",
    "America/Chicago",
    "America/Los_Angeles",
    "Asia/Kolkata",
    "Australia/Sydney",
    "UTC",
]
FIRST = ["Ada", "Bram", "Chloe", "Dev", "Elif", "Femi", "Greta", "Hiro", "Ines", "Jon", "Kai", "Lena"]
LAST = ["Okoye", "Berg", "Nakamura", "Silva", "Haddad", "Novak", "Walsh", "Iyer", "Moreau", "Kim"]
TEAM_WORDS = [
    "payments", "checkout", "search", "listings", "identity", "messaging", "storage", "network",
    "database", "billing", "ads", "mobile", "data", "platform", "frontend", "shipping",
    "reviews", "tax", "fraud", "support",
]  # fmt: skip


def scaled(count: int, scale: float, minimum: int = 1) -> int:
    """`count` at `scale`, never below `minimum` (a tiny organisation still has a few of each)."""
    return max(minimum, math.ceil(count * scale))


def rng_for(part: str) -> random.Random:
    """One seeded generator per part, so adding a part never changes the others' data."""
    return random.Random(f"morgue-scale:{part}")


def anchor() -> dt.datetime:
    """The instant the data is laid out from: today's midnight (UTC), so "now" looks current."""
    today = dt.datetime.now(dt.UTC).date()
    return dt.datetime.combine(today, dt.time(), tzinfo=dt.UTC)


def team_slugs(scale: float) -> list[str]:
    count = scaled(TEAMS, scale, minimum=3)
    words = len(TEAM_WORDS)
    return [TEAM_WORDS[n % words] + (f"-{n // words + 1}" if n >= words else "") for n in range(count)]


def seed(scale: float, stdout=None) -> None:
    rng = rng_for("people")
    User = get_user_model()
    slugs = team_slugs(scale)
    teams = Team.objects.bulk_create(
        [Team(name=slug.replace("-", " ").title(), slug=slug, email=f"{slug}@example.com") for slug in slugs]
    )
    # Every team falls back to the first (the platform on call of last resort).
    for team in teams[1:]:
        team.fallback_team = teams[0]
    Team.objects.bulk_update(teams[1:], ["fallback_team"])

    password = make_password(PASSWORD)  # hashed once: hashing 500 times is most of a minute
    count = scaled(PEOPLE, scale, minimum=12)
    users = User.objects.bulk_create(
        [
            User(
                username=f"person{n:04d}",
                first_name=rng.choice(FIRST),
                last_name=rng.choice(LAST),
                email=f"person{n:04d}@example.com",
                password=password,
                is_staff=n == 0,
                is_superuser=n == 0,
            )
            for n in range(count)
        ]
    )
    Profile.objects.bulk_create(
        [
            Profile(
                user=user,
                display_name=f"{user.first_name} {user.last_name}",
                time_zone=rng.choice(ZONES),
            )
            for user in users
        ]
    )
    group, _ = Group.objects.get_or_create(name=ENGINEERS_GROUP)
    Membership = User.groups.through
    Membership.objects.bulk_create([Membership(user_id=user.pk, group_id=group.pk) for user in users])
    # Teams of uneven size: a few big ones, many small ones; everyone is in one team.
    weights = [1 / (index + 1) ** 0.7 for index in range(len(teams))]
    TeamMembership.objects.bulk_create(
        [
            TeamMembership(
                team_id=rng.choices(teams, weights=weights)[0].pk if n >= len(teams) else teams[n].pk,
                user_id=user.pk,
            )
            for n, user in enumerate(users)
        ]
    )
    if stdout is not None:
        stdout.write(f"people: {len(users)} people in {len(teams)} teams (password {PASSWORD!r})")
