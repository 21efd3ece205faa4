"""Grafana OnCall public API v1 → the neutral plan.

Shapes follow Grafana OnCall's HTTP API reference (grafana.com/docs/oncall/latest/
oncall-api-reference: "Users", "Schedules", "OnCall shifts" with `rolling_users`,
"Schedules → final shifts", "Escalation chains", "Escalation policies", "Alert
groups"): lists answer `results` and page with a `next` link; the token goes in
`Authorization: <token>` as it is.

What maps to what: a user → a person; a schedule → a team; a `rolling_users`
shift → an L1-only rotation, layered by its `level` + 1 (a higher level wins),
turns of `interval` × hourly/daily/weekly from `rotation_start` (else
`start`) on the schedule's wall clock; a daily shift shorter than its day →
a daily window; an `override` shift → an override of the top layer; an
escalation chain: its steps fitted onto Morgue's L1, L2 and fallback team by
oncall.importers.escalation; alert groups of the last 12 months → review history;
`final_shifts` → the timeline the verifier compares against.

A `single_event` (a one-off) is an override of the rotation at its level;
a `recurrent_event` of one person, and a one-person `rolling_users` shift
with `by_day`, are a one-person rotation active in weekly windows; `until`
ends the rotation then. Cannot be expressed (reported with the reason, and
blocking, as each changes who is on call): `by_month`/`by_monthday`, a
monthly frequency, a `by_day` rotation of several people, an event repeating
every N > 1 weeks, several people in one turn.
"""

import datetime as dt
from dataclasses import replace
from typing import Any
from zoneinfo import ZoneInfo

from django.utils.text import slugify

from .common import field, instant, windows, zone_name
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

SOURCE = "grafana-oncall"
HISTORY = dt.timedelta(days=365)
FREQUENCY_HOURS = {"hourly": 1, "daily": 24, "weekly": 7 * 24}


def auth_headers(token: str) -> dict[str, str]:
    return {"Authorization": token}


def paginate(reader: Reader, path: str, params: dict[str, str] | None = None) -> list[Any]:
    """Every item of a list, following `next` links."""
    answer = reader.get(path, params)
    items: list[Any] = []
    while True:
        page = field(answer, "results", f"Grafana OnCall's answer to {path}")
        if not isinstance(page, list):
            raise ImportFailed(f"Grafana OnCall's answer to {path} has no list 'results'.")
        items.extend(page)
        following = answer.get("next")
        if not following or not page:
            return items
        answer = reader.get_url(following)


def _local(value: object, where: str) -> dt.datetime:
    """Grafana OnCall's shift times: local naive ISO (in the shift's or schedule's zone)."""
    try:
        parsed = dt.datetime.fromisoformat(str(value).replace("Z", ""))
    except ValueError:
        raise ImportFailed(f"{where}: {value!r} is not a date and time (ISO 8601).") from None
    return parsed.replace(tzinfo=None)


def read(reader: Reader, *, now: dt.datetime, weeks: int) -> Plan:
    """Translate everything the API (or a directory saved from it) holds into a plan."""
    since = now.replace(second=0, microsecond=0)
    until = since + dt.timedelta(weeks=weeks)
    plan = Plan(source=SOURCE, since=since, until=until)
    for user in paginate(reader, "/api/v1/users/"):
        key = str(field(user, "id", "A Grafana OnCall user"))
        email = str(field(user, "email", f"Grafana OnCall user {key}")).lower()
        where = f"Grafana OnCall user {email}"
        name = str(user.get("name") or user.get("username") or email)
        plan.people[key] = Person(key, name, email, zone_name(field(user, "timezone", where), where))
    schedules: dict[str, SchedulePlan] = {}
    for data in paginate(reader, "/api/v1/schedules/"):
        key = str(field(data, "id", "A Grafana OnCall schedule"))
        name = str(field(data, "name", f"Grafana OnCall schedule {key}"))
        where = f"Grafana OnCall schedule {name}"
        schedule = SchedulePlan(
            key=key,
            name=name,
            slug=slugify(name)[:40] or key.lower()[:40],
            time_zone=zone_name(field(data, "time_zone", where), where),
        )
        final = paginate(
            reader,
            f"/api/v1/schedules/{key}/final_shifts/",
            {"start_date": since.date().isoformat(), "end_date": until.date().isoformat()},
        )
        for entry in final:
            schedule.timeline.append(
                TimelineEntry(
                    instant(entry.get("shift_start"), f"{name}'s final shifts"),
                    instant(entry.get("shift_end"), f"{name}'s final shifts"),
                    str(entry.get("user_pk")) if entry.get("user_pk") else None,
                )
            )
        plan.schedules.append(schedule)
        schedules[key] = schedule
    for shift in paginate(reader, "/api/v1/on_call_shifts/"):
        schedule_key = str(shift.get("schedule") or "")
        if schedule_key in schedules:
            _shift(shift, schedules[schedule_key], plan)
    for schedule in schedules.values():
        _place_events(schedule, plan)
    chains = {str(chain.get("id")): chain for chain in paginate(reader, "/api/v1/escalation_chains/")}
    _escalations(chains, paginate(reader, "/api/v1/escalation_policies/"), schedules, plan)
    for group in paginate(reader, "/api/v1/alert_groups/"):
        key = str(field(group, "id", "A Grafana OnCall alert group"))
        fired = instant(group.get("created_at"), f"Alert group {key}")
        if fired < since - HISTORY:
            continue
        resolved = group.get("resolved_at")
        plan.history.append(
            HistoryAlert(
                identity=f"grafana-oncall:{key}",
                title=str(group.get("title") or key),
                fired_at=fired,
                resolved_at=instant(resolved, f"Alert group {key}") if resolved else None,
                schedule=None,  # an alert group names its integration and route, not a schedule
                state=str(group.get("state", "")),
            )
        )
    return plan


