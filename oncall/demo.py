"""Demo on call for `seed_demo`: five rotations (two are layers of Support), a year of history,
overrides and pages. Idempotent."""

import datetime as dt
import random

from django.contrib.auth import get_user_model
from django.utils import timezone

from morgue.demo import DEMO_USERNAME
from morgue.models import Profile, Team
from morgue.services import reset_calendar_token

from . import feeds, services
from .models import Level, Page, Rotation, Shift
from .services import notifications

# (team slug, rotation name, slug, time zone, length in days, levels L1/L2?, members by username)
ROTATIONS = [
    (
        "ops",
        "Ops weekly",
        "ops-weekly",
        "Europe/London",
        7,
        True,
        ["alice", "bharat", "chen", "dolores", "erik", "fatima", "demo"],
    ),
    ("payments", "Payments", "payments", "America/New_York", 7, True, ["gus", "hana", "ivan", "jade"]),
]
OFFICE_HOURS = [
    {"start_day": day, "start_time": "09:00", "end_day": day, "end_time": "17:00"}
    for day in ("mon", "tue", "wed", "thu", "fri")
]
MESSAGES = [
    "Checkout error rate above 5% since the last deploy",
    "Search latency p99 over 2s in us-east",
    "Card authorisations timing out at the gateway",
]


def seed(stdout=None) -> None:
    if Rotation.objects.exists():
        if stdout is not None:
            stdout.write(f"on call: {Rotation.objects.count()} rotations already there")
            show_feed_example(stdout)
        return
    User = get_user_model()
    people = {user.username: user for user in User.objects.all()}
    teams = {team.slug: team for team in Team.objects.all()}
    now = timezone.now().replace(microsecond=0)
    year_ago = timezone.localdate() - dt.timedelta(days=365)
    monday = year_ago - dt.timedelta(days=year_ago.weekday())
    random_ = random.Random(42)

    for team_slug, name, slug, time_zone, length, has_l2, usernames in ROTATIONS:
        members = [
            services.MemberSpec(people[username], experienced=index < 3)
            for index, username in enumerate(usernames)
            if username in people
        ]
        services.create_rotation(
            team=teams[team_slug],
            name=name,
            slug=slug,
            first_shift_date=monday,
            time_zone=time_zone,
            shift_length_days=length,
            has_l2=has_l2,
            members=members,
            now=now,
        )
    # Support follows the sun in 12-hour turns (08:00 and 20:00 London), under
    # an office-hours layer: Berlin's business days belong to the office.
    support = [people[name] for name in ("kofi", "mateo", "lucia") if name in people]
    if support:
        services.create_rotation(
            team=teams["support"],
            name="Support follow-the-sun",
            slug="support",
            first_shift_date=monday,
            time_zone="Europe/London",
            shift_length_hours=12,
            handoff_time=dt.time(8),
            has_l2=False,
            layer=1,
            members=[services.MemberSpec(user, experienced=True) for user in support],
            now=now,
        )
        services.create_rotation(
            team=teams["support"],
            name="Support office hours",
            slug="support-office",
            first_shift_date=monday,
            time_zone="Europe/Berlin",
            shift_length_days=7,
            handoff_time=dt.time(9),
            restrictions=OFFICE_HOURS,
            has_l2=False,
            layer=2,
            members=[services.MemberSpec(user, experienced=True) for user in reversed(support)],
            now=now,
        )
    # Dev: every engineer not in another rotation, three days at a time; "L1 if it's your first time".
    dev_seniors = [
        services.MemberSpec(people[name], True) for name in ("nadia", "oscar", "priya") if name in people
    ]
    dev = services.create_rotation(
        team=teams["dev"],
        name="Dev",
        slug="dev",
        first_shift_date=monday,
        time_zone="America/New_York",
        shift_length_days=3,
        everyone_else=True,
        members=dev_seniors,
        now=now,
    )
    # Finished shifts make people experienced; recompute with that history.
    for rotation in Rotation.objects.all():
        services.materialise_shifts(rotation=rotation, now=now)

    overrides = 0
    for rotation in Rotation.objects.filter(slug__in=["ops-weekly", "dev", "payments"]):
        for offset_days in (-40, 2, 20):
            start = now.replace(minute=0, second=0) + dt.timedelta(
                days=offset_days, hours=random_.randint(1, 30)
            )
            end = start + dt.timedelta(hours=random_.choice([4, 8, 24]))
            holders = set(
                Shift.objects.overlapping(start, end)
                .filter(rotation=rotation)
                .values_list("user_id", flat=True)
            )
            candidates = [member.user for member in rotation.members.all() if member.user_id not in holders]
            if not candidates:
                continue
            services.create_override(
                rotation=rotation,
                level=Level.L1,
                user=random_.choice(candidates),
                starts_at=start,
                ends_at=end,
                reason=random_.choice(["Dentist", "Travelling", "Covering a swap", "Family event"]),
            )
            overrides += 1

    _seed_pages(teams, people, now)
    _seed_contact_methods(people)
    if stdout is not None:
        stdout.write(
            f"on call: {Rotation.objects.count()} rotations, {Shift.objects.count()} shifts, "
            f"{overrides} overrides, {Page.objects.count()} pages; dev has {dev.members.count()} members"
        )
        show_feed_example(stdout)


