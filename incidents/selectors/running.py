"""Reads for running an incident: templates, roles, status updates, for the incident and home pages."""

from typing import Any

from django.contrib.auth.models import User
from django.db.models import Case, Q, Value, When

from incidents.models import (
    POSTMORTEM_SECTIONS,
    ChannelSetup,
    Incident,
    IncidentChannel,
    PostmortemTemplate,
    RoleAssignment,
    RoleKind,
    StatusUpdate,
    Subscription,
)
from incidents.models.running import LEAD


def template_for(*, severity: int | None, team_id: int | None) -> PostmortemTemplate | None:
    """The best matching template: team and severity, then team, then severity, then the one for all."""
    candidates = PostmortemTemplate.objects.filter(
        Q(team_id=team_id) | Q(team__isnull=True), Q(severity=severity) | Q(severity__isnull=True)
    )

    def score(template: PostmortemTemplate) -> tuple[int, int, int]:
        return (template.team_id is not None, template.severity is not None, -template.pk)

    return max(candidates, key=score, default=None)


def postmortem_sections(*, incident: Incident) -> list[tuple[str, str, str]]:
    """(field, heading, prompt) of the incident's postmortem: its template's sections, else every section.

    A section the template leaves out still shows when someone wrote in it, so
    nothing written is ever hidden by a template.
    """
    template = incident.postmortem_template
    if template is None:
        return list(POSTMORTEM_SECTIONS)
    labels = {name: (label, prompt) for name, label, prompt in POSTMORTEM_SECTIONS}
    chosen: list[tuple[str, str, str]] = []
    for entry in template.sections:
        name = entry.get("section", "")
        if name in labels and name not in [c[0] for c in chosen]:
            chosen.append((name, labels[name][0], entry.get("prompt") or labels[name][1]))
    for name, label, prompt in POSTMORTEM_SECTIONS:
        if name not in [c[0] for c in chosen] and getattr(incident, name):
            chosen.append((name, label, prompt))
    return chosen


def roles_panel(*, incident: Incident) -> list[dict[str, Any]]:
    """Every role kind with its current holder (or none) and the past holders, in the roles' order."""
    assignments = list(
        RoleAssignment.objects.filter(incident=incident).select_related("user__profile", "role")
    )
    rows = []
    for role in RoleKind.objects.all():
        held = [a for a in assignments if a.role_id == role.pk]
        current = next((a for a in held if a.ended_at is None), None)
        past = [a for a in held if a.ended_at is not None]
        if current is None and not past and role.slug not in ("lead", "communications", "scribe"):
            # A custom role nobody has held on this incident stays out of the way (it is in the form).
            continue
        rows.append({"role": role, "current": current, "past": past})
    return rows


def status_updates(*, incident: Incident) -> list[StatusUpdate]:
    return list(StatusUpdate.objects.filter(incident=incident).select_related("author__profile"))


def is_subscribed(*, incident: Incident, user: User) -> bool:
    return Subscription.objects.filter(incident=incident, user=user).exists()


def subscribed_teams(*, incident: Incident) -> list[str]:
    return list(
        Subscription.objects.filter(incident=incident, team__isnull=False).values_list(
            "team__name", flat=True
        )
    )


def roles_held(*, user: User) -> list[RoleAssignment]:
    """The roles a person holds now on open incidents ("you lead: …"), the lead first."""
    return list(
        RoleAssignment.objects.current()
        .filter(user=user, incident__deleted_at__isnull=True, incident__status="open")
        .select_related("role", "incident")
        .only("id", "incident_id", "role_id", "role__slug", "role__name", "incident__title")
        .order_by(
            Case(When(role__slug=LEAD, then=Value(0)), default=Value(1)),
            "role__order",
            "-incident__impact_started_at",
        )[:10]
    )


def role_people(*, incident: Incident) -> list[str]:
    """Usernames the role form suggests first: the incident's team and who already holds a role."""
    from django.contrib.auth import get_user_model

    people = get_user_model().objects.filter(is_active=True)
    team = people.filter(teams=incident.team_id) if incident.team_id else people.none()
    holders = people.filter(incident_roles__incident=incident)
    return sorted(
        set(team.values_list("username", flat=True)[:50]) | set(holders.values_list("username", flat=True))
    )


def chat_channel(*, incident: Incident) -> dict[str, str] | None:
    """The incident's chat channel as the incident page shows it, or None when it has none."""
    room = IncidentChannel.objects.filter(incident=incident).first()
    if room is None:
        return None
    url = (
        f"https://slack.com/app_redirect?channel={room.channel_id}"
        if room.provider == "slack" and room.channel_id
        else ""
    )
    state = "" if room.setup == ChannelSetup.DONE else room.get_setup_display()
    return {
        "name": room.name,
        "chat": room.get_provider_display(),
        "url": url,
        "state": state,
        "error": room.error,
    }
