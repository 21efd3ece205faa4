"""Demo incidents being run: roles (a handover too), status updates, followers, templates, a public page.

Runs after incidents.demo; idempotent (an incident that already has roles is
left alone, templates are made once by name) and deterministic (each
incident's choices come from its own seed, its title). Nothing is sent: the
demo writes the rows a run would have left.
"""

import contextlib
import datetime as dt
import random

from incidents.models import (
    EventKind,
    Incident,
    PostmortemTemplate,
    RoleAssignment,
    StatusUpdate,
    Subscription,
    TimelineEvent,
)
from incidents.models.running import COMMUNICATIONS, LEAD, SCRIBE
from incidents.services.running import role_kind, set_public
from morgue.exceptions import MorgueError
from morgue.models import Team, display_name

TEMPLATES = [
    (
        "Critical incidents",
        1,
        None,
        [
            {"section": "tldr", "prompt": "Who was affected, for how long, and what it cost them."},
            {
                "section": "what_happened",
                "prompt": "Minute by minute, from the first signal to the all-clear.",
            },
            {"section": "why_surprised", "prompt": ""},
            {"section": "contributing_factors", "prompt": ""},
            {"section": "went_well", "prompt": "Which runbook, dashboard or habit shortened it?"},
        ],
    ),
    (
        "Minor incidents",
        4,
        None,
        [
            {"section": "tldr", "prompt": "Two sentences are enough."},
            {"section": "what_happened", "prompt": ""},
            {"section": "went_well", "prompt": ""},
        ],
    ),
]
UPDATES = [
    ("Some customers see errors on {service}.", "We are investigating.", 30),
    ("{service} is degraded for some customers.", "We found the cause and are rolling back.", 30),
    (
        "{service} works normally again.",
        "We are watching it; this is the last update unless it recurs.",
        None,
    ),
]


def seed(stdout=None) -> None:
    for name, severity, team_slug, sections in TEMPLATES:
        team = Team.objects.filter(slug=team_slug).first() if team_slug else None
        PostmortemTemplate.objects.get_or_create(
            name=name, defaults={"severity": severity, "team": team, "sections": sections}
        )
    roles = {slug: role_kind(slug) for slug in (LEAD, COMMUNICATIONS, SCRIBE)}
    incidents = (
        Incident.objects.visible()
        .filter(roles__isnull=True, impact_started_at__isnull=False)
        .select_related("team", "contact")
        .order_by("-impact_started_at")[:40]
    )
    run = updates = 0
    for incident in incidents:
        people = (
            list(incident.team.members.filter(is_active=True).order_by("username")) if incident.team else []
        )
        if len(people) < 2:
            continue
        rng = random.Random(incident.title)
        start = incident.detected_at
        lead, comms, scribe = [*rng.sample(people, 2), rng.choice(people)]
        assignments = [
            RoleAssignment(incident=incident, role=roles[LEAD], user=lead, assigned_at=start),
            RoleAssignment(
                incident=incident,
                role=roles[COMMUNICATIONS],
                user=comms,
                assigned_at=start + dt.timedelta(minutes=4),
            ),
            RoleAssignment(
                incident=incident,
                role=roles[SCRIBE],
                user=scribe,
                assigned_at=start + dt.timedelta(minutes=6),
            ),
        ]
        events = [
            TimelineEvent(
                incident=incident,
                occurred_at=a.assigned_at,
                kind=EventKind.ACTION,
                text=f"{display_name(a.user)} is {a.role.name.lower()}.",
            )
            for a in assignments
        ]
        end = incident.resolved_at or incident.mitigated_at
        if end is not None and rng.random() < 0.4 and lead != comms:
            # A handover: the lead hands over to the communications lead halfway.
            handover = start + (end - start) / 2
            assignments[0].ended_at = handover
            assignments.append(
                RoleAssignment(incident=incident, role=roles[LEAD], user=comms, assigned_at=handover)
            )
            events.append(
                TimelineEvent(
                    incident=incident,
                    occurred_at=handover,
                    kind=EventKind.ACTION,
                    text=f"Incident lead handed over from {display_name(lead)} to {display_name(comms)}.",
                )
            )
        RoleAssignment.objects.bulk_create(assignments)
        service = incident.affected_service or "the site"
        posted = incident.status_posted_at or start + dt.timedelta(minutes=10)
        shown = UPDATES if end is not None else UPDATES[:2]
        for index, (affected, doing, next_minutes) in enumerate(shown):
            at = posted + dt.timedelta(minutes=25 * index)
            if end is not None and index == len(shown) - 1:
                at = max(end, at)
            StatusUpdate.objects.create(
                incident=incident,
                posted_at=at,
                author=comms,
                affected=affected.format(service=service),
                doing=doing,
                next_update_at=at + dt.timedelta(minutes=next_minutes) if next_minutes else None,
            )
            updates += 1
        TimelineEvent.objects.bulk_create(events)
        Subscription.objects.get_or_create(incident=incident, team=incident.team)
        for person in {lead, comms}:
            Subscription.objects.get_or_create(incident=incident, user=person)
        first = incident.events.filter(kind=EventKind.ACTION).order_by("occurred_at").first()
        if first is not None:
            TimelineEvent.objects.filter(pk=first.pk).update(starred=True)
        run += 1
    # One public page for customers: the latest incident that has updates.
    latest = (
        Incident.objects.visible().filter(status_updates__isnull=False).order_by("-impact_started_at").first()
    )
    if latest is not None and not latest.public_token:
        # Through the service: the redaction check decides, as for a person.
        with contextlib.suppress(MorgueError):
            set_public(incident=latest, by=None, public=True)
    if stdout is not None and run:
        stdout.write(f"Incidents being run: {run} with roles, {updates} status updates, one public page.")
