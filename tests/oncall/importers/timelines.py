"""An independent renderer of the vendors' final timelines, for the fixtures.

It shares no code with Morgue (not oncall.shifts, not the importers): it
walks the window minute by minute and asks, for each minute, which turn
the local wall clock is in (turn k holds from virtual start + k × length,
on the naive local clock), whether the minute's local weekday and time fall
inside the layer's restrictions, which layer is the highest with someone,
and whether an override covers the minute. Every zone offset is a whole
minute, so minute steps see every change. Run as a module to rewrite the
fixtures' rendered timelines:

    .venv/bin/python -m tests.oncall.importers.timelines
"""

import datetime as dt
import json
import sys
from pathlib import Path
from zoneinfo import ZoneInfo

FIXTURES = Path(__file__).parent / "fixtures"
# The instant the tests freeze time at, and the verification window (8 weeks).
NOW = dt.datetime(2027, 3, 1, tzinfo=dt.UTC)
UNTIL = NOW + dt.timedelta(weeks=8)
MINUTE = dt.timedelta(minutes=1)


def _parse(value: str) -> dt.datetime:
    return dt.datetime.fromisoformat(value.replace("Z", "+00:00")).astimezone(dt.UTC)


def _z(value: dt.datetime) -> str:
    return value.astimezone(dt.UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def compress(minutes: list[tuple[dt.datetime, str | None]]) -> list[tuple[dt.datetime, dt.datetime, str]]:
    """Runs of the same person, minute by minute, as (start, end, person); nobody's runs left out."""
    runs: list[tuple[dt.datetime, dt.datetime, str]] = []
    for at, person in minutes:
        if person is None:
            continue
        if runs and runs[-1][2] == person and runs[-1][1] == at:
            runs[-1] = (runs[-1][0], at + MINUTE, person)
        else:
            runs.append((at, at + MINUTE, person))
    return runs


# --- PagerDuty: schedule_layers (later in the list is drawn above), restrictions, overrides -------


def _pd_active(layer: dict, local: dt.datetime) -> bool:
    restrictions = layer.get("restrictions") or []
    if not restrictions:
        return True
    minute_of_day = local.hour * 60 + local.minute
    minute_of_week = local.weekday() * 1440 + minute_of_day
    for restriction in restrictions:
        hours, minutes, _ = (int(part) for part in restriction["start_time_of_day"].split(":"))
        length = restriction["duration_seconds"] // 60
        if restriction["type"] == "daily_restriction":
            if (minute_of_day - (hours * 60 + minutes)) % 1440 < length:
                return True
        else:
            start = (restriction["start_day_of_week"] - 1) * 1440 + hours * 60 + minutes
            if (minute_of_week - start) % 10080 < length:
                return True
    return False


def _pd_layer_person(layer: dict, zone: ZoneInfo, at: dt.datetime) -> str | None:
    if _parse(layer["start"]) > at or (layer.get("end") and _parse(layer["end"]) <= at):
        return None
    local = at.astimezone(zone).replace(tzinfo=None)
    if not _pd_active(layer, local):
        return None
    virtual = _parse(layer["rotation_virtual_start"]).astimezone(zone).replace(tzinfo=None)
    turn = int((local - virtual).total_seconds() // layer["rotation_turn_length_seconds"])
    users = layer["users"]
    return users[turn % len(users)]["user"]["id"]


def render_pagerduty(schedule: dict, overrides: list[dict]) -> list[dict]:
    zone = ZoneInfo(schedule["time_zone"])
    people = {}
    for layer in schedule["schedule_layers"]:
        for item in layer["users"]:
            people[item["user"]["id"]] = item["user"]
    spans = [(_parse(item["start"]), _parse(item["end"]), item["user"]) for item in overrides]
    for _, _, user in spans:
        people[user["id"]] = user
    minutes = []
    at = NOW
    while at < UNTIL:
        person = next((user["id"] for start, end, user in spans if start <= at < end), None)
        if person is None:
            for layer in reversed(schedule["schedule_layers"]):
                person = _pd_layer_person(layer, zone, at)
                if person is not None:
                    break
        minutes.append((at, person))
        at += MINUTE
    return [
        {
            "start": _z(start),
            "end": _z(end),
            "user": {
                "id": person,
                "type": "user_reference",
                "summary": people[person].get("summary", ""),
                "self": f"https://api.pagerduty.com/users/{person}",
                "html_url": f"https://subdomain.pagerduty.com/users/{person}",
            },
        }
        for start, end, person in compress(minutes)
    ]


def rewrite_pagerduty() -> None:
    directory = FIXTURES / "pagerduty"
    for summary in json.loads((directory / "schedules.json").read_text())["schedules"]:
        path = directory / "schedules" / f"{summary['id']}.json"
        answer = json.loads(path.read_text())
        overrides = json.loads((directory / "schedules" / summary["id"] / "overrides.json").read_text())
        answer["schedule"]["final_schedule"]["rendered_schedule_entries"] = render_pagerduty(
            answer["schedule"], overrides["overrides"]
        )
        path.write_text(json.dumps(answer, indent=2) + "\n")


if __name__ == "__main__":
    sources = sys.argv[1:] or ["pagerduty"]
    for source in sources:
        {"pagerduty": rewrite_pagerduty}[source]()
