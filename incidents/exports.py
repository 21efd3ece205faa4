"""A postmortem as a Markdown document, for wikis, mail and archives."""

import datetime as dt
from zoneinfo import ZoneInfo

from .models import Incident

SECTIONS = [
    ("tldr", "tl;dr"),
    ("what_happened", "What happened?"),
    ("why_surprised", "Why were we surprised?"),
    ("went_well", "What went well?"),
    ("got_lucky", "Where did we get lucky?"),
    ("contributing_factors", "Contributing factors"),
]
MILESTONES = [
    ("impact_started_at", "Impact started"),
    ("detected_at", "Detected"),
    ("acknowledged_at", "Acknowledged"),
    ("status_posted_at", "Status page updated"),
    ("mitigated_at", "Mitigated"),
    ("resolved_at", "Resolved"),
]


def _when(instant: dt.datetime | None, zone: ZoneInfo) -> str:
    return instant.astimezone(zone).strftime("%Y-%m-%d %H:%M %Z") if instant else "—"


def _duration(seconds: int | None) -> str:
    if seconds is None:
        return "—"
    hours, rest = divmod(abs(seconds), 3600)
    minutes = rest // 60
    return f"{hours}h {minutes:02d}m" if hours else f"{minutes}m {rest % 60:02d}s"


def postmortem_markdown(incident: Incident, *, zone: ZoneInfo) -> str:
    """The whole postmortem (facts, milestones, timeline, sections) as Markdown."""
    lines = [f"# {incident.title}", ""]
    facts = [
        ("Severity", incident.get_severity_display()),
        ("Status", incident.get_status_display()),
        ("Team", incident.team.name if incident.team else "—"),
        ("Facilitator", incident.facilitator.get_username() if incident.facilitator else "—"),
        ("Tags", ", ".join(tag.name for tag in incident.tags.all()) or "—"),
        ("Time to detect", _duration(incident.time_to_detect_seconds)),
        ("Time to resolve", _duration(incident.time_to_resolve_seconds)),
        ("Impact", _duration(incident.impact_seconds)),
    ]
    lines += [f"- **{label}:** {value}" for label, value in facts]
    lines += ["", "## Milestones", "", "| Milestone | Time | Source |", "| --- | --- | --- |"]
    for field, label in MILESTONES:
        source = getattr(incident, field.removesuffix("_at") + "_source", "")
        lines.append(f"| {label} | {_when(getattr(incident, field), zone)} | {source} |")
    events = list(incident.events.order_by("occurred_at", "id"))
    if events:
        lines += ["", "## Timeline", ""]
        for event in events:
            who = f" ({event.speaker})" if event.speaker else ""
            link = f" [link]({event.link})" if event.link else ""
            text = " ".join(event.text.split())
            lines.append(f"- **{_when(event.occurred_at, zone)}** · {event.kind}{who}: {text}{link}")
    starred = [event for event in events if event.starred]
    if starred:
        lines += ["", "## Key moments", ""]
        for event in starred:
            lines.append(f"- **{_when(event.occurred_at, zone)}** · {' '.join(event.text.split())}")
    items = list(incident.remediation_items.visible().select_related("owner").order_by("due_date", "id"))
    if items:
        lines += [
            "",
            "## Remediation items",
            "",
            "| Item | Owner | Due | Status |",
            "| --- | --- | --- | --- |",
        ]
        for item in items:
            title = item.title.replace("|", "\\|")
            lines.append(
                f"| {title} | {item.owner.get_username()} | {item.due_date} | {item.get_status_display()} |"
            )
    for field, heading in SECTIONS:
        text = getattr(incident, field).strip()
        lines += ["", f"## {heading}", "", text or "_Not written yet._"]
    return "\n".join(lines) + "\n"
