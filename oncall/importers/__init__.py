"""Importing on-call schedules from Opsgenie, PagerDuty and Grafana OnCall, and proving the result.

One module per source translates that vendor's JSON into the neutral plan
(plan.py); readers.py fetches it (the API through morgue.outbound, or a
directory of saved answers); apply.py writes the plan; verify.py compares
Morgue's who-is-on-call with the source's own rendered timeline. History
(the source's alerts) is written by alerts_review.imports, a layer above.
"""

import datetime as dt
from pathlib import Path
from types import ModuleType

from django.conf import settings

from . import grafana_oncall, opsgenie, pagerduty
from .apply import Applied, apply_plan
from .plan import ImportFailed, Plan
from .readers import ApiReader, DirectoryReader, Reader
from .verify import Difference, verify

SOURCES: dict[str, ModuleType] = {
    "grafana-oncall": grafana_oncall,
    "opsgenie": opsgenie,
    "pagerduty": pagerduty,
}
VENDORS = {"pagerduty": "PagerDuty", "opsgenie": "Opsgenie", "grafana-oncall": "Grafana OnCall"}


def reader_for(
    source: str, *, url: str | None = None, token: str | None = None, directory: Path | None = None
) -> Reader:
    """The reader for a source: its API at `url` with `token`, or a directory of saved answers."""
    if source not in SOURCES:
        raise ImportFailed(f"{source!r} is not a source Morgue imports from ({', '.join(sorted(SOURCES))}).")
    vendor = VENDORS[source]
    if directory is not None:
        return DirectoryReader(directory, vendor=vendor)
    if not url or not token:
        raise ImportFailed("Give the API's URL and a token, or a directory of files saved from the API.")
    return ApiReader(
        url,
        headers=SOURCES[source].auth_headers(token),
        vendor=vendor,
        # Tests talk to loopback fakes: this setting (never read from the environment) lets loopback through.
        allow_loopback=bool(getattr(settings, "MORGUE_OUTBOUND_ALLOW_LOOPBACK", False)),
    )


def read_plan(source: str, reader: Reader, *, now: dt.datetime, weeks: int) -> Plan:
    """The source's schedules, people, escalations and history as a plan; nothing is written."""
    plan: Plan = SOURCES[source].read(reader, now=now, weeks=weeks)
    return plan


__all__ = [
    "SOURCES",
    "Applied",
    "Difference",
    "ImportFailed",
    "Plan",
    "apply_plan",
    "read_plan",
    "reader_for",
    "verify",
]
