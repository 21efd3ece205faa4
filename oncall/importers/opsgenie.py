"""Opsgenie REST API v2 → the neutral plan.

Shapes follow Opsgenie's API (docs.opsgenie.com, "Schedule API", "Schedule
Rotation API", "Schedule Override API", "Escalation API", "User API", "Alert
API") as the PyPI `opsgenie-sdk` models them (Schedule, Rotation,
TimeRestrictionInterval, Recipient, ScheduleOverride, TimelineRotation,
Period): answers wrap their payload in `data`; lists paginate with
`offset`/`limit` and give `paging.next`; the key goes in
`Authorization: GenieKey <key>`.

What maps to what:
- a user → a person (`username` is the email, `timeZone` their zone);
- a schedule → a team; each rotation → a rotation of it (L1 only). Opsgenie's
  rotations are cumulative (all their on-call people are notified), so they
  import when their windows do not overlap (checked on the source's own
  final timeline; overlaps are named and block); Morgue layers them in the
  order listed, which then changes nothing. Turns of
  `length` × hourly/daily/weekly from `startDate`, handing off on the
  schedule's wall clock; `timeRestriction` (time-of-day, or
  weekday-and-time-of-day) → weekly windows, advancing by wall time;
- an override → an override of the rotations it names (all: the top layer);
- an escalation: its rules fitted onto Morgue's L1, L2 (`notifyType`
  `previous` of the same schedule) and fallback team by oncall.importers.escalation;
- alerts of the last 12 months → unclassified alerts in the review history;
- `finalTimeline` of /v2/schedules/{id}/timeline → the timeline the verifier compares against.

A `none` participant between people (a turn with nobody on call) becomes one
windowed rotation per person when the cycle repeats each week; otherwise it
cannot be expressed, and is reported with the reason, as are a participant
that is a team or an escalation and a person listed twice. A rotation that
starts or ends later takes over or ends then.
"""

import datetime as dt
from typing import Any
from zoneinfo import ZoneInfo

from django.utils.text import slugify

from .common import WEEK_MINUTES, field, instant, iso, simultaneous, turn_windows, windows, zone_name
from .escalation import PERSON, PREVIOUS, SCHEDULE, Policy, Rule, Target, map_policies
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

SOURCE = "opsgenie"
PAGE_SIZE = 100
HISTORY = dt.timedelta(days=365)
TURN_HOURS = {"hourly": 1, "daily": 24, "weekly": 7 * 24}
DAYS = ("monday", "tuesday", "wednesday", "thursday", "friday", "saturday", "sunday")


def auth_headers(token: str) -> dict[str, str]:
    return {"Authorization": f"GenieKey {token}"}


def data(answer: Any, path: str) -> Any:
    return field(answer, "data", f"Opsgenie's answer to {path}")


def paginate(reader: Reader, path: str, params: dict[str, str] | None = None) -> list[Any]:
    """Every item of a list: `offset` steps by `limit` while the answer gives `paging.next`."""
    items: list[Any] = []
    offset = 0
    while True:
        answer = reader.get(path, {**(params or {}), "limit": str(PAGE_SIZE), "offset": str(offset)})
        page = data(answer, path)
        if not isinstance(page, list):
            raise ImportFailed(f"Opsgenie's answer to {path} has no list: not a schema the importer knows.")
        items.extend(page)
        if not (answer.get("paging") or {}).get("next") or not page:
            return items
        offset += len(page)


