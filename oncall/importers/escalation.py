"""A source's escalation policies → Morgue's rungs (L1, L2, fallback team). No Django.

Morgue pages a team in at most three rungs (oncall.services.pages): the
team's L1, then its L2 when its rotation has one, then the L1 of its
fallback team; each rung waits the team's escalation timeout. Each source
module translates its policies into the neutral `Policy` below and
`map_policies` fits them onto those rungs:

- rule 1 pages one schedule: that schedule's team; its wait is the team's
  escalation timeout;
- the next rule becomes L2 when it pages exactly Morgue's L2, the previous
  turn's L1 of the team's one rotation (`assign_levels`): Opsgenie's
  `previous` on-call of the same schedule, or a "secondary" schedule whose
  turn k is the primary's turn k-1 (PagerDuty's and Grafana OnCall's usual
  way to write it), checked turn by turn;
- the next rule pages another schedule (its team becomes the fallback team)
  or one fixed person (a one-person team, always that person and free of
  overrides, becomes the fallback team);
- a rule that pages the first schedule again re-notifies the same person:
  Morgue notifies them once (their own notification rules repeat), and the
  waits add up so the next rung comes when the source's would.

What does not fit is a Problem naming the rule and why. It blocks the
import only when it changes who is paged (a rule Morgue would never reach,
several people at once, a target that is not a person or schedule); waits
Morgue rounds and repeats it does not make are reported without blocking.
"""

import datetime as dt
from dataclasses import dataclass, field

from django.utils.text import slugify

from .plan import Plan, Problem, RotationPlan, SchedulePlan, TimelineEntry

SCHEDULE = "schedule"  # the schedule's on-call person
PREVIOUS = "previous"  # the schedule's previous on-call person (Opsgenie's notifyType `previous`)
PERSON = "person"  # one fixed person
MAX_WAIT_MINUTES = 24 * 60
# A one-person rotation has the same person at every turn: a fixed anchor keeps a re-import a no-op.
ALWAYS_FROM = dt.datetime(2000, 1, 3)


@dataclass(frozen=True)
class Target:
    kind: str  # SCHEDULE, PREVIOUS, PERSON, or the source's own word for anything else
    key: str
    label: str


@dataclass(frozen=True)
class Rule:
    label: str  # "rule 2", "step 3": how the source numbers it
    targets: tuple[Target, ...]
    wait_minutes: int  # after this rule is notified, before the next one


@dataclass(frozen=True)
class Policy:
    key: str
    name: str
    rules: tuple[Rule, ...]
    repeats: int = 0
    notes: tuple[str, ...] = field(default=())  # steps that page nobody, reported without blocking


@dataclass(frozen=True)
class _Mapping:
    wait: int
    has_l2: bool
    l2_from: str | None
    fallback: str | None


def map_policies(policies: list[Policy], schedules: dict[str, SchedulePlan], plan: Plan) -> dict[str, str]:
    """Set each paged schedule's timeout, L2 and fallback; return policy key → the schedule it pages first."""
    paged: dict[str, str] = {}
    mapped: dict[str, tuple[str, _Mapping]] = {}
    for policy in policies:
        for note in policy.notes:
            plan.problems.append(
                Problem("escalation step", f"{policy.name} {note}", "it pages nobody", False)
            )
        result = _map(policy, schedules, plan)
        if result is None:
            continue
        team, mapping = result
        paged[policy.key] = team.key
        earlier = mapped.get(team.key)
        if earlier is not None:
            if earlier[1] != mapping:
                plan.problems.append(
                    Problem(
                        "escalation policy",
                        policy.name,
                        f"it escalates {team.name} differently from {earlier[0]}, and a Morgue team "
                        "has one escalation",
                    )
                )
            continue
        mapped[team.key] = (policy.name, mapping)
        team.escalation_minutes = mapping.wait
        team.has_l2 = mapping.has_l2
        if mapping.l2_from is not None:
            team.l2_timeline = schedules[mapping.l2_from].timeline
        team.fallback = mapping.fallback
    return paged


