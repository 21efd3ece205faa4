"""Demo remediation items: 2–6 per demo incident, dev and ops, some done on time, some late, some overdue.

A demo incident's items come from its story (`incidents.demo_stories`): what
its postmortem says should change, owned by people of the incident's team.
Any other incident gets items from the generic list below.

Runs after incidents.demo; idempotent (incidents that already have items are
left alone) and deterministic (each incident's items come from its own seed,
its title).
"""

import datetime as dt
import random

from django.contrib.auth import get_user_model
from django.utils import timezone

from incidents.demo_stories import story_for, words
from incidents.models import (
    Incident,
    RemediationCategory,
    RemediationItem,
    RemediationKind,
    RemediationPriority,
    RemediationStatus,
    Status,
)
from incidents.models.remediation import UNFINISHED, default_due_date, incident_origin
from morgue.models import Team

TITLES = {
    RemediationKind.DEV: [
        (RemediationCategory.PREVENT, "Add a feature flag around the new checkout path"),
        (RemediationCategory.PREVENT, "Make the cache warm-up idempotent"),
        (RemediationCategory.DETECT, "Emit a metric for failed payment callbacks"),
        (RemediationCategory.MITIGATE, "Add a circuit breaker to the search client"),
        (RemediationCategory.PREVENT, "Cap retries with jittered back-off in the API client"),
        (RemediationCategory.DETECT, "Log the request id on every 5xx"),
        (RemediationCategory.PROCESS, "Add the migration checklist to the deploy template"),
        (RemediationCategory.MITIGATE, "Let the image service serve stale thumbnails"),
    ],
    RemediationKind.OPS: [
        (RemediationCategory.DETECT, "Alert on replica lag above 30 s"),
        (RemediationCategory.MITIGATE, "Write the runbook for database failover"),
        (RemediationCategory.PREVENT, "Automate TLS certificate renewal"),
        (RemediationCategory.DETECT, "Graph connection-pool saturation on the dashboard"),
        (RemediationCategory.PROCESS, "Post status updates every 30 minutes during sev 1–2"),
        (RemediationCategory.MITIGATE, "Script the load-balancer drain"),
        (RemediationCategory.PREVENT, "Raise the disk alert threshold headroom on log hosts"),
        (RemediationCategory.PROCESS, "Add Ops911 escalation to the support handbook"),
    ],
}
PRIORITY_MIX = [
    RemediationPriority.HIGH, RemediationPriority.NORMAL, RemediationPriority.NORMAL, RemediationPriority.LOW,
]  # fmt: skip
TRACKERS = ["https://jira.example.com/browse/{}-{}", "https://tracker.example.com/issues/{1}"]


def _people_by_team() -> dict[str, list]:
    people: dict[str, list] = {}
    for team in Team.objects.prefetch_related("members"):
        people[team.slug] = sorted(team.members.all(), key=lambda user: user.username)
    return people


def story_items(incident: Incident) -> dict[str, list[tuple[str, str, str]]] | None:
    """The follow-up work its story names for a demo incident, by kind: (category, title, description)."""
    found = story_for(incident.title)
    if found is None:
        return None
    story, variant = found
    values = words(variant, {})  # items name the story's nouns, never its durations
    by_kind: dict[str, list[tuple[str, str, str]]] = {kind: [] for kind in RemediationKind}
    for item in story.items:
        by_kind[item.kind].append(
            (item.category, item.title.format(**values), item.description.format(**values))
        )
    return by_kind