def _place_events(schedule: SchedulePlan, plan: Plan) -> None:
    """A one-off event needs a rotation at or below its level to be an override of."""
    for override in list(schedule.overrides):
        if override.layer is None or any(rotation.layer <= override.layer for rotation in schedule.rotations):
            continue
        schedule.overrides.remove(override)
        past = plan.since is not None and override.ends_at <= plan.since
        plan.problems.append(
            Problem(
                "shift",
                override.name,
                f"a one-off event at level {override.layer - 1}, below every rotation of the schedule: "
                "Morgue has no layer for it" + (" (it is over: left out)" if past else ""),
                blocks=not past,
            )
        )


WEEKDAY_CODES = ("MO", "TU", "WE", "TH", "FR", "SA", "SU")


def _shift(shift: Any, schedule: SchedulePlan, plan: Plan) -> None:
    name = str(shift.get("name") or shift.get("id"))
    where = f"{schedule.name} / {name}"
    kind = shift.get("type")
    zone = zone_name(shift.get("time_zone") or schedule.time_zone, where)
    # "If two events overlap in one schedule, Grafana OnCall will choose the event with higher
    # level" (API reference, "OnCall shifts", `level`). Its levels start at 0; Morgue's layers at 1.
    level = int(shift.get("level") or 0) + 1

    def refuse(reason: str) -> None:
        plan.problems.append(Problem("shift", where, reason))

    start = _local(field(shift, "start", where), where)
    duration = dt.timedelta(seconds=int(field(shift, "duration", where)))
    users = [str(user) for user in shift.get("users") or []]
    if kind in ("override", "single_event"):
        # An override wins over every level; a one-off event holds its own
        # level: an override of the rotation at that level (it fills its whole
        # window there, and a higher level still wins where it has someone).
        if len(users) != 1 or users[0] not in plan.people:
            refuse(f"an {kind} needs exactly one known person; Morgue has one person on call at a time")
            return
        begins = start.replace(tzinfo=ZoneInfo(zone)).astimezone(dt.UTC)
        layer = None if kind == "override" else level
        schedule.overrides.append(OverridePlan(users[0], begins, begins + duration, layer=layer, name=where))
        return
    ends_at = None
    if shift.get("until"):
        ends_at = _local(shift["until"], where).replace(tzinfo=ZoneInfo(zone)).astimezone(dt.UTC)
        if plan.since is not None and ends_at <= plan.since:
            plan.problems.append(Problem("shift", where, f"it ended on {shift['until']}: left out", False))
            return
    if kind not in ("rolling_users", "recurrent_event"):
        refuse(f"a {kind} shift is not a kind Grafana OnCall documents for the API")
        return
    if shift.get("by_month") or shift.get("by_monthday"):
        refuse("it repeats by month (by_month, by_monthday); Morgue's windows repeat each week")
        return
    frequency = str(shift.get("frequency"))
    if frequency == "monthly":
        refuse("a monthly turn is 28 to 31 days long; a Morgue rotation's turns all have one length")
        return
    if frequency not in FREQUENCY_HOURS:
        refuse(f"a {frequency} frequency is not hourly, daily or weekly")
        return
    interval = int(shift.get("interval") or 1)
    hours = FREQUENCY_HOURS[frequency] * interval
    by_day = [str(day).upper() for day in shift.get("by_day") or []]
    if kind == "recurrent_event":
        groups = [users]
    else:
        groups = [[str(user) for user in group] for group in shift.get("rolling_users") or []]
    if not groups or any(len(group) != 1 for group in groups):
        refuse("a turn of several people at once; Morgue has one person on call at a time")
        return
    members = tuple(group[0] for group in groups)
    if any(member not in plan.people for member in members) or len(set(members)) != len(members):
        refuse("a turn names an unknown person, or a person twice")
        return
    rotation_start = _local(shift.get("rotation_start") or shift["start"], where)
    begins = rotation_start.replace(tzinfo=ZoneInfo(zone)).astimezone(dt.UTC)
    restrictions: list[tuple[tuple[str, str], ...]] = []
    if by_day or duration < dt.timedelta(hours=hours) or kind == "recurrent_event":
        found = _occurrence_windows(start, duration, frequency, interval, by_day, len(members), refuse)
        if found is None:
            return
        restrictions = found
        if len(members) == 1:
            hours = 7 * 24  # one person: the windows alone say when
    elif duration > dt.timedelta(hours=hours):
        refuse("a shift longer than its turn overlaps itself")
        return
    offset = int(shift.get("start_rotation_from_user_index") or 0) % len(members)
    schedule.rotations.append(
        RotationPlan(
            key=str(shift.get("id") or name),
            name=name,
            time_zone=zone,
            virtual_start=rotation_start,
            turn_hours=hours,
            members=members[offset:] + members[:offset],
            restrictions=tuple(restrictions),
            layer=level,
            starts_at=begins if plan.since is not None and begins > plan.since else None,
            ends_at=ends_at,
        )
    )


