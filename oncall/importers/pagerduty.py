"""PagerDuty REST API v2 → the neutral plan.

Shapes follow PagerDuty's published API reference (developer.pagerduty.com,
"Schedules", "Escalation Policies", "Users", "Incidents"), as the `pdpyras`
client reads them: lists paginate with `limit`/`offset` and answer `more`;
the API token goes in `Authorization: Token token=…`.

What maps to what:
- a user → a person (matched by email, created with their `time_zone`);
- a schedule → a team; each of its `schedule_layers` → a rotation (L1 only)
  of the team, layered by `rendering_index` (higher wins; without it, later
  in the list wins), turns of `rotation_turn_length_seconds` handing off on
  the schedule's wall clock from `rotation_virtual_start`; daily and weekly
  `restrictions` → weekly windows, advancing by wall time (PagerDuty's rule:
  a restriction only hides the layer, the turns go on);
- schedule overrides → overrides of the top layer (an override wins over every layer);
- an escalation policy: its rules fitted onto Morgue's L1, L2 and fallback
  team by oncall.importers.escalation (a `user_reference` is a fixed person);
- incidents of the last 12 months → unclassified alerts in the review history;
- `final_schedule.rendered_schedule_entries` → the timeline the verifier compares against.
"""

import datetime as dt
from typing import Any
from zoneinfo import ZoneInfo

from django.utils.text import slugify

from .common import field, instant, iso, windows, zone_name
from .escalation import PERSON, SCHEDULE, Policy, Rule, Target, map_policies
from .plan import (
    HistoryAlert,
    ImportFailed,
    OverridePlan,
    Person,
    Plan,
    Problem,
    RotationPlan,
    SchedulePlan,
    TimelineEntry,
)
from .readers import Reader

SOURCE = "pagerduty"
PAGE_SIZE = 100
MAX_TURN_HOURS = 28 * 24
HISTORY = dt.timedelta(days=365)


def auth_headers(token: str) -> dict[str, str]:
    return {"Authorization": f"Token token={token}", "Accept": "application/vnd.pagerduty+json;version=2"}


def paginate(reader: Reader, path: str, key: str, params: dict[str, str] | None = None) -> list[Any]:
    """Every item of a classic-paginated list: `offset` steps by `limit` while `more` is true."""
    items: list[Any] = []
    offset = 0
    while True:
        answer = reader.get(path, {**(params or {}), "limit": str(PAGE_SIZE), "offset": str(offset)})
        page = field(answer, key, f"PagerDuty's answer to {path}")
        if not isinstance(page, list):
            raise ImportFailed(
                f"PagerDuty's answer to {path} has no list {key!r}: not a schema the importer knows."
            )
        items.extend(page)
        if not answer.get("more") or not page:
            return items
        offset += len(page)


def read(reader: Reader, *, now: dt.datetime, weeks: int) -> Plan:
    """Translate everything the API (or a directory saved from it) holds into a plan."""
    since = now.replace(second=0, microsecond=0)
    until = since + dt.timedelta(weeks=weeks)
    plan = Plan(source=SOURCE, since=since, until=until)
    for user in paginate(reader, "/users", "users"):
        key = str(field(user, "id", "A PagerDuty user"))
        name = str(field(user, "name", f"PagerDuty user {key}"))
        plan.people[key] = Person(
            key=key,
            name=name,
            email=str(field(user, "email", f"PagerDuty user {name}")).lower(),
            time_zone=zone_name(field(user, "time_zone", f"PagerDuty user {name}"), f"PagerDuty user {name}"),
        )
    by_key: dict[str, SchedulePlan] = {}
    for summary in paginate(reader, "/schedules", "schedules"):
        key = str(field(summary, "id", "A PagerDuty schedule"))
        answer = reader.get(f"/schedules/{key}", {"since": iso(since), "until": iso(until)})
        schedule = _schedule(field(answer, "schedule", f"PagerDuty's answer to /schedules/{key}"), plan)
        overrides = paginate(
            reader,
            f"/schedules/{key}/overrides",
            "overrides",
            {"since": iso(since - HISTORY), "until": iso(until)},
        )
        for override in overrides:
            person = str(field(field(override, "user", "A PagerDuty override"), "id", "An override's user"))
            if person not in plan.people:
                plan.problems.append(
                    Problem(
                        "override",
                        f"{schedule.name} {override.get('start')}",
                        f"user {person} is not in /users",
                    )
                )
                continue
            schedule.overrides.append(
                OverridePlan(
                    person,
                    instant(override.get("start"), f"Override in {schedule.name}"),
                    instant(override.get("end"), f"Override in {schedule.name}"),
                )
            )
        plan.schedules.append(schedule)
        by_key[key] = schedule
    policies = paginate(reader, "/escalation_policies", "escalation_policies")
    paged_by_policy = _escalations(policies, by_key, plan)
    incidents = paginate(
        reader, "/incidents", "incidents", {"since": iso(since - HISTORY), "until": iso(since)}
    )
    for incident in incidents:
        key = str(field(incident, "id", "A PagerDuty incident"))
        policy = (incident.get("escalation_policy") or {}).get("id")
        status = str(incident.get("status", ""))
        plan.history.append(
            HistoryAlert(
                identity=f"pagerduty:{key}",
                title=str(incident.get("title") or incident.get("summary") or key),
                fired_at=instant(incident.get("created_at"), f"PagerDuty incident {key}"),
                resolved_at=instant(incident.get("last_status_change_at"), f"PagerDuty incident {key}")
                if status == "resolved"
                else None,
                schedule=paged_by_policy.get(str(policy)),
                severity=str(incident.get("urgency", "")),
                state=status,
            )
        )
    return plan


