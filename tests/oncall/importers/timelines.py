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


# --- Opsgenie: rotations (later in the list wins), timeRestriction, schedule-wide overrides --------

OPSGENIE_TURN = {"hourly": 3600, "daily": 86400, "weekly": 7 * 86400}
DAYS = ("monday", "tuesday", "wednesday", "thursday", "friday", "saturday", "sunday")


def _og_active(rotation: dict, local: dt.datetime) -> bool:
    restriction = rotation.get("timeRestriction")
    if not restriction:
        return True
    minute_of_day = local.hour * 60 + local.minute
    minute_of_week = local.weekday() * 1440 + minute_of_day
    if restriction["type"] == "time-of-day":
        item = restriction["restriction"]
        start = item["startHour"] * 60 + item["startMin"]
        end = item["endHour"] * 60 + item["endMin"]
        return (minute_of_day - start) % 1440 < ((end - start) % 1440 or 1440)
    for item in restriction["restrictions"]:
        start = DAYS.index(item["startDay"]) * 1440 + item["startHour"] * 60 + item["startMin"]
        end = DAYS.index(item["endDay"]) * 1440 + item["endHour"] * 60 + item["endMin"]
        if (minute_of_week - start) % 10080 < ((end - start) % 10080 or 10080):
            return True
    return False


