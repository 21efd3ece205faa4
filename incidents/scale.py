"""A large organisation's incidents for `seed_scale`: timelines, postmortems, deploys, remediation items.

Rows go in with bulk_create; the counts the database keeps (IncidentCount,
RemediationCount) are kept by their triggers, and the search vector is filled
by the same expression `refresh_search_vector` saves, in one statement.
"""

import datetime as dt

from django.contrib.auth import get_user_model
from django.db import connection

from morgue.models import Team
from morgue.scale import anchor, rng_for, scaled

from .models import (
    Deploy,
    EventKind,
    Impact,
    Incident,
    ProblemType,
    RemediationCategory,
    RemediationItem,
    RemediationKind,
    RemediationPriority,
    RemediationStatus,
    ReviewMeeting,
    Revision,
    Status,
    Tag,
    TimelineEvent,
)
from .models.incident import INCIDENT_COUNTS, search_vector_expression
from .models.remediation import REMEDIATION_COUNTS, incident_origin
from .services.incident import snapshot

INCIDENTS = 20_000
EVENTS_PER_INCIDENT = 9
DEPLOYS = 200_000
REMEDIATIONS = 60_000
YEARS = 5
DEPLOY_DAYS = 730
BATCH = 2_000

SERVICES = [
    "checkout", "search", "listings", "auth", "payments-gateway", "image-pipeline", "mysql", "memcached",
    "dns", "cdn", "email", "push", "shipping-api", "tax-service", "ads-auction", "recommendations",
]  # fmt: skip
SYMPTOMS = [
    "returns 500s", "is slow for logged-out visitors", "drops writes", "times out at the load balancer",
    "serves stale results", "loses sessions", "pages nobody", "fills its disk", "rejects valid cards",
]  # fmt: skip
CAUSES = ["after a deploy", "during a failover", "after a config push", "under a traffic spike", "overnight"]
TAGS = ["deploy", "database", "cache", "network", "vendor", "config", "capacity", "dns", "tls", "queue"]
STACKS = ["web", "web_config", "search", "api", "payments", "images", "mobile_api", "jobs"]
ENVIRONMENTS = ["production"] * 6 + ["staging"] * 3 + ["qa"]
ITEM_TITLES = [
    "Alert on {service} error rate above 2% for 5 minutes",
    "Add a runbook for {service} failover",
    "Load test {service} at twice peak traffic",
    "Make {service} deploys canary first",
    "Document who owns {service}",
    "Remove the manual step from {service} recovery",
]
PARAGRAPHS = [
    "At {time} the error rate on **{service}** rose from 0.1% to 14%. The on-call engineer was paged "
    "by the `{service}-5xx` alert and acknowledged within four minutes.",
    "We rolled back the release and the graphs returned to normal within ten minutes. Customers "
    "who retried in that window saw a generic error page; nobody lost data.",
    "The dashboard that would have shown the cause was two clicks away from the one we watched, "
    "and the log query timed out twice before we narrowed it to one host.",
    "The change had passed review and the staging run. Staging has a tenth of production's data, "
    "so the slow query plan never appeared there.",
]
CODE = """```
SELECT count(*) FROM {table} WHERE created_at > now() - interval '1 hour';
-- took 41 s on the primary during the incident, 20 ms on the replica
```"""


def postmortem(rng, service: str, at: dt.datetime) -> dict[str, str]:
    """The postmortem fields in Markdown: paragraphs, lists and a code block, a few KB in all."""
    time = f"{at:%H:%M} UTC"
    paragraphs = [text.format(service=service, time=time) for text in PARAGRAPHS]
    rng.shuffle(paragraphs)

    def bullets(count: int) -> str:
        return "\n".join(
            f"- {rng.choice(['Paging', 'The rollback', 'The status page', 'Chat'])} "
            f"{rng.choice(['worked as designed', 'took longer than it should', 'was noisy', 'helped'])}"
            f" for {service}"
            for _ in range(count)
        )

    return {
        "tldr": f"{service} {rng.choice(SYMPTOMS)} for {rng.randint(5, 180)} minutes {rng.choice(CAUSES)}.",
        "what_happened": "\n\n".join(paragraphs) + "\n\n" + CODE.format(table=service.replace("-", "_")),
        "why_surprised": paragraphs[0] + "\n\n" + bullets(3),
        "went_well": bullets(rng.randint(2, 5)),
        "got_lucky": rng.choice(paragraphs),
        "contributing_factors": "1. " + "\n1. ".join(rng.choice(CAUSES) for _ in range(4)),
    }