def read(reader: Reader, *, now: dt.datetime, weeks: int) -> Plan:
    """Translate everything the API (or a directory saved from it) holds into a plan."""
    since = now.replace(second=0, microsecond=0)
    until = since + dt.timedelta(weeks=weeks)
    plan = Plan(source=SOURCE, since=since, until=until)
    for user in paginate(reader, "/v2/users"):
        key = str(field(user, "id", "An Opsgenie user"))
        email = str(field(user, "username", f"Opsgenie user {key}")).lower()
        name = str(user.get("fullName") or email)
        where = f"Opsgenie user {name}"
        plan.people[key] = Person(key, name, email, zone_name(field(user, "timeZone", where), where))
    by_name = {person.email: person.key for person in plan.people.values()}
    schedules: dict[str, SchedulePlan] = {}
    for summary in paginate(reader, "/v2/schedules"):
        key = str(field(summary, "id", "An Opsgenie schedule"))
        name = str(field(summary, "name", f"Opsgenie schedule {key}"))
        where = f"Opsgenie schedule {name}"
        schedule = SchedulePlan(
            key=key,
            name=name,
            slug=slugify(name)[:40] or key.lower()[:40],
            time_zone=zone_name(field(summary, "timezone", where), where),
        )
        rotations = data(reader.get(f"/v2/schedules/{key}/rotations"), f"/v2/schedules/{key}/rotations")
        rank = 0
        for rotation in rotations:
            # Ranked among the rotations in force: one that ended moves no other.
            translated = _rotation(rotation, schedule, rank + 1, plan, by_name)
            if translated:
                rank += 1
                schedule.rotations.extend(translated)
        for override in data(reader.get(f"/v2/schedules/{key}/overrides"), f"/v2/schedules/{key}/overrides"):
            person = _participant(field(override, "user", f"An override of {name}"), by_name)
            if person is None:
                plan.problems.append(
                    Problem("override", f"{name} {override.get('alias')}", "it is not a person")
                )
                continue
            named: list[str | None] = [str(item.get("id")) for item in override.get("rotations") or []]
            for rotation_key in named or [None]:
                schedule.overrides.append(
                    OverridePlan(
                        person,
                        instant(override.get("startDate"), f"Override of {name}"),
                        instant(override.get("endDate"), f"Override of {name}"),
                        rotation=rotation_key,
                    )
                )
        timeline = data(
            reader.get(
                f"/v2/schedules/{key}/timeline",
                {"interval": str(weeks), "intervalUnit": "weeks", "date": iso(since)},
            ),
            f"/v2/schedules/{key}/timeline",
        )
        final = field(field(timeline, "finalTimeline", where), "rotations", where)
        for rotation in final:
            for period in rotation.get("periods") or []:
                recipient = period.get("recipient") or {}
                schedule.timeline.append(
                    TimelineEntry(
                        instant(period.get("startDate"), f"{name}'s final timeline"),
                        instant(period.get("endDate"), f"{name}'s final timeline"),
                        _participant(recipient, by_name),
                    )
                )
        _check_simultaneous(schedule, plan)
        plan.schedules.append(schedule)
        schedules[key] = schedule
    paged = _escalations(paginate(reader, "/v2/escalations"), schedules, plan)
    created = f"createdAt>{int((since - HISTORY).timestamp() * 1000)}"
    for alert in paginate(reader, "/v2/alerts", {"query": created, "sort": "createdAt", "order": "asc"}):
        key = str(field(alert, "id", "An Opsgenie alert"))
        status = str(alert.get("status", ""))
        closed = (alert.get("report") or {}).get("closeTime")
        fired = instant(alert.get("createdAt"), f"Opsgenie alert {key}")
        resolved = None
        if status == "closed":
            resolved = (
                fired + dt.timedelta(milliseconds=int(closed))
                if closed
                else instant(alert.get("updatedAt"), f"Opsgenie alert {key}")
            )
        responders = [(item.get("type"), str(item.get("id"))) for item in alert.get("responders") or []]
        schedule_key = next(
            (
                schedules[key_].key if kind == "schedule" else paged[key_]
                for kind, key_ in responders
                if (kind == "schedule" and key_ in schedules) or (kind == "escalation" and key_ in paged)
            ),
            None,
        )
        plan.history.append(
            HistoryAlert(
                identity=f"opsgenie:{key}",
                title=str(alert.get("message") or key),
                fired_at=fired,
                resolved_at=resolved,
                schedule=schedule_key,
                severity=str(alert.get("priority", "")),
                state=status,
            )
        )
    return plan


def _check_simultaneous(schedule: SchedulePlan, plan: Plan) -> None:
    """Where rotations overlap, Opsgenie notifies all their on-call people: Morgue cannot.

    Opsgenie's rotations are cumulative, not layered: "when an alert is
    escalated through the schedule, all on-call users in all the different
    rotations are notified" (support.atlassian.com/opsgenie/docs/manage-on-call-
    schedules-and-rotations). Morgue pages one person per level, so a
    schedule whose own final timeline has two people at once cannot be
    imported as it is; rotations whose windows do not overlap (the usual
    business-hours / off-hours pair) import exactly, in any order.
    """
    found = simultaneous(schedule.timeline)
    if not found:
        return
    start, end, people = found[0]
    names = " and ".join(plan.people[key].name if key in plan.people else key for key in people)
    plan.problems.append(
        Problem(
            "schedule",
            schedule.name,
            "Opsgenie notifies the on-call people of all its rotations at once where they overlap, and "
            f"Morgue pages one person per level: {names} are both on call from {start:%Y-%m-%d %H:%M} to "
            f"{end:%Y-%m-%d %H:%M} UTC ({len(found)} such stretches); give the rotations windows that do "
            "not overlap",
        )
    )


