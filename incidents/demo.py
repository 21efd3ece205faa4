"""Demo incidents for `seed_demo`: forty over the last year, with timelines, postmortems and reviews.

Each incident is told from one of the stories in `incidents.demo_stories`
(its title, service, team, timeline and postmortem agree). Statuses follow
the incident's age: the newest is still open, the next few wait for or have
an upcoming review meeting, and the older ones were reviewed in a meeting a
few days after they were resolved (or are closed).

Idempotent (an incident whose title exists is left alone) and deterministic
(each incident draws from its own `random.Random`); times are relative to
now so the demo always looks current.
"""

import datetime as dt
import random

from django.contrib.auth import get_user_model
from django.db import transaction
from django.utils import timezone

from incidents.demo_stories import BLAMEFUL_ASIDE, SCENARIOS, Story, Variant, words
from incidents.models import EventKind, Impact, Incident, ProblemType, ReviewMeeting, Status, TimelineEvent
from incidents.services.incident import create_incident
from morgue.models import Profile, Team

COUNT = 40
MILESTONE_NAMES = ("detected", "acknowledged", "status_posted", "mitigated", "resolved")
SECTIONS = ("tldr", "what_happened", "why_surprised", "went_well", "got_lucky", "contributing_factors")
# The newest incidents, by number: how many days ago each started, and its status.
# The rest started 2 weeks to a year ago and were reviewed (or closed) since.
RECENT = {
    39: (0.1, Status.OPEN),
    38: (4, Status.REVIEW_SCHEDULED),
    37: (6, Status.REVIEW_SCHEDULED),
    36: (8, Status.RESOLVED),  # facilitator chosen, no meeting yet
    35: (10, Status.RESOLVED),  # waiting for a facilitator
}
# An older incident whose review never happened: the review queue's backlog.
BACKLOG = 21
# Resolved incidents still waiting for someone to facilitate their review.
WITHOUT_FACILITATOR = {35, BACKLOG}
# The story whose first telling carries the demo's one blameful sentence.
BLAMEFUL_STORY = "failover"


def span(minutes: float) -> str:
    """A duration as a postmortem writes it: “14 minutes”, “2 hours 5 minutes”, “1 day 3 hours”."""
    minutes = round(minutes)

    def unit(count: int, name: str) -> str:
        return f"{count} {name}{'' if count == 1 else 's'}"

    if minutes < 60:
        return unit(minutes, "minute")
    if minutes < 24 * 60:
        hours, rest = divmod(minutes, 60)
        return unit(hours, "hour") + (f" {unit(rest, 'minute')}" if rest else "")
    days, rest = divmod(minutes, 24 * 60)
    return unit(days, "day") + (f" {unit(rest // 60, 'hour')}" if rest >= 60 else "")


def _milestones(rng: random.Random, started: dt.datetime, variant: Variant) -> dict[str, dt.datetime]:
    if variant.timing is not None:
        offsets = variant.timing
    else:
        detect = rng.randint(2, 25)
        acknowledge = detect + rng.randint(1, 8)
        post = acknowledge + rng.randint(3, 15)
        mitigate = post + rng.randint(10, 150)
        resolve = mitigate + rng.randint(15, 240)
        offsets = (detect, acknowledge, post, mitigate, resolve)
    moments = {"impact_started": started}
    for name, minutes in zip(MILESTONE_NAMES, offsets, strict=True):
        moments[name] = started + dt.timedelta(minutes=minutes)
    return moments


def _spans(moments: dict[str, dt.datetime]) -> dict[str, str]:
    def minutes(start: str, end: str) -> float:
        return (moments[end] - moments[start]).total_seconds() / 60

    return {
        "to_detect": span(minutes("impact_started", "detected")),
        "to_acknowledge": span(minutes("detected", "acknowledged")),
        "to_status": span(minutes("detected", "status_posted")),
        "to_mitigate": span(minutes("impact_started", "mitigated")),
        "to_resolve": span(minutes("impact_started", "resolved")),
    }


def postmortem(story: Story, variant: Variant, moments: dict[str, dt.datetime]) -> dict[str, str]:
    """The six sections of the story's postmortem, told for this variant and these milestones."""
    values = words(variant, _spans(moments))
    return {name: getattr(story, name).format(**values) for name in SECTIONS}


def _events(story, variant, moments, *, is_open: bool, authors, rng) -> list[tuple]:
    """(when, kind, text, author) of the story's timeline, kept inside the incident's milestones."""
    values = words(variant, _spans(moments))
    rows = []
    for event in story.events:
        if is_open and event.after in ("mitigated", "resolved"):
            continue
        at = moments[event.after] + dt.timedelta(minutes=event.minutes)
        if event.after in ("acknowledged", "status_posted", "mitigated"):
            at = max(at, moments["acknowledged"])
            if not is_open:
                at = min(at, moments["mitigated"])
        elif event.after == "resolved":
            at = max(at, moments["mitigated"])
        if is_open and at > timezone.now():
            continue
        author = None if event.kind in (EventKind.DETECTION, EventKind.DEPLOY) else rng.choice(authors)
        rows.append((at, event.kind, event.text.format(**values), author))
    return rows


