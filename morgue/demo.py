"""Demo organisation for `seed_demo`: people and teams. Idempotent."""

from django.contrib.auth import get_user_model
from django.contrib.auth.hashers import make_password

from morgue.models import Role, Team

from .models import Profile
from .services import create_person

DEMO_USERNAME = "demo"
DEMO_PASSWORD = "morgue-demo"

# (username, first, last, time zone, team)
PEOPLE = [
    ("alice", "Alice", "Okafor", "Europe/London", "ops"),
    ("bharat", "Bharat", "Iyer", "Europe/London", "ops"),
    ("chen", "Chen", "Wei", "America/New_York", "ops"),
    ("dolores", "Dolores", "Reyes", "America/New_York", "ops"),
    ("erik", "Erik", "Lindqvist", "Europe/Berlin", "ops"),
    ("fatima", "Fatima", "Haddad", "Europe/Berlin", "ops"),
    ("gus", "Gus", "Moreno", "America/New_York", "payments"),
    ("hana", "Hana", "Sato", "America/Los_Angeles", "payments"),
    ("ivan", "Ivan", "Petrov", "Europe/London", "payments"),
    ("jade", "Jade", "Thompson", "America/New_York", "payments"),
    ("kofi", "Kofi", "Mensah", "Europe/London", "support"),
    ("lucia", "Lucia", "Romano", "Europe/Berlin", "support"),
    ("mateo", "Mateo", "Silva", "America/Los_Angeles", "support"),
    ("nadia", "Nadia", "Kowalski", "Europe/London", "dev"),
    ("oscar", "Oscar", "Nguyen", "America/Los_Angeles", "dev"),
    ("priya", "Priya", "Raman", "America/New_York", "dev"),
    ("quinn", "Quinn", "Byrne", "Europe/London", "dev"),
    ("rosa", "Rosa", "Alvarez", "America/New_York", "dev"),
    ("sam", "Sam", "Carter", "America/Los_Angeles", "dev"),
    ("tariq", "Tariq", "Aziz", "Europe/Berlin", "dev"),
    ("uma", "Uma", "Desai", "America/New_York", "dev"),
    ("victor", "Victor", "Hugo", "Europe/London", "dev"),
    ("wen", "Wen", "Zhao", "Australia/Sydney", "dev"),
    ("ximena", "Ximena", "Ortiz", "America/Los_Angeles", "dev"),
    ("yusuf", "Yusuf", "Kaya", "Europe/Berlin", "dev"),
]

TEAMS = [
    # (slug, name, email)
    ("ops", "Ops", "ops@example.com"),
    ("dev", "Dev", "dev@example.com"),
    ("payments", "Payments", "payments@example.com"),
    ("support", "Support", "support@example.com"),
]


def seed(stdout=None) -> None:
    User = get_user_model()
    teams = {}
    for slug, name, email in TEAMS:
        teams[slug], _ = Team.objects.get_or_create(slug=slug, defaults={"name": name, "email": email})
    for slug, team in teams.items():
        if slug != "ops" and team.fallback_team_id is None:
            team.fallback_team = teams["ops"]
            team.save(update_fields=["fallback_team"])

    # One hash for everyone: they share the demo password, and hashing it once
    # per person is most of the time seeding takes.
    password = ""
    created = 0
    managed: set[str] = set()
    for username, first, last, time_zone, team_slug in PEOPLE:
        if User.objects.filter(username=username).exists():
            continue
        profile = create_person(
            username=username,
            email=f"{username}@example.com",
            first_name=first,
            last_name=last,
            display_name=f"{first} {last}",
            time_zone=time_zone,
        )
        # Demo people are not reminded of their shifts: the demo's mailbox stays
        # for what is shown on purpose (a page, a review invitation).
        profile.shift_reminder_minutes = 0
        profile.save(update_fields=["shift_reminder_minutes"])
        password = password or make_password(DEMO_PASSWORD)
        profile.user.password = password
        profile.user.save(update_fields=["password"])
        # The first person listed in each team manages it; the rest are its responders.
        role = Role.RESPONDER if team_slug in managed else Role.MANAGER
        managed.add(team_slug)
        teams[team_slug].members.add(profile.user, through_defaults={"role": role})
        created += 1

    if not User.objects.filter(username=DEMO_USERNAME).exists():
        profile = create_person(
            username=DEMO_USERNAME,
            email="demo@example.com",
            first_name="Demo",
            last_name="Facilitator",
            display_name="Demo Facilitator",
            time_zone="Europe/London",
            is_staff=True,
        )
        profile.shift_reminder_minutes = 0
        profile.save(update_fields=["shift_reminder_minutes"])
        profile.user.is_superuser = True
        profile.user.password = password or make_password(DEMO_PASSWORD)
        profile.user.save(update_fields=["is_superuser", "password"])
        teams["ops"].members.add(profile.user)
        created += 1
    if stdout is not None:
        stdout.write(f"people: {created} created, {Profile.objects.count()} in all; teams: {len(teams)}")