def _participant(recipient: Any, by_name: dict[str, str]) -> str | None:
    if not isinstance(recipient, dict) or recipient.get("type") != "user":
        return None
    key = str(recipient.get("id") or "")
    return key or by_name.get(str(recipient.get("username", "")).lower())


def _rotation(
    rotation: Any, schedule: SchedulePlan, rank: int, plan: Plan, by_name: dict[str, str]
) -> list[RotationPlan] | None:
    name = str(rotation.get("name") or f"Rotation {rank}")
    where = f"{schedule.name} / {name}"
    now = plan.since or dt.datetime.now(dt.UTC)

    def refuse(reason: str) -> None:
        plan.problems.append(Problem("rotation", where, reason))

    end = rotation.get("endDate")
    if end and instant(end, where) <= now:
        plan.problems.append(Problem("rotation", where, f"it ended on {end}: left out", blocks=False))
        return None
    start = instant(field(rotation, "startDate", where), where)
    kind = str(field(rotation, "type", where))
    if kind not in TURN_HOURS:
        refuse(f"its type {kind!r} is not hourly, daily or weekly")
        return None
    hours = TURN_HOURS[kind] * int(rotation.get("length") or 1)
    if hours > 28 * 24:
        refuse(f"a turn of {hours} hours is longer than Morgue's longest (672 hours)")
        return None
    participants = field(rotation, "participants", where)
    kinds = {str(item.get("type")) for item in participants}
    if kinds == {"none"}:
        plan.problems.append(
            Problem("rotation", where, "only `none` is in it: nobody to import", blocks=False)
        )
        return None
    if kinds - {"user", "none"}:
        refuse(f"a participant of type {', '.join(sorted(kinds - {'user'}))} is not a person")
        return None
    turns = tuple(
        None if item.get("type") == "none" else (_participant(item, by_name) or "?") for item in participants
    )
    members = tuple(member for member in turns if member is not None)
    unknown = [member for member in members if member not in plan.people]
    if unknown:
        refuse("a participant is not in /v2/users")
        return None
    local_start = start.astimezone(ZoneInfo(schedule.time_zone)).replace(tzinfo=None)
    common = {
        "time_zone": schedule.time_zone,
        "turn_hours": hours,
        "layer": rank,
        "starts_at": start if start > now else None,
        "ends_at": instant(end, where) if end else None,
    }
    if None in turns:
        return _with_gaps(rotation, name, turns, local_start, common, plan, refuse)
    if len(set(members)) != len(members):
        refuse("a person appears twice in its turn order; a Morgue rotation lists each person once")
        return None
    restrictions = _restrictions(rotation.get("timeRestriction"), refuse)
    if restrictions is None:
        return None
    return [
        RotationPlan(
            key=str(rotation.get("id") or name),
            name=name,
            virtual_start=local_start,
            members=members,
            restrictions=tuple(restrictions),
            **common,  # type: ignore[arg-type]
        )
    ]


def _with_gaps(
    rotation: Any,
    name: str,
    turns: tuple[str | None, ...],
    local_start: dt.datetime,
    common: dict[str, Any],
    plan: Plan,
    refuse: Any,
) -> list[RotationPlan] | None:
    """A rotation with `none` turns (nobody on call then) as one windowed rotation per person.

    A Morgue rotation has someone on every turn, so an empty turn cannot sit
    in its order. When the whole cycle (turns × length) divides a week, each
    person's turns fall on the same wall times every week: each person gets
    a rotation of their own, active only in those windows, at the same
    layer; in the `none` turns no window is open and the layers below (or
    nobody) answer, as in Opsgenie.
    """
    hours = int(common["turn_hours"])
    if rotation.get("timeRestriction"):
        refuse("its `none` turns and its time restriction together are not weekly windows Morgue can hold")
        return None
    cycle = hours * len(turns)
    found: list[RotationPlan] = []
    for person in dict.fromkeys(member for member in turns if member is not None):
        spans: list[tuple[tuple[str, str], ...]] = []
        for index, member in enumerate(turns):
            if member != person:
                continue
            windows_of_turn = turn_windows(local_start, hours, len(turns), index)
            if windows_of_turn is None:
                refuse(
                    f"its `none` participant leaves turns with nobody on call, and its cycle of {cycle} "
                    "hours does not repeat each week: a Morgue rotation has someone on every turn, and "
                    "its windows repeat weekly"
                )
                return None
            spans.extend(windows_of_turn)
        first = not found
        found.append(
            RotationPlan(
                # The first keeps the source's id, so an override naming the rotation lands on it.
                key=str(rotation.get("id") or name) if first else f"{rotation.get('id') or name}:{person}",
                name=f"{name} ({plan.people[person].name})",
                virtual_start=local_start,
                members=(person,),
                restrictions=tuple(spans),
                **common,
            )
        )
    return found