def _map(
    policy: Policy, schedules: dict[str, SchedulePlan], plan: Plan
) -> tuple[SchedulePlan, _Mapping] | None:
    def report(rule: Rule | None, reason: str, blocks: bool = True) -> None:
        name = f"{policy.name} {rule.label}" if rule else policy.name
        plan.problems.append(
            Problem("escalation rule" if rule else "escalation policy", name, reason, blocks)
        )

    rules = list(policy.rules)
    first_schedules = [target for target in (rules[0].targets if rules else ()) if target.kind == SCHEDULE]
    if not first_schedules or first_schedules[0].key not in schedules:
        report(None, "its first rule does not page an imported schedule", blocks=False)
        return None
    team = schedules[first_schedules[0].key]
    extra = [target.label for target in rules[0].targets if target is not first_schedules[0]]
    if extra:
        report(rules[0], f"it also pages {', '.join(extra)} at once; Morgue pages one person per step")
    waits = [rules[0].wait_minutes]  # the wait after each rung Morgue keeps
    has_l2, l2_from, fallback = False, None, None
    for rule in rules[1:]:
        if len(rule.targets) != 1:
            who = ", ".join(target.label for target in rule.targets) or "nobody"
            report(rule, f"it pages {who} at once; Morgue pages one person per step")
            continue
        target = rule.targets[0]
        if target.kind == SCHEDULE and target.key == team.key and fallback is None:
            report(
                rule,
                f"it pages {team.name}'s on-call person again; Morgue notifies them once "
                "(their own notification rules repeat it) and waits as long before the next step",
                blocks=False,
            )
            waits[-1] += rule.wait_minutes
            continue
        if fallback is not None:
            report(
                rule, f"Morgue's escalation ends at the fallback team, so {target.label} would never be paged"
            )
            continue
        if not has_l2 and target.kind in (SCHEDULE, PREVIOUS):
            reason = _why_not_l2(target, team, schedules)
            if reason is None:
                has_l2 = True
                l2_from = target.key if target.kind == SCHEDULE else None
                waits.append(rule.wait_minutes)
                continue
            if target.kind == PREVIOUS:
                report(rule, reason)
                continue
        if target.kind == SCHEDULE and target.key in schedules:
            fallback = target.key
            continue
        if target.kind == PERSON and target.key in plan.people:
            fallback = _person_team(target.key, plan, schedules).key
            continue
        if target.kind in (SCHEDULE, PERSON):
            report(rule, f"{target.label} was not imported")
            continue
        report(rule, f"it pages {target.label}, which is not a schedule or one person")
    if policy.repeats:
        report(
            None,
            f"it repeats {policy.repeats} times; Morgue pages each step once (the people paged are the same)",
            blocks=False,
        )
    wait = waits[0]
    if not 1 <= wait <= MAX_WAIT_MINUTES:
        clamped = min(max(wait, 1), MAX_WAIT_MINUTES)
        report(rules[0], f"it waits {wait} minutes; Morgue waits {clamped}", blocks=False)
        wait = clamped
    if has_l2 and fallback is not None and waits[1] != waits[0]:
        report(
            None,
            f"it waits {waits[1]} minutes at the second step; Morgue waits a team's one timeout "
            f"({wait} minutes) at each level",
            blocks=False,
        )
    return team, _Mapping(wait, has_l2, l2_from, fallback)


def _why_not_l2(target: Target, team: SchedulePlan, schedules: dict[str, SchedulePlan]) -> str | None:
    """None when the target is exactly Morgue's L2 of the team; else why not."""
    rotation = _single(team)
    if rotation is None:
        return (
            f"Morgue's L2 is the previous turn's L1 of one rotation, and {team.name} is not one rotation "
            "of two people or more without restrictions or overrides"
        )
    if target.kind == PREVIOUS:
        return (
            None
            if target.key == team.key
            else f"it pages the previous on-call of another schedule ({target.label})"
        )
    other = schedules.get(target.key)
    secondary = _single(other) if other is not None else None
    if secondary is None:
        return "not the previous turn of the first schedule"
    step = dt.timedelta(hours=rotation.turn_hours)
    if (
        secondary.time_zone != rotation.time_zone
        or secondary.turn_hours != rotation.turn_hours
        or set(secondary.members) != set(rotation.members)
        or (secondary.virtual_start - rotation.virtual_start) % step
    ):
        return "not the previous turn of the first schedule"
    shift = (secondary.virtual_start - rotation.virtual_start) // step
    count = len(rotation.members)
    if any(
        secondary.members[turn % count] != rotation.members[(turn + shift - 1) % count]
        for turn in range(count)
    ):
        return "not the previous turn of the first schedule"
    return None


def _single(schedule: SchedulePlan) -> RotationPlan | None:
    """The schedule's one unrestricted rotation of two people or more, with no overrides."""
    if len(schedule.rotations) != 1 or schedule.overrides:
        return None
    rotation = schedule.rotations[0]
    if rotation.restrictions or len(rotation.members) < 2:
        return None
    return rotation


def _person_team(key: str, plan: Plan, schedules: dict[str, SchedulePlan]) -> SchedulePlan:
    """The one-person team a fixed-person rule pages: always that person, no overrides."""
    found = schedules.get(f"person:{key}")
    if found is not None:
        return found
    person = plan.people[key]
    slug = ("person-" + slugify(person.email.split("@")[0]))[:40]
    assert plan.since is not None and plan.until is not None
    team = SchedulePlan(
        key=f"person:{key}",
        name=f"{person.name} (escalation)",
        slug=slug,
        time_zone="UTC",
        rotations=[
            RotationPlan(
                key=f"person:{key}",
                name="Always",
                time_zone="UTC",
                virtual_start=ALWAYS_FROM,
                turn_hours=7 * 24,
                members=(key,),
            )
        ],
        # Nothing but that person: the source pages them whenever the rule is reached.
        timeline=[TimelineEntry(plan.since, plan.until, key)],
        person_step=True,
    )
    plan.schedules.append(team)
    schedules[team.key] = team
    return team