def show_feed_example(stdout) -> None:
    """Print the demo person's calendar feed with a fresh token.

    Only a hash of a feed token is stored, so an earlier run's cannot be shown:
    each run gives the demo person a new one (the old address stops working).
    """
    user = get_user_model().objects.filter(username=DEMO_USERNAME).first()
    if user is None:
        return
    profile = Profile.objects.for_user(user)
    token = reset_calendar_token(profile=profile)
    stdout.write(
        f"on call: {DEMO_USERNAME}'s calendar feed is {feeds.feed_url(profile=profile, token=token)}"
    )


def _seed_contact_methods(people) -> None:
    """How the demo people are reached: email at once, then push and SMS.

    Email goes to the console backend in development; NTFY_URL and TWILIO_* are unset, so push and
    SMS reach no real provider: a page shows them failing and moving on to the next method.
    """
    for username, user in sorted(people.items())[:4]:
        email = notifications.add_contact_method(user=user, kind="email", address=f"{username}@example.com")
        push = notifications.add_contact_method(user=user, kind="push", address=f"morgue-demo-{username}")
        sms = notifications.add_contact_method(user=user, kind="sms", address="+15005550006", label="demo")
        for method, minutes in ((email, 0), (push, 0), (sms, 2)):
            notifications.add_notification_rule(user=user, contact_method=method, delay_minutes=minutes)


def _seed_pages(teams, people, now) -> None:
    sender = people.get("demo")
    # Acknowledged two days ago after five minutes.
    acknowledged = services.page_team(
        team=teams["payments"], message=MESSAGES[2], created_by=sender, now=now - dt.timedelta(days=2)
    )
    first = acknowledged.steps.all()[0]  # steps are ordered by number
    assert first.user is not None  # the demo's teams always have someone on call
    services.acknowledge_page(
        page=acknowledged, user=first.user, now=now - dt.timedelta(days=2) + dt.timedelta(minutes=5)
    )
    # Nobody answered yesterday: L1 → L2 → Ops L1, then it ran out.
    exhausted = services.page_team(
        team=teams["dev"], message=MESSAGES[1], created_by=sender, now=now - dt.timedelta(days=1)
    )
    moment = now - dt.timedelta(days=1)
    for number in (1, 2, 3):
        moment += dt.timedelta(minutes=16)
        services.escalate_page(page_id=exhausted.pk, step_number=number, now=moment)
    # This morning: Ops L1 did not answer in time, L2 acknowledged a few minutes after being paged.
    # Every demo page is settled (acknowledged or run out), so nothing escalates or
    # emails anyone once `make run` starts the worker and the beat.
    moment = now - dt.timedelta(hours=3)
    escalated = services.page_team(team=teams["ops"], message=MESSAGES[0], created_by=sender, now=moment)
    second = services.escalate_page(
        page_id=escalated.pk, step_number=1, now=moment + dt.timedelta(minutes=16)
    )
    answering = second.user if second is not None and second.user is not None else first.user
    services.acknowledge_page(page=escalated, user=answering, now=moment + dt.timedelta(minutes=20))
