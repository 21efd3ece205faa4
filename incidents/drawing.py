"""The incident's time axis as inline SVG: milestones above the line, events below.

Server-rendered, so it needs no script and prints; every element is escaped.
"""

import datetime as dt
import itertools
from dataclasses import dataclass
from html import escape

from morgue.templatetags.morgue_tags import duration

WIDTH = 960
LEFT, RIGHT = 110, 40
AXIS_Y = 150

# Known kinds get a colour and a row; an unknown kind (added by a later
# release) still gets drawn, in the last row, in the muted colour.
KIND_COLOURS = {
    "detection": "var(--sev1)",
    "action": "var(--chart-1)",
    "communication": "var(--chart-4)",
    "deploy": "var(--chart-2)",
    "graph": "var(--chart-3)",
    "note": "var(--muted)",
}


@dataclass(frozen=True)
class Mark:
    at: dt.datetime
    label: str
    kind: str = ""


def _format(at: dt.datetime, zone: dt.tzinfo, with_date: bool) -> str:
    local = at.astimezone(zone)
    return local.strftime("%-d %b %H:%M") if with_date else local.strftime("%H:%M")


def timeline_svg(*, milestones: list[Mark], events: list[Mark], zone: dt.tzinfo, title: str) -> str:
    """An SVG picture of the milestones and events on one time axis, durations labelled."""
    times = [mark.at for mark in [*milestones, *events]]
    if not times:
        return ""
    start, end = min(times), max(times)
    span = (end - start).total_seconds() or 60.0
    multi_day = start.astimezone(zone).date() != end.astimezone(zone).date()
    kinds = list(KIND_COLOURS) + sorted({event.kind for event in events} - set(KIND_COLOURS))
    height = AXIS_Y + 40 + 18 * len(kinds)

    def x(at: dt.datetime) -> float:
        return LEFT + (WIDTH - LEFT - RIGHT) * (at - start).total_seconds() / span

    parts = [
        f'<svg class="timeline chart" viewBox="0 0 {WIDTH} {height}" role="img" '
        f'aria-labelledby="timeline-title" xmlns="http://www.w3.org/2000/svg">',
        f'<title id="timeline-title">{escape(title)}</title>',
        f'<line class="axis" x1="{LEFT}" y1="{AXIS_Y}" x2="{WIDTH - RIGHT}" y2="{AXIS_Y}" '
        f'stroke="currentColor" stroke-width="2"/>',
    ]
    # Ticks: five evenly spaced times, with dates when the incident spans days.
    for index in range(5):
        at = start + dt.timedelta(seconds=span * index / 4)
        tick_x = x(at)
        parts.append(
            f'<line x1="{tick_x:.1f}" y1="{AXIS_Y - 4}" x2="{tick_x:.1f}" y2="{AXIS_Y + 4}" '
            f'stroke="currentColor"/>'
            f'<text x="{tick_x:.1f}" y="{AXIS_Y + 18}" text-anchor="middle" class="tick">'
            f"{escape(_format(at, zone, multi_day))}</text>"
        )
    # Milestones above the axis, each label on its own row so close ones stay readable;
    # labels near an edge grow inwards.
    ordered = sorted(milestones, key=lambda mark: mark.at)
    for index, mark in enumerate(ordered):
        mark_x = x(mark.at)
        label_y = 16 + (index % 6) * 15
        share = (mark_x - LEFT) / (WIDTH - LEFT - RIGHT)
        anchor = "start" if share < 0.25 else "end" if share > 0.75 else "middle"
        parts.append(
            f'<g class="milestone"><line x1="{mark_x:.1f}" y1="{label_y + 4}" '
            f'x2="{mark_x:.1f}" y2="{AXIS_Y}" '
            f'stroke="var(--accent)" stroke-dasharray="3 2"/>'
            f'<circle cx="{mark_x:.1f}" cy="{AXIS_Y}" r="5" fill="var(--accent)"/>'
            f'<text x="{mark_x:.1f}" y="{label_y}" text-anchor="{anchor}">{escape(mark.label)} '
            f"{escape(_format(mark.at, zone, multi_day))}</text></g>"
        )
    # The duration between consecutive milestones, centred between them.
    for index, (first, second) in enumerate(itertools.pairwise(ordered)):
        seconds = (second.at - first.at).total_seconds()
        middle = (x(first.at) + x(second.at)) / 2
        label_y = AXIS_Y - 12 - (index % 2) * 14
        parts.append(
            f'<text class="duration" x="{middle:.1f}" y="{label_y}" text-anchor="middle" '
            f'font-style="italic">{escape(duration(seconds))}</text>'
        )
    # Events below the axis, one row per kind, each with its text as a tooltip.
    for row, kind in enumerate(kinds):
        row_y = AXIS_Y + 36 + row * 18
        colour = KIND_COLOURS.get(kind, "var(--muted)")
        parts.append(f'<text x="2" y="{row_y + 4}" class="kind">{escape(kind)}</text>')
        for event in events:
            if event.kind != kind:
                continue
            parts.append(
                f'<circle class="event event-{escape(kind)}" cx="{x(event.at):.1f}" cy="{row_y}" r="5" '
                f'fill="{colour}"><title>{escape(_format(event.at, zone, True))} {escape(kind)}: '
                f"{escape(event.label)}</title></circle>"
            )
    parts.append("</svg>")
    return "".join(parts)