@transaction.atomic
def seed(stdout=None) -> None:
    User = get_user_model()
    people = list(User.objects.filter(is_staff=False).order_by("username"))
    if not people:
        return
    teams = {team.slug: team for team in Team.objects.all()}
    # Each team's engineers (not the demo login): owners, authors and attendees come from them.
    members = {
        slug: sorted(
            (user for user in team.members.all() if not user.is_staff), key=lambda user: user.username
        )
        for slug, team in teams.items()
    }
    zones = dict(Profile.objects.values_list("user_id", "time_zone"))
    now = timezone.now()
    today = now.replace(minute=0, second=0, microsecond=0)
    existing = set(Incident.objects.filter(title__in=_titles()).values_list("title", flat=True))
    created = meetings = 0
    for number in range(COUNT):
        story, variant = SCENARIOS[number % len(SCENARIOS)]
        title = variant.title if number < len(SCENARIOS) else f"{variant.title} (again)"
        if title in existing:
            continue
        rng = random.Random(42_000 + number)
        days_ago, status = RECENT.get(number, (None, None))
        if days_ago is None:
            days_ago = 365 if number == 0 else rng.randint(14, 355)
            status = (
                Status.RESOLVED
                if number == BACKLOG
                else rng.choice([Status.REVIEWED, Status.CLOSED, Status.CLOSED])
            )
        # Number 0 started this day last year: something for "today in postmortem history".
        started = today - dt.timedelta(days=days_ago)
        if days_ago >= 1:
            hour, minute = rng.randint(0, 23), rng.randint(0, 59)
            started = started.replace(
                hour=hour if variant.start_hour is None else variant.start_hour, minute=minute
            )
        moments = _milestones(rng, started, variant)
        is_open = status == Status.OPEN
        team_people = members.get(variant.team) or people
        others = [user for user in people if user not in team_people]
        facilitator = None
        if status != Status.OPEN and number not in WITHOUT_FACILITATOR:
            facilitator = rng.choice(others or people)
        contact = rng.choice(team_people)
        sections = postmortem(story, variant, moments) if not is_open else dict.fromkeys(SECTIONS, "")
        if story.key == BLAMEFUL_STORY and number < len(SCENARIOS) and not is_open:
            sections["what_happened"] += "\n\n" + BLAMEFUL_ASIDE
        incident = create_incident(
            by=contact,
            title=title,
            impact_started_at=started,
            impact_started_source="estimate from graphs",
            detected_at=moments["detected"],
            detected_source=rng.choice(["alert", "customer report", "dashboard"]),
            acknowledged_at=moments["acknowledged"],
            status_posted_at=moments["status_posted"],
            mitigated_at=None if is_open else moments["mitigated"],
            resolved_at=None if is_open else moments["resolved"],
            severity=rng.choice([1, 2, 2, 3, 3, 3, 4, 4, 5]),
            team=teams.get(variant.team),
            affected_service=variant.service,
            problem_type=ProblemType.VENDOR if variant.vendor else ProblemType.INTERNAL,
            impact_type=rng.choice(list(Impact.values)),
            facilitator=facilitator,
            contact=contact,
            tags=variant.tags,
            status=Status.OPEN if is_open else Status.RESOLVED,
            **sections,
        )
        TimelineEvent.objects.bulk_create(
            TimelineEvent(incident=incident, occurred_at=at, kind=kind, text=text, author=author)
            for at, kind, text, author in _events(
                story, variant, moments, is_open=is_open, authors=team_people, rng=rng
            )
        )
        if status in (Status.REVIEW_SCHEDULED, Status.REVIEWED, Status.CLOSED):
            assert facilitator is not None
            attendees = {facilitator, contact, *rng.sample(team_people, min(3, len(team_people)))}
            _review_meeting(
                incident,
                facilitator=facilitator,
                attendees=attendees,
                zone=zones.get(facilitator.pk, "UTC"),
                upcoming=status == Status.REVIEW_SCHEDULED,
                rng=rng,
                now=now,
            )
            meetings += 1
        Incident.objects.filter(pk=incident.pk).update(status=status, created_at=moments["detected"])
        created += 1
    if stdout is not None and created:
        stdout.write(
            f"Incidents: {created} demo incidents with timelines and postmortems, {meetings} review meetings."
        )


def _titles() -> list[str]:
    return [
        SCENARIOS[number % len(SCENARIOS)][1].title + ("" if number < len(SCENARIOS) else " (again)")
        for number in range(COUNT)
    ]


def _review_meeting(incident, *, facilitator, attendees, zone, upcoming, rng, now) -> ReviewMeeting:
    """The incident's review meeting: held a few days after resolution, or (upcoming) in the next days.

    Its invitation is recorded as sent, so the invitation sweep has nothing to send.
    """
    if upcoming:
        starts_at = (now + dt.timedelta(days=rng.randint(1, 4))).replace(
            hour=rng.choice([9, 10, 14, 15]), minute=0, second=0, microsecond=0
        )
        scheduled_at = now - dt.timedelta(days=1)
    else:
        resolved_at = incident.resolved_at
        starts_at = (resolved_at + dt.timedelta(days=rng.randint(2, 9))).replace(
            hour=rng.choice([9, 10, 14, 15, 16]), minute=rng.choice([0, 30]), second=0, microsecond=0
        )
        starts_at = min(starts_at, now - dt.timedelta(days=1))
        scheduled_at = max(resolved_at, starts_at - dt.timedelta(days=rng.randint(1, 3)))
    meeting = ReviewMeeting.objects.create(
        incident=incident,
        facilitator=facilitator,
        starts_at=starts_at,
        duration_minutes=rng.choice([30, 45, 60]),
        time_zone=zone,
        location=rng.choice(["Video call", "Room 3.14 and video call", "Video call (recorded)"]),
        sequence=0,
        sent_sequence=0,
        requested_sequence=0,
        invitation_requested_at=scheduled_at,
        invitation_sent_at=scheduled_at,
        created_at=scheduled_at,
        updated_at=scheduled_at,
    )
    meeting.attendees.set(attendees)
    return meeting
