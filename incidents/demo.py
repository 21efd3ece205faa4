"""Demo incidents for `seed_demo`: about forty over the last year, with timelines and postmortems.

Idempotent (an incident whose title exists is left alone) and deterministic
(`random.Random(42)`); times are relative to today so the demo always looks current.
"""

import datetime as dt
import random

from django.contrib.auth import get_user_model
from django.db import transaction
from django.utils import timezone

from incidents.models import EventKind, Impact, Incident, ProblemType, ReviewMeeting, Status, TimelineEvent
from incidents.services.incident import create_incident, refresh_search_vector
from morgue.models import Profile, Team

# (title, affected service, team slug, tags)
SCENARIOS = [
    ("Checkout returns 500s after payment-service deploy", "checkout", "payments", ["deploy", "checkout"]),
    ("Search results empty for logged-out visitors", "search", "dev", ["search", "cache"]),
    ("Primary database failover took 14 minutes", "mysql", "ops", ["database", "failover"]),
    ("Image uploads stuck in the processing queue", "uploads", "dev", ["queue", "storage"]),
    ("Card payments declined by the acquirer", "payments-gateway", "payments", ["vendor", "payments"]),
    ("Login loop for single-sign-on users", "auth", "dev", ["auth", "sso"]),
    ("DNS resolution failures in one data centre", "dns", "ops", ["dns", "network"]),
    ("Disk full on the log aggregation cluster", "logging", "ops", ["disk", "logging"]),
    ("Support inbox stopped receiving email", "helpdesk", "support", ["email", "vendor"]),
    ("Slow product pages after cache eviction storm", "web", "dev", ["cache", "performance"]),
    ("Expired TLS certificate on the API hostname", "api", "ops", ["tls", "certificates"]),
    ("Currency conversion off by a factor of 100", "pricing", "payments", ["data", "pricing"]),
    ("Push notifications delayed by two hours", "notifications", "dev", ["queue", "mobile"]),
    ("CDN purge removed every static asset", "cdn", "ops", ["cdn", "vendor"]),
    ("Duplicate refunds issued by a retried job", "refunds", "payments", ["jobs", "payments"]),
    ("Memory leak in the recommendations service", "recommendations", "dev", ["memory", "performance"]),
    ("Monitoring blind spot during the network upgrade", "monitoring", "ops", ["monitoring", "network"]),
    ("Shop search ranking reversed after config change", "search", "dev", ["config", "search"]),
    ("Order export to the warehouse missed a day", "exports", "support", ["jobs", "data"]),
    ("Rate limiter blocked the mobile app", "api", "dev", ["rate-limit", "mobile"]),
]

BLAMEFUL = [
    "Oscar forgot to run the migration before the deploy. It was human error.",
    "The on-call engineer should have noticed the alert earlier; obviously the runbook was not followed.",
    "Priya pushed the change without review and failed to check the dashboards.",
    "This was a careless mistake by the release manager.",
]
BLAMELESS = [
    "The deploy tool ran migrations after the new code started, so for four minutes the code expected "
    "a column that did not exist yet. Nothing in the pipeline showed the order.",
    "The alert fired into a channel that was muted during the office move; the page went to a rotation that "
    "had been retired the week before.",
    "The configuration change looked identical to one made safely the month before; the difference was a "
    "default that had changed in the last library upgrade.",
    "Retries were safe for the old job but not for the new one, and nothing in the job definition said so.",
]
WENT_WELL = [
    "The rollback took under two minutes once we decided to do it.",
    "Support posted to the status page within ten minutes and kept customers informed.",
    "Three people joined the war room within five minutes of the page.",
]
LUCKY = [
    "It happened on a quiet Sunday morning, not during the sale.",
    "Someone happened to be looking at the dashboard when the graph dropped.",
]
FACTORS = [
    "- No check that migrations run before new code\n- The runbook lived in an old wiki\n"
    "- Alert routing drifted",
    "- A default changed in a library upgrade\n- The staging data set is too small to show the problem",
    "- Retries without idempotency keys\n- No alert on duplicate payouts",
]
EVENT_TEXTS = {
    EventKind.DETECTION: ["Alert fired: error rate above 5%", "Customer report via support chat"],
    EventKind.ACTION: [
        "Rolled back to the previous release",
        "Failed over to the replica",
        "Restarted the workers",
    ],
    EventKind.COMMUNICATION: ["Status page updated", "Posted in #incidents", "Emailed affected merchants"],
    EventKind.NOTE: ["Error rate back to normal", "Queue drained"],
}