def _schedule(data: Any, plan: Plan) -> SchedulePlan:
    key = str(field(data, "id", "A PagerDuty schedule"))
    name = str(field(data, "name", f"PagerDuty schedule {key}"))
    time_zone = zone_name(
        field(data, "time_zone", f"PagerDuty schedule {name}"), f"PagerDuty schedule {name}"
    )
    schedule = SchedulePlan(key=key, name=name, slug=slugify(name)[:40] or key.lower(), time_zone=time_zone)
    layers = field(data, "schedule_layers", f"PagerDuty schedule {name}")
    # The higher layer wins: "If a user on Layer 1 and Layer 2 overlap, the user on Layer 2 will be
    # the one on-call" (PagerDuty, "Schedule Basics", support.pagerduty.com/docs/schedules). The API's
    # list is taken as Layer 1 first unless `rendering_index` orders it: an assumption about the
    # list, checked on every import by --verify against PagerDuty's own final_schedule.
    ranked = sorted(enumerate(layers), key=lambda pair: (pair[1].get("rendering_index", pair[0]), pair[0]))
    # Ranked among the layers still in force, so a layer that ended (an edit
    # in PagerDuty ends it) does not move the others to another Morgue layer.
    for _, layer in ranked:
        rotation = _layer(layer, schedule, len(schedule.rotations) + 1, plan)
        if rotation is not None:
            schedule.rotations.append(rotation)
    final = field(
        field(data, "final_schedule", f"PagerDuty schedule {name}"), "rendered_schedule_entries", name
    )
    for entry in final:
        user = entry.get("user") or {}
        schedule.timeline.append(
            TimelineEntry(
                instant(entry.get("start"), f"{name}'s final schedule"),
                instant(entry.get("end"), f"{name}'s final schedule"),
                str(user["id"]) if user.get("id") else None,
            )
        )
    return schedule