def seed(stdout=None) -> None:
    incidents = list(
        Incident.objects.visible().filter(remediation_items__isnull=True).order_by("impact_started_at", "id")
    )
    everyone = list(get_user_model().objects.filter(is_active=True).order_by("username"))
    if not incidents or not everyone:
        if stdout is not None:
            stdout.write("remediation items: nothing to add")
        return
    teams = {team.slug: team for team in Team.objects.all()}
    people = _people_by_team()
    now = timezone.now()
    today = now.date()
    items = []
    for incident in incidents:
        # Seeded by the title, not the id, so a demo seeded afresh gets the same items.
        rng = random.Random(f"42 {incident.title}")
        count = rng.randint(2, 6)
        written_at = incident.impact_started_at + dt.timedelta(
            days=rng.randint(1, 5), hours=rng.randint(0, 8)
        )
        written_at = min(written_at, now)
        due = default_due_date(severity=incident.severity, written_on=written_at.date())
        from_story = story_items(incident)
        if from_story is not None:
            titles = {kind: rng.sample(from_story[kind], k=len(from_story[kind])) for kind in RemediationKind}
            count = min(count, sum(len(choices) for choices in titles.values()))
        else:
            titles = {
                kind: [
                    (category, title, "") for category, title in rng.sample(TITLES[kind], k=len(TITLES[kind]))
                ]
                for kind in RemediationKind
            }
        for number in range(count):
            # The first two make the dev/ops pair; the rest are either, while the story has some left.
            kinds = [kind for kind in RemediationKind if titles[kind]]
            kind = list(RemediationKind)[number % 2] if number < 2 else rng.choice(kinds)
            category, title, why = titles[kind].pop()
            if from_story is not None and incident.team is not None:
                # The incident's own team does the work its postmortem asks for.
                team_slug = incident.team.slug
            else:
                team_slug = "ops" if kind == RemediationKind.OPS else rng.choice(["dev", "dev", "payments"])
            owner = rng.choice(people.get(team_slug) or everyone)
            item_due = due + dt.timedelta(days=rng.randint(-7, 14))
            status, completed_at, reason = RemediationStatus.OPEN, None, ""
            roll = rng.random()
            if item_due < today or roll < 0.5:
                if roll < 0.45:  # done on time
                    done_on = min(item_due - dt.timedelta(days=rng.randint(0, 10)), today)
                    completed_at = max(
                        min(dt.datetime.combine(done_on, dt.time(15, 30), tzinfo=dt.UTC), now), written_at
                    )
                    status = RemediationStatus.DONE
                elif roll < 0.65:  # done late
                    done_on = min(item_due + dt.timedelta(days=rng.randint(1, 20)), today)
                    completed_at = max(
                        min(dt.datetime.combine(done_on, dt.time(11), tzinfo=dt.UTC), now), written_at
                    )
                    status = RemediationStatus.DONE
                elif roll < 0.72:
                    status = RemediationStatus.WONT_DO
                    reason = "The service was retired before this was scheduled."
                elif roll < 0.85:
                    status = RemediationStatus.IN_PROGRESS  # overdue now
            elif roll < 0.7:
                status = RemediationStatus.IN_PROGRESS
            if incident.status == Status.CLOSED and status in UNFINISHED:
                # A closed incident has nothing left open: the close rule held when it closed.
                done_on = min(item_due + dt.timedelta(days=rng.randint(-5, 10)), today)
                completed_at = max(
                    min(dt.datetime.combine(done_on, dt.time(14), tzinfo=dt.UTC), now), written_at
                )
                status = RemediationStatus.DONE
            ticket = ""
            if rng.random() < 0.7:
                project = "OPS" if kind == RemediationKind.OPS else "DEV"
                ticket = rng.choice(TRACKERS).format(project, rng.randint(100, 9999))
            origin_title, origin_url = incident_origin(incident)
            items.append(
                RemediationItem(
                    incident=incident,
                    origin_title=origin_title,
                    origin_url=origin_url,
                    title=title,
                    description=(f"{why}\n\n" if why else "")
                    + f"Follow-up from the postmortem of “{incident.title}”.",
                    kind=kind,
                    category=category,
                    owner=owner,
                    team=teams.get(team_slug),
                    priority=rng.choice(PRIORITY_MIX),
                    ticket_url=ticket,
                    due_date=item_due,
                    status=status,
                    wont_do_reason=reason,
                    completed_at=completed_at,
                    reminders_muted=rng.random() < 0.05,
                    created_by=incident.facilitator,
                    created_at=written_at,
                    updated_at=completed_at or written_at,
                )
            )
    RemediationItem.objects.bulk_create(items, batch_size=1000)
    if stdout is not None:
        stdout.write(f"remediation items: {len(items)} added to {len(incidents)} incidents")
