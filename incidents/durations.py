"""Time to detect, time to resolve and customer impact: the one definition, in seconds.

- time to detect = detected − impact started; known once the incident is
  detected, so open incidents have one too;
- time to resolve = resolved − detected, and
- customer impact = mitigated, else resolved, − impact started; both known only
  once the incident is resolved (no longer open): an open incident is never
  timed up to "now", and a stale resolution time on a reopened one is ignored
  (rows from before Incident.move_to cleared it on reopening).

Incident.durations() applies it to one incident; IncidentQuerySet.with_durations()
builds the same spans as SQL from SPANS for the metrics and the report, and
tests/incidents/test_durations.py proves the two agree on the same rows.
"""

import datetime as dt
from collections.abc import Mapping
from dataclasses import dataclass


@dataclass(frozen=True)
class Span:
    """The seconds from one milestone to another."""

    name: str
    start: str
    # The first of these that is set ends the span (mitigated, else resolved).
    ends: tuple[str, ...]
    # Known only once the incident is resolved (no longer open).
    once_resolved: bool


SPANS: tuple[Span, ...] = (
    Span("time_to_detect", "impact_started_at", ("detected_at",), once_resolved=False),
    Span("time_to_resolve", "detected_at", ("resolved_at",), once_resolved=True),
    Span("impact", "impact_started_at", ("mitigated_at", "resolved_at"), once_resolved=True),
)
NAMES: tuple[str, ...] = tuple(span.name for span in SPANS)
# The milestone fields the spans read.
FIELDS: tuple[str, ...] = tuple(dict.fromkeys(name for span in SPANS for name in (span.start, *span.ends)))


def span_seconds(span: Span, times: Mapping[str, dt.datetime | None], *, resolved: bool) -> float | None:
    """One span in seconds, or None when it is not known (yet)."""
    if span.once_resolved and not resolved:
        return None
    start = times[span.start]
    end = next((times[name] for name in span.ends if times[name] is not None), None)
    if start is None or end is None:
        return None
    return (end - start).total_seconds()


def measure(times: Mapping[str, dt.datetime | None], *, resolved: bool) -> dict[str, float | None]:
    """Every span by name: {"time_to_detect": …, "time_to_resolve": …, "impact": …}."""
    return {span.name: span_seconds(span, times, resolved=resolved) for span in SPANS}


def is_missing_a_time(values: Mapping[str, float | None], *, resolved: bool) -> bool:
    """A resolved incident left out of a figure because one of its milestones has no time."""
    return resolved and any(values[name] is None for name in NAMES)