def _occurrence_windows(
    start: dt.datetime,
    duration: dt.timedelta,
    frequency: str,
    interval: int,
    by_day: list[str],
    people: int,
    refuse: Any,
) -> list[tuple[tuple[str, str], ...]] | None:
    """The weekly windows of a shift that is on call only part of the time (by_day, or shorter than its turn).

    Each occurrence starts at the start's wall time on each of its days, for
    `duration`. Expressible when the occurrences repeat each week and one
    person holds them all, or, for several people, when they are the daily
    window of a rotation of whole days (the turns go on by the day).
    """
    if frequency == "hourly":
        refuse("an hourly shift shorter than its turn has no daily window")
        return None
    if interval != 1:
        refuse(f"it repeats every {interval} {frequency} turns; Morgue's windows repeat each week")
        return None
    if by_day and people > 1:
        refuse(
            "its turns skip the days not in by_day, and a Morgue rotation's turns follow one another "
            "on the wall clock: who holds which day would differ"
        )
        return None
    unknown = [day for day in by_day if day not in WEEKDAY_CODES]
    if unknown:
        refuse(f"by_day {', '.join(unknown)} is not a weekday (MO to SU)")
        return None
    if by_day:
        days = [WEEKDAY_CODES.index(day) for day in by_day]
    elif frequency == "daily":
        days = list(range(7))
    else:
        days = [start.weekday()]
    span = dt.timedelta(days=1) if frequency == "daily" else dt.timedelta(days=7)
    if duration > span or (by_day and frequency == "daily" and duration > dt.timedelta(days=1)):
        refuse("each occurrence is longer than the time to the next; they would overlap")
        return None
    minutes = int(duration.total_seconds() // 60)
    found: list[tuple[tuple[str, str], ...]] = []
    for day in sorted(set(days)):
        found.extend(windows(day * 1440 + start.hour * 60 + start.minute, minutes) or [])
    return found


# Steps that notify nobody (Grafana OnCall's escalation policy types): reported, never blocking.
SILENT_STEPS = {"trigger_webhook", "trigger_action", "notify_whole_channel", "resolve", "declare_incident"}


def _escalations(
    chains: dict[str, Any], policies: list[Any], schedules: dict[str, SchedulePlan], plan: Plan
) -> dict[str, str]:
    """Each chain's steps as neutral rules (escalation.map_policies fits them onto L1, L2, fallback).

    A `wait` step (seconds) is the wait after the step before it;
    `notify_persons` pages its persons at once; `repeat_escalation` repeats
    the chain (up to five times). Returns chain id → schedule key.
    """
    steps: dict[str, list[Any]] = {}
    for policy in sorted(policies, key=lambda item: int(item.get("position") or 0)):
        steps.setdefault(str(policy.get("escalation_chain_id")), []).append(policy)
    translated = []
    for chain_id, chain in chains.items():
        name = str(chain.get("name") or chain_id)
        rules: list[Rule] = []
        notes: list[str] = []
        repeats = 0
        for policy in steps.get(chain_id, []):
            kind = str(policy.get("type"))
            label = f"step {policy.get('position')}"
            if kind == "wait":
                minutes = int(policy.get("duration") or 0) // 60
                if rules:
                    rules[-1] = replace(rules[-1], wait_minutes=rules[-1].wait_minutes + minutes)
                else:
                    notes.append(f"{label} (a wait before anyone is paged: Morgue pages at once)")
                continue
            if kind == "repeat_escalation":
                repeats = 5
                continue
            if kind in SILENT_STEPS:
                notes.append(f"{label} ({kind})")
                continue
            targets: tuple[Target, ...]
            if kind == "notify_on_call_from_schedule":
                key = str(policy.get("notify_on_call_from_schedule") or "")
                targets = (
                    Target(SCHEDULE, key, schedules[key].name if key in schedules else f"schedule {key}"),
                )
            elif kind == "notify_persons":
                targets = tuple(
                    Target(
                        PERSON,
                        str(user),
                        plan.people[str(user)].name if str(user) in plan.people else str(user),
                    )
                    for user in policy.get("persons_to_notify") or []
                )
            else:
                targets = (Target(kind, str(policy.get("id")), f"a {kind} step"),)
            rules.append(Rule(f"{label} ({kind})", targets, 0))
        translated.append(Policy(chain_id, name, tuple(rules), repeats=repeats, notes=tuple(notes)))
    return map_policies(translated, schedules, plan)