def _restrictions(restriction: Any, refuse: Any) -> list[tuple[tuple[str, str], ...]] | None:
    if not restriction:
        return []
    kind = restriction.get("type")
    spans: list[tuple[tuple[str, str], ...]] = []
    if kind == "time-of-day":
        item = restriction.get("restriction") or {}
        start = int(item.get("startHour", 0)) * 60 + int(item.get("startMin", 0))
        end = int(item.get("endHour", 0)) * 60 + int(item.get("endMin", 0))
        length = (end - start) % 1440 or 1440
        for day in range(7):
            spans.extend(windows(day * 1440 + start, length) or [])
        return spans
    if kind == "weekday-and-time-of-day":
        for item in restriction.get("restrictions") or []:
            try:
                start_day = DAYS.index(str(item.get("startDay", "")).lower())
                end_day = DAYS.index(str(item.get("endDay", "")).lower())
            except ValueError:
                refuse("a time restriction names a day that is not monday to sunday")
                return None
            start = start_day * 1440 + int(item.get("startHour", 0)) * 60 + int(item.get("startMin", 0))
            end = end_day * 1440 + int(item.get("endHour", 0)) * 60 + int(item.get("endMin", 0))
            length = (end - start) % WEEK_MINUTES or WEEK_MINUTES
            found = windows(start, length)
            if found is None:
                return []
            spans.extend(found)
        return spans
    refuse(f"a time restriction of type {kind!r} is not one the importer knows")
    return None


def _escalations(escalations: list[Any], schedules: dict[str, SchedulePlan], plan: Plan) -> dict[str, str]:
    """Each escalation's rules as neutral rules (escalation.map_policies fits them onto L1, L2, fallback).

    An Opsgenie rule's `delay` counts from the alert's creation, so rules
    with the same delay are notified at once (one step with several
    targets) and a step's wait is the next delay minus its own. A schedule
    with `notifyType` `previous` is its previous on-call person (Morgue's L2);
    `next` and `all` are other people. Returns escalation id → schedule key.
    """
    translated = []
    for escalation in escalations:
        name = str(escalation.get("name") or escalation.get("id"))
        by_delay: dict[int, list[Target]] = {}
        for rule in field(escalation, "rules", f"Escalation {name}"):
            delay = rule.get("delay") or {}
            minutes = int(delay.get("timeAmount", 0)) * (60 if delay.get("timeUnit") == "hours" else 1)
            by_delay.setdefault(minutes, []).append(_target(rule, schedules, plan))
        delays = sorted(by_delay)
        rules = tuple(
            Rule(
                f"rule {number} (after {delay} minutes)",
                tuple(by_delay[delay]),
                (delays[number] - delay) if number < len(delays) else 0,
            )
            for number, delay in enumerate(delays, start=1)
        )
        repeats = int((escalation.get("repeat") or {}).get("count") or 0)
        translated.append(Policy(str(escalation.get("id")), name, rules, repeats=repeats))
    return map_policies(translated, schedules, plan)


def _target(rule: Any, schedules: dict[str, SchedulePlan], plan: Plan) -> Target:
    recipient = rule.get("recipient") or {}
    kind, key = str(recipient.get("type")), str(recipient.get("id"))
    notify = str(rule.get("notifyType") or "default")
    if kind == "schedule":
        label = schedules[key].name if key in schedules else str(recipient.get("name") or key)
        if notify == "default":
            return Target(SCHEDULE, key, label)
        if notify == "previous":
            return Target(PREVIOUS, key, f"the previous on-call person of {label}")
        return Target(f"schedule-{notify}", key, f"the {notify} on-call of {label}")
    if kind == "user":
        by_name = {person.email: person.key for person in plan.people.values()}
        key = key if key in plan.people else by_name.get(str(recipient.get("username", "")).lower(), key)
        label = plan.people[key].name if key in plan.people else str(recipient.get("username") or key)
        return Target(PERSON, key, label)
    return Target(kind, key, f"{kind} {recipient.get('name') or key}")
