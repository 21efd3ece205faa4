"""Demo remediation items: 2–6 per demo incident, dev and ops, some done on time, some late, some overdue.

Runs after incidents.demo; idempotent (incidents that already have items are
left alone) and deterministic (each incident's items come from its own seed).
"""

import datetime as dt
import random

from django.contrib.auth import get_user_model
from django.utils import timezone

from incidents.models import Category, Incident, ItemStatus, Kind, Priority, RemediationItem
from incidents.services.remediation import default_due_date
from oncall.models import Team

TITLES = {
    Kind.DEV: [
        (Category.PREVENT, "Add a feature flag around the new checkout path"),
        (Category.PREVENT, "Make the cache warm-up idempotent"),
        (Category.DETECT, "Emit a metric for failed payment callbacks"),
        (Category.MITIGATE, "Add a circuit breaker to the search client"),
        (Category.PREVENT, "Cap retries with jittered back-off in the API client"),
        (Category.DETECT, "Log the request id on every 5xx"),
        (Category.PROCESS, "Add the migration checklist to the deploy template"),
        (Category.MITIGATE, "Let the image service serve stale thumbnails"),
    ],
    Kind.OPS: [
        (Category.DETECT, "Alert on replica lag above 30 s"),
        (Category.MITIGATE, "Write the runbook for database failover"),
        (Category.PREVENT, "Automate TLS certificate renewal"),
        (Category.DETECT, "Graph connection-pool saturation on the dashboard"),
        (Category.PROCESS, "Post status updates every 30 minutes during sev 1–2"),
        (Category.MITIGATE, "Script the load-balancer drain"),
        (Category.PREVENT, "Raise the disk alert threshold headroom on log hosts"),
        (Category.PROCESS, "Add Ops911 escalation to the support handbook"),
    ],
}
TRACKERS = ["https://jira.example.com/browse/{}-{}", "https://tracker.example.com/issues/{1}"]


def _people_by_team() -> dict[str, list]:
    people: dict[str, list] = {}
    for team in Team.objects.prefetch_related("members").filter(slug__in=["dev", "ops", "payments"]):
        people[team.slug] = sorted(team.members.all(), key=lambda user: user.username)
    return people


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
        rng = random.Random(42 * 100_003 + incident.pk)
        count = rng.randint(2, 6)
        written_at = incident.impact_started_at + dt.timedelta(
            days=rng.randint(1, 5), hours=rng.randint(0, 8)
        )
        written_at = min(written_at, now)
        due = default_due_date(severity=incident.severity, written_on=written_at.date())
        titles = {kind: rng.sample(TITLES[kind], k=len(TITLES[kind])) for kind in Kind.values}
        for number in range(count):
            kind = [Kind.DEV, Kind.OPS][number % 2] if number < 2 else rng.choice(Kind.values)
            category, title = titles[kind].pop()
            team_slug = "ops" if kind == Kind.OPS else rng.choice(["dev", "dev", "payments"])
            owner = rng.choice(people.get(team_slug) or everyone)
            item_due = due + dt.timedelta(days=rng.randint(-7, 14))
            status, completed_at, reason = ItemStatus.OPEN, None, ""
            roll = rng.random()
            if item_due < today or roll < 0.5:
                if roll < 0.45:  # done on time
                    done_on = min(item_due - dt.timedelta(days=rng.randint(0, 10)), today)
                    completed_at = max(
                        min(dt.datetime.combine(done_on, dt.time(15, 30), tzinfo=dt.UTC), now), written_at
                    )
                    status = ItemStatus.DONE
                elif roll < 0.65:  # done late
                    done_on = min(item_due + dt.timedelta(days=rng.randint(1, 20)), today)
                    completed_at = max(
                        min(dt.datetime.combine(done_on, dt.time(11), tzinfo=dt.UTC), now), written_at
                    )
                    status = ItemStatus.DONE
                elif roll < 0.72:
                    status, reason = ItemStatus.WONT_DO, "The service was retired before this was scheduled."
                elif roll < 0.85:
                    status = ItemStatus.IN_PROGRESS  # overdue now
            elif roll < 0.7:
                status = ItemStatus.IN_PROGRESS
            ticket = ""
            if rng.random() < 0.7:
                project = "OPS" if kind == Kind.OPS else "DEV"
                ticket = rng.choice(TRACKERS).format(project, rng.randint(100, 9999))
            items.append(
                RemediationItem(
                    incident=incident,
                    title=title,
                    description=f"Follow-up from the postmortem of “{incident.title}”.",
                    kind=kind,
                    category=category,
                    owner=owner,
                    team=teams.get(team_slug),
                    priority=rng.choice([Priority.HIGH, Priority.NORMAL, Priority.NORMAL, Priority.LOW]),
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