@transaction.atomic
def seed(stdout=None) -> None:
    rng = random.Random(42)
    User = get_user_model()
    people = list(User.objects.exclude(username="demo").filter(is_staff=False).order_by("username")[:25])
    if not people:
        return
    teams = {team.slug: team for team in Team.objects.all()}
    facilitators = people[:8]
    today = timezone.now().replace(minute=0, second=0, microsecond=0)
    created = 0
    for number in range(40):
        title, service, team_slug, tags = SCENARIOS[number % len(SCENARIOS)]
        if number >= len(SCENARIOS):
            title = f"{title} (again)"
        if Incident.objects.filter(title=title).exists():
            continue
        started = today - dt.timedelta(
            days=rng.randint(1, 360), hours=rng.randint(0, 23), minutes=rng.randint(0, 59)
        )
        if number == 0:
            # Something for "today in postmortem history": this day, last year.
            started = (
                today.replace(year=today.year - 1) if not (today.month == 2 and today.day == 29) else started
            )
        detected = started + dt.timedelta(minutes=rng.randint(1, 45))
        acknowledged = detected + dt.timedelta(minutes=rng.randint(1, 10))
        posted = acknowledged + dt.timedelta(minutes=rng.randint(2, 20))
        mitigated = posted + dt.timedelta(minutes=rng.randint(5, 180))
        resolved = mitigated + dt.timedelta(minutes=rng.randint(5, 60 * 30 if number % 7 == 0 else 240))
        minutes = int((resolved - started).total_seconds() // 60)
        recent = started > today - dt.timedelta(days=3)
        status = Status.OPEN if recent else rng.choice(
            [Status.RESOLVED, Status.RESOLVED, Status.REVIEWED, Status.CLOSED, Status.CLOSED, Status.CLOSED]
        )  # fmt: skip
        blameful = number % 9 == 4
        facilitator = None if status == Status.RESOLVED and number % 2 else rng.choice(facilitators)
        incident = create_incident(
            by=rng.choice(people),
            title=title,
            impact_started_at=started,
            impact_started_source="estimate from graphs",
            detected_at=detected,
            detected_source=rng.choice(["alert", "customer report", "chat log"]),
            acknowledged_at=acknowledged,
            status_posted_at=posted,
            mitigated_at=None if status == Status.OPEN else mitigated,
            resolved_at=None if status == Status.OPEN else resolved,
            severity=rng.choice([1, 2, 2, 3, 3, 3, 4, 4, 5]),
            team=teams.get(team_slug),
            affected_service=service,
            problem_type=ProblemType.VENDOR if "vendor" in tags else ProblemType.INTERNAL,
            impact_type=rng.choice(list(Impact.values)),
            facilitator=facilitator,
            contact=rng.choice(people),
            tags=tags,
            tldr=""
            if status == Status.OPEN
            else f"{service.capitalize()} was degraded for {minutes} minutes.",
            what_happened=rng.choice(BLAMEFUL if blameful else BLAMELESS) if status != Status.OPEN else "",
            why_surprised="We believed the deploy order was guaranteed."
            if status in (Status.REVIEWED, Status.CLOSED)
            else "",
            went_well=rng.choice(WENT_WELL) if status in (Status.REVIEWED, Status.CLOSED) else "",
            got_lucky=rng.choice(LUCKY) if status in (Status.REVIEWED, Status.CLOSED) else "",
            contributing_factors=rng.choice(FACTORS) if status in (Status.REVIEWED, Status.CLOSED) else "",
        )
        Incident.objects.filter(pk=incident.pk).update(status=status, created_at=started)
        moments = [
            (detected, EventKind.DETECTION, None),
            (acknowledged + dt.timedelta(minutes=2), EventKind.ACTION, rng.choice(people)),
            (posted, EventKind.COMMUNICATION, rng.choice(people)),
            (mitigated, EventKind.NOTE, None),
        ]
        events = [
            TimelineEvent(
                incident=incident,
                occurred_at=at,
                kind=kind,
                text=rng.choice(EVENT_TEXTS[kind]),
                author=author,
            )
            for at, kind, author in moments
        ]
        TimelineEvent.objects.bulk_create(events)
        if status == Status.RESOLVED and facilitator is not None and number % 4 == 1:
            _schedule_demo_review(incident, facilitator, people, rng, today)
        refresh_search_vector(incident)
        created += 1
    if stdout is not None and created:
        stdout.write(f"Incidents: {created} demo incidents with timelines and postmortems.")


def _schedule_demo_review(incident, facilitator, people, rng, today) -> None:
    zone_name = Profile.objects.for_user(facilitator).time_zone
    meeting = ReviewMeeting.objects.create(
        incident=incident,
        facilitator=facilitator,
        starts_at=today + dt.timedelta(days=rng.randint(1, 5), hours=2),
        time_zone=zone_name,
        location="Video call",
    )
    meeting.attendees.set({facilitator, *rng.sample(people, 3)})
    Incident.objects.filter(pk=incident.pk).update(status=Status.REVIEW_SCHEDULED)