def seed(scale: float, stdout=None) -> None:
    now = anchor()
    teams = list(Team.objects.order_by("pk"))
    people = list(get_user_model().objects.order_by("pk"))
    incidents = _incidents(scale, now, teams, people)
    _events(incidents, now, people)
    deploys = _deploys(scale, now)
    items = _remediations(scale, now, incidents, teams, people)
    # Triggers kept the counts as the rows went in; recount any that disagree (and say so).
    for counts in (INCIDENT_COUNTS, REMEDIATION_COUNTS):
        if counts.ensure(connection) and stdout is not None:
            stdout.write(f"incidents: {counts.table} was recounted")
    if stdout is not None:
        stdout.write(
            f"incidents: {len(incidents)} incidents with {TimelineEvent.objects.count()} timeline events, "
            f"{deploys} deploys, {items} remediation items"
        )


def _incidents(scale: float, now: dt.datetime, teams, people) -> list[Incident]:
    rng = rng_for("incidents")
    count = scaled(INCIDENTS, scale, minimum=20)
    span = dt.timedelta(days=365 * YEARS)
    facilitators = people[: max(4, len(people) // 20)]
    # Noisy teams have most incidents.
    weights = [1 / (index + 1) for index in range(len(teams))]
    rows = []
    for number in range(count):
        # Incidents more frequent lately (the organisation grew), sorted by time.
        started = now - span + span * ((number + rng.random()) / count) ** 0.8
        started = min(started, now - dt.timedelta(hours=2))
        age = now - started
        detected = started + dt.timedelta(minutes=rng.randint(1, 45))
        service = rng.choice(SERVICES)
        if age < dt.timedelta(days=2):
            status = Status.OPEN
        elif age < dt.timedelta(days=30):
            status = rng.choice([Status.RESOLVED, Status.RESOLVED, Status.REVIEW_SCHEDULED, Status.REVIEWED])
        else:
            status = Status.CLOSED if rng.random() < 0.97 else Status.RESOLVED
        resolved = None if status == Status.OPEN else detected + dt.timedelta(minutes=rng.randint(10, 600))
        rows.append(
            Incident(
                title=f"{service} {rng.choice(SYMPTOMS)} {rng.choice(CAUSES)}",
                severity=rng.choices([1, 2, 3, 4, 5], weights=[1, 4, 10, 8, 3])[0],
                status=status,
                team=rng.choices(teams, weights=weights)[0],
                affected_service=service,
                problem_type=rng.choice(list(ProblemType.values)),
                impact_type=rng.choice(list(Impact.values)),
                contact=rng.choice(people),
                facilitator=None
                if status in (Status.OPEN, Status.RESOLVED) and rng.random() < 0.6
                else rng.choice(facilitators),
                impact_started_at=started,
                detected_at=detected,
                acknowledged_at=detected + dt.timedelta(minutes=rng.randint(1, 10)),
                mitigated_at=resolved - dt.timedelta(minutes=5) if resolved else None,
                resolved_at=resolved,
                created_by=rng.choice(people),
                created_at=detected,
                updated_at=resolved or detected,
                **(postmortem(rng, service, started) if status != Status.OPEN else {}),
            )
        )
    incidents = Incident.objects.bulk_create(rows, batch_size=BATCH)
    if connection.vendor == "postgresql":  # as refresh_search_vector; SQLite searches by substring
        Incident.objects.update(search_vector=search_vector_expression())
    tags = {name: Tag.objects.get_or_create(name=name)[0] for name in TAGS}
    Tagging = Incident.tags.through
    taggings, revisions = [], []
    for incident in incidents:
        names = rng.sample(TAGS, rng.randint(0, 3))
        taggings += [Tagging(incident_id=incident.pk, tag_id=tags[name].pk) for name in names]
        revisions.append(
            Revision(
                incident=incident,
                number=1,
                author=incident.created_by,
                created_at=incident.created_at,
                snapshot=snapshot(incident, names),
                note="Created",
            )
        )
    Tagging.objects.bulk_create(taggings, batch_size=BATCH)
    Revision.objects.bulk_create(revisions, batch_size=BATCH)
    ReviewMeeting.objects.bulk_create(
        [
            ReviewMeeting(
                incident=incident,
                facilitator=incident.facilitator,
                starts_at=now + dt.timedelta(days=rng.randint(1, 14), hours=rng.randint(9, 16)),
                time_zone="Europe/London",
                location="Room 4",
            )
            for incident in incidents
            if incident.status == Status.REVIEW_SCHEDULED
        ]
    )
    return incidents


def _events(incidents: list[Incident], now: dt.datetime, people) -> None:
    rng = rng_for("timeline")
    kinds = [EventKind.DETECTION, EventKind.ACTION, EventKind.COMMUNICATION, EventKind.NOTE, EventKind.ACTION]
    batch: list[TimelineEvent] = []
    for incident in incidents:
        end = incident.resolved_at or now
        for index in range(rng.randint(EVENTS_PER_INCIDENT - 4, EVENTS_PER_INCIDENT + 4)):
            at = incident.impact_started_at + (end - incident.impact_started_at) * rng.random()
            batch.append(
                TimelineEvent(
                    incident=incident,
                    occurred_at=at,
                    kind=kinds[index % len(kinds)],
                    text=rng.choice(PARAGRAPHS).format(service=incident.affected_service, time=f"{at:%H:%M}"),
                    author=rng.choice(people),
                )
            )
        if len(batch) >= BATCH * 5:
            TimelineEvent.objects.bulk_create(batch, batch_size=BATCH)
            batch = []
    TimelineEvent.objects.bulk_create(batch, batch_size=BATCH)


def _deploys(scale: float, now: dt.datetime) -> int:
    rng = rng_for("deploys")
    count = scaled(DEPLOYS, scale, minimum=50)
    span = dt.timedelta(days=DEPLOY_DAYS)
    batch: list[Deploy] = []
    for number in range(count):
        started = now - span + span * (number + rng.random()) / count
        stack = rng.choice(STACKS)
        old, new = f"{rng.getrandbits(40):010x}", f"{rng.getrandbits(40):010x}"
        batch.append(
            Deploy(
                stack=stack,
                environment=rng.choice(ENVIRONMENTS),
                deployer=f"person{rng.randrange(500):04d}",
                old_revision=old,
                new_revision=new,
                started_at=started,
                finished_at=started + dt.timedelta(seconds=rng.randint(60, 900)),
                diff_url=f"https://git.example.com/{stack}/compare/{old}...{new}",
                log_url=f"https://deploys.example.com/{number}",
                message=rng.choice(["Fix the checkout copy", "Bump dependencies", "Feature flag cleanup"]),
                created_at=started,
            )
        )
        if len(batch) >= BATCH * 5:
            Deploy.objects.bulk_create(batch, batch_size=BATCH)
            batch = []
    Deploy.objects.bulk_create(batch, batch_size=BATCH)
    return count


def _remediations(scale: float, now: dt.datetime, incidents, teams, people) -> int:
    rng = rng_for("remediation")
    count = scaled(REMEDIATIONS, scale, minimum=30)
    reviewed = [incident for incident in incidents if incident.status != Status.OPEN] or incidents
    items = []
    for _ in range(count):
        incident = rng.choice(reviewed)
        written_at = incident.resolved_at or incident.detected_at
        due = (written_at + dt.timedelta(days=rng.randint(7, 90))).date()
        status = rng.choices(list(RemediationStatus.values), weights=[3, 2, 6, 1])[0]
        if incident.status == Status.CLOSED and status in (
            RemediationStatus.OPEN,
            RemediationStatus.IN_PROGRESS,
        ):
            status = RemediationStatus.DONE  # a closed incident has nothing left open
        completed = (
            written_at + dt.timedelta(days=rng.randint(1, 60)) if status == RemediationStatus.DONE else None
        )
        origin_title, origin_url = incident_origin(incident)
        items.append(
            RemediationItem(
                incident=incident,
                origin_title=origin_title,
                origin_url=origin_url,
                title=rng.choice(ITEM_TITLES).format(service=incident.affected_service),
                description=f"Follow-up from the postmortem of “{incident.title}”.",
                kind=rng.choice(list(RemediationKind.values)),
                category=rng.choice(list(RemediationCategory.values)),
                owner=rng.choice(people),
                team=incident.team if rng.random() < 0.8 else rng.choice(teams),
                priority=rng.choice(list(RemediationPriority.values)),
                due_date=due,
                status=status,
                wont_do_reason="Retired before it was scheduled."
                if status == RemediationStatus.WONT_DO
                else "",
                completed_at=min(completed, now) if completed else None,
                created_by=incident.facilitator,
                created_at=written_at,
                updated_at=written_at,
            )
        )
    RemediationItem.objects.bulk_create(items, batch_size=BATCH)
    return count