def _layer(layer: Any, schedule: SchedulePlan, rank: int, plan: Plan) -> RotationPlan | None:
    name = str(layer.get("name") or f"Layer {rank}")
    where = f"{schedule.name} / {name}"
    zone = zone_name(schedule.time_zone, where)
    members = tuple(
        str(field(field(item, "user", where), "id", where)) for item in field(layer, "users", where)
    )
    seconds = int(field(layer, "rotation_turn_length_seconds", where))
    now = plan.since or dt.datetime.now(dt.UTC)
    end = layer.get("end")

    def refuse(reason: str) -> None:
        plan.problems.append(Problem("layer", where, reason))

    if end and instant(end, where) <= now:
        plan.problems.append(Problem("layer", where, f"it ended on {end}: left out", blocks=False))
        return None
    # A layer edited in PagerDuty ends at the edit and a new one starts then:
    # each becomes a rotation ending or taking over at that instant.
    ends_at = instant(end, where) if end else None
    starts_at = instant(field(layer, "start", where), where)
    if seconds <= 0 or seconds % 3600:
        refuse(f"a turn of {seconds} seconds is not a whole number of hours")
        return None
    if seconds // 3600 > MAX_TURN_HOURS:
        refuse(f"a turn of {seconds // 3600} hours is longer than Morgue's longest ({MAX_TURN_HOURS} hours)")
        return None
    if not members:
        refuse("it has nobody in it")
        return None
    if len(set(members)) != len(members):
        refuse("a person appears twice in its turn order; a Morgue rotation lists each person once")
        return None
    unknown = [member for member in members if member not in plan.people]
    if unknown:
        refuse(f"user {', '.join(unknown)} is not in /users")
        return None
    restrictions: list[tuple[tuple[str, str], ...]] = []
    for restriction in layer.get("restrictions") or []:
        spans = _restriction(restriction, where, refuse)
        if spans is None:
            return None
        restrictions.extend(spans)
    virtual_start = instant(field(layer, "rotation_virtual_start", where), where)
    return RotationPlan(
        key=str(layer.get("id") or name),
        name=name,
        time_zone=zone,
        virtual_start=virtual_start.astimezone(ZoneInfo(zone)).replace(tzinfo=None),
        turn_hours=seconds // 3600,
        members=members,
        restrictions=tuple(restrictions),
        layer=rank,
        starts_at=starts_at if starts_at > now else None,
        ends_at=ends_at,
    )


def _restriction(restriction: Any, where: str, refuse: Any) -> list[tuple[tuple[str, str], ...]] | None:
    kind = restriction.get("type")
    start = str(restriction.get("start_time_of_day", ""))
    try:
        hours, minutes, seconds = (int(part) for part in start.split(":"))
    except ValueError:
        refuse(f"its restriction start {start!r} is not HH:MM:SS")
        return None
    duration = int(restriction.get("duration_seconds", 0))
    if seconds or duration % 60:
        refuse("a restriction that starts or ends between minutes")
        return None
    minute_of_day = hours * 60 + minutes
    if kind == "daily_restriction":
        if duration >= 24 * 3600:
            return []
        spans: list[tuple[tuple[str, str], ...]] = []
        for day in range(7):
            found = windows(day * 1440 + minute_of_day, duration // 60)
            spans.extend(found or [])
        return spans
    if kind == "weekly_restriction":
        day = int(restriction.get("start_day_of_week", 0))
        if not 1 <= day <= 7:
            refuse(f"a weekly restriction's start_day_of_week {day} is not 1 (Monday) to 7")
            return None
        found = windows((day - 1) * 1440 + minute_of_day, duration // 60)
        return [] if found is None else found
    refuse(f"a restriction of type {kind!r} is not one the importer knows")
    return None


def _escalations(policies: list[Any], schedules: dict[str, SchedulePlan], plan: Plan) -> dict[str, str]:
    """Each policy's rules as neutral rules (escalation.map_policies fits them onto L1, L2 and fallback).

    `escalation_delay_in_minutes` is the wait after a rule before the next;
    `num_loops` the repeats. Returns policy id → the key of the schedule it pages first.
    """
    translated = []
    for policy in policies:
        name = str(policy.get("name") or policy.get("id"))
        rules = []
        for number, rule in enumerate(
            field(policy, "escalation_rules", f"Escalation policy {name}"), start=1
        ):
            targets = []
            for target in field(rule, "targets", f"Escalation policy {name}"):
                kind, key = str(target.get("type", "")), str(target.get("id", ""))
                if kind == "schedule_reference":
                    label = schedules[key].name if key in schedules else f"schedule {key}"
                    targets.append(Target(SCHEDULE, key, label))
                elif kind == "user_reference":
                    label = plan.people[key].name if key in plan.people else f"user {key}"
                    targets.append(Target(PERSON, key, label))
                else:
                    targets.append(Target(kind, key, f"{kind} {key}"))
            wait = int(rule.get("escalation_delay_in_minutes") or 0)
            rules.append(Rule(f"rule {number}", tuple(targets), wait))
        translated.append(
            Policy(str(policy.get("id")), name, tuple(rules), repeats=int(policy.get("num_loops") or 0))
        )
    return map_policies(translated, schedules, plan)