def _og_person(rotation: dict, zone: ZoneInfo, at: dt.datetime) -> str | None:
    if _parse(rotation["startDate"]) > at or (rotation.get("endDate") and _parse(rotation["endDate"]) <= at):
        return None
    local = at.astimezone(zone).replace(tzinfo=None)
    if not _og_active(rotation, local):
        return None
    start = _parse(rotation["startDate"]).astimezone(zone).replace(tzinfo=None)
    length = OPSGENIE_TURN[rotation["type"]] * rotation.get("length", 1)
    turn = int((local - start).total_seconds() // length)
    participant = rotation["participants"][turn % len(rotation["participants"])]
    return participant.get("id") if participant["type"] == "user" else None


def render_opsgenie(schedule: dict, rotations: list[dict], overrides: list[dict], names: dict) -> dict:
    """Every rotation's on-call person, each on its own: Opsgenie notifies all of them at once where
    rotations overlap ("cumulative", support.atlassian.com/opsgenie/docs/manage-on-call-schedules-and-
    rotations). A schedule-wide override "takes precedence over all rotations": only its person then,
    shown in the last rotation."""
    zone = ZoneInfo(schedule["timezone"])
    assert all(not override.get("rotations") for override in overrides), "schedule-wide overrides only"
    spans = [(_parse(item["startDate"]), _parse(item["endDate"]), item["user"]["id"]) for item in overrides]
    minutes: dict[str, list[tuple[dt.datetime, str | None]]] = {rotation["id"]: [] for rotation in rotations}
    at = NOW
    while at < UNTIL:
        person = next((user for start, end, user in spans if start <= at < end), None)
        for rotation in rotations:
            if person is not None:
                mine = rotation is rotations[-1]
                minutes[rotation["id"]].append((at, f"{person}|override" if mine else None))
                continue
            found = _og_person(rotation, zone, at)
            minutes[rotation["id"]].append((at, f"{found}|default" if found else None))
        at += MINUTE
    result = []
    for order, rotation in enumerate(rotations, start=1):
        periods = []
        for start, end, tagged in compress(minutes[rotation["id"]]):
            person, kind = tagged.split("|")
            periods.append(
                {
                    "startDate": _z(start),
                    "endDate": _z(end),
                    "type": kind,
                    "recipient": {"type": "user", "id": person, "name": names[person]},
                }
            )
        result.append({"id": rotation["id"], "name": rotation["name"], "order": order, "periods": periods})
    return {"rotations": result}


def rewrite_opsgenie() -> None:
    directory = FIXTURES / "opsgenie" / "v2"
    names = {
        user["id"]: user["username"] for user in json.loads((directory / "users.json").read_text())["data"]
    }
    for summary in json.loads((directory / "schedules.json").read_text())["data"]:
        base = directory / "schedules" / summary["id"]
        rotations = json.loads((base / "rotations.json").read_text())["data"]
        overrides = json.loads((base / "overrides.json").read_text())["data"]
        path = base / "timeline.json"
        answer = json.loads(path.read_text())
        answer["data"]["finalTimeline"] = render_opsgenie(summary, rotations, overrides, names)
        path.write_text(json.dumps(answer, indent=2) + "\n")


# --- Grafana OnCall: rolling_users shifts by level (higher wins), override shifts ----------------

GRAFANA_FREQUENCY = {"hourly": 3600, "daily": 86400, "weekly": 7 * 86400}
GRAFANA_DAYS = ("MO", "TU", "WE", "TH", "FR", "SA", "SU")


def _gr_in_occurrence(shift: dict, local: dt.datetime) -> bool:
    """Inside one of the occurrences: each starts at the start's wall time on its days, for `duration`."""
    start = dt.datetime.fromisoformat(shift["start"])
    if shift["frequency"] == "daily" and not shift.get("by_day"):
        days = set(range(7))
    elif shift.get("by_day"):
        days = {GRAFANA_DAYS.index(day) for day in shift["by_day"]}
    else:
        days = {start.weekday()}
    for back in range(8):
        begins = dt.datetime.combine(local.date() - dt.timedelta(days=back), start.time())
        inside = (local - begins).total_seconds() < shift["duration"]
        if begins.weekday() in days and start <= begins <= local and inside:
            return True
    return False


def _gr_person(shift: dict, zone: ZoneInfo, at: dt.datetime) -> str | None:
    local = at.astimezone(zone).replace(tzinfo=None)
    if shift.get("until") and local >= dt.datetime.fromisoformat(shift["until"]):
        return None
    if shift["type"] == "single_event":
        begins = dt.datetime.fromisoformat(shift["start"]).replace(tzinfo=zone).astimezone(dt.UTC)
        return shift["users"][0] if begins <= at < begins + dt.timedelta(seconds=shift["duration"]) else None
    start = dt.datetime.fromisoformat(shift["start"])
    rotation_start = dt.datetime.fromisoformat(shift.get("rotation_start") or shift["start"])
    period = GRAFANA_FREQUENCY[shift["frequency"]] * shift.get("interval", 1)
    if local < rotation_start:
        return None
    if shift["type"] == "recurrent_event":
        return shift["users"][0] if _gr_in_occurrence(shift, local) else None
    if shift.get("by_day") and not _gr_in_occurrence(shift, local):
        return None
    if shift["duration"] < period and ((local - start).total_seconds() % 86400) >= shift["duration"]:
        return None
    turn = int((local - rotation_start).total_seconds() // period)
    users = shift["rolling_users"]
    return users[(turn + shift.get("start_rotation_from_user_index", 0)) % len(users)][0]


def render_grafana(schedule: dict, shifts: list[dict], people: dict) -> list[dict]:
    """Overrides win; then the event of the highest `level` (priority) with someone on call."""
    zone = ZoneInfo(schedule["time_zone"])
    mine = [shift for shift in shifts if shift["schedule"] == schedule["id"]]
    layered = sorted(
        (shift for shift in mine if shift["type"] != "override"), key=lambda shift: -shift["level"]
    )
    overrides = []
    for shift in mine:
        if shift["type"] == "override":
            begins = dt.datetime.fromisoformat(shift["start"]).replace(tzinfo=zone).astimezone(dt.UTC)
            overrides.append((begins, begins + dt.timedelta(seconds=shift["duration"]), shift["users"][0]))
    minutes = []
    at = NOW
    while at < UNTIL:
        person = next((user for start, end, user in overrides if start <= at < end), None)
        for shift in layered:
            if person is not None:
                break
            person = _gr_person(shift, zone, at)
        minutes.append((at, person))
        at += MINUTE
    return [
        {
            "user_pk": person,
            "user_email": people[person]["email"],
            "user_username": people[person]["username"],
            "shift_start": _z(start),
            "shift_end": _z(end),
        }
        for start, end, person in compress(minutes)
    ]


def rewrite_grafana() -> None:
    directory = FIXTURES / "grafana-oncall" / "api" / "v1"
    people = {user["id"]: user for user in json.loads((directory / "users.json").read_text())["results"]}
    shifts = json.loads((directory / "on_call_shifts.json").read_text())["results"]
    for schedule in json.loads((directory / "schedules.json").read_text())["results"]:
        results = render_grafana(schedule, shifts, people)
        answer = {"count": len(results), "next": None, "previous": None, "results": results}
        path = directory / "schedules" / schedule["id"] / "final_shifts.json"
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(json.dumps(answer, indent=2) + "\n")


if __name__ == "__main__":
    sources = sys.argv[1:] or ["pagerduty", "opsgenie", "grafana-oncall"]
    rewrite = {
        "pagerduty": rewrite_pagerduty,
        "opsgenie": rewrite_opsgenie,
        "grafana-oncall": rewrite_grafana,
    }
    for source in sources:
        rewrite[source]()
