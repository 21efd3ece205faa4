"""Escalation policies fitted onto Morgue's rungs: L1, L2 (the previous turn's L1), fallback team.

Fixtures: PagerDuty's `escalation_rules` with `targets` of `schedule_reference`
/ `user_reference`, `escalation_delay_in_minutes` and `num_loops`
(developer.pagerduty.com, "List escalation policies"); Opsgenie's `rules` with
`delay` counted from the alert's creation, `recipient` and `notifyType`
(`default`, `next`, `previous`, `all`: docs.opsgenie.com "Escalation API", the
opsgenie-sdk `EscalationRule` model); Grafana OnCall's escalation policy steps
(`notify_on_call_from_schedule`, `wait` with `duration` in seconds,
`notify_persons`, `repeat_escalation`: its HTTP API reference, "Escalation
policies"). Most tests read the plan only (no database): the mapping is pure.
"""

import datetime as dt
import shutil
from pathlib import Path

import pytest
import time_machine

from morgue.models import Team
from oncall.importers import read_plan
from oncall.importers.readers import DirectoryReader
from oncall.models import Level
from oncall.selectors import person_on_call

from .support import edit, run_import
from .timelines import NOW

FIXTURES = Path(__file__).parent / "fixtures"
OPSGENIE_PAYMENTS = "6d91cfe8-59c4-4a5f-8a7f-3d4e5f6a7b04"


def plan_of(source: str, directory: Path):
    vendor = {"pagerduty": "PagerDuty", "opsgenie": "Opsgenie", "grafana-oncall": "Grafana OnCall"}[source]
    return read_plan(source, DirectoryReader(directory, vendor=vendor), now=NOW, weeks=1)


def schedule(plan, name):
    return next(item for item in plan.schedules if item.name == name)


@pytest.fixture
def copied(tmp_path):
    def copy(source: str) -> Path:
        target = tmp_path / source
        shutil.copytree(FIXTURES / source, target)
        return target

    return copy


def test_pagerduty_rules_become_l1_l2_and_a_person_fallback():
    plan = plan_of("pagerduty", FIXTURES / "pagerduty")
    payments = schedule(plan, "Payments primary")
    assert payments.escalation_minutes == 15
    assert payments.has_l2
    # L2 is verified against the secondary's own rendering.
    assert payments.l2_timeline is schedule(plan, "Payments secondary").timeline
    gus = schedule(plan, "Gus Grant (escalation)")
    assert payments.fallback == gus.key
    assert gus.person_step and [rotation.members for rotation in gus.rotations] == [("PGUSSS7",)]
    assert schedule(plan, "UK Follow the sun").fallback == gus.key
    us = schedule(plan, "US Primary")
    assert (us.escalation_minutes, us.has_l2, us.fallback) == (10, False, "PSCHUK2")
    assert not [problem for problem in plan.problems if problem.blocks]


def test_a_secondary_that_is_not_the_previous_turn_is_a_fallback_not_l2(copied):
    directory = copied("pagerduty")

    def other_order(data):
        users = data["schedule"]["schedule_layers"][0]["users"]
        users[0], users[1] = users[1], users[0]

    edit(directory / "schedules" / "PSCHPY2.json", other_order)
    plan = plan_of("pagerduty", directory)
    payments = schedule(plan, "Payments primary")
    assert (payments.has_l2, payments.fallback) == (False, "PSCHPY2")
    # Gus, the third rule, is now beyond the fallback team: who is paged changes, so it blocks.
    [problem] = [problem for problem in plan.problems if problem.blocks]
    assert str(problem) == (
        "cannot import escalation rule 'Payments rule 3': Morgue's escalation ends at the fallback team, "
        "so Gus Grant would never be paged"
    )


def test_several_targets_in_one_rule_block_and_a_repeated_schedule_only_adds_its_wait(copied):
    directory = copied("pagerduty")

    def change(data):
        us = data["escalation_policies"][0]["escalation_rules"]
        us.insert(1, {"id": "R", "escalation_delay_in_minutes": 5, "targets": [dict(us[0]["targets"][0])]})
        lord_howe = data["escalation_policies"][2]["escalation_rules"][0]
        lord_howe["targets"].append({"id": "PEVEEE5", "type": "user_reference"})

    edit(directory / "escalation_policies.json", change)
    plan = plan_of("pagerduty", directory)
    us = schedule(plan, "US Primary")
    assert (us.escalation_minutes, us.fallback) == (15, "PSCHUK2")  # 10 + 5 before UK is paged
    blocking = [str(problem) for problem in plan.problems if problem.blocks]
    assert blocking == [
        "cannot import escalation rule 'Lord Howe rule 1': it also pages Eve Evans at once; "
        "Morgue pages one person per step"
    ]
    assert any("pages US Primary's on-call person again" in str(problem) for problem in plan.problems)


def test_opsgenie_previous_on_call_is_l2_and_next_on_call_is_refused(copied):
    plan = plan_of("opsgenie", FIXTURES / "opsgenie")
    payments = schedule(plan, "Payments")
    assert (payments.escalation_minutes, payments.has_l2, payments.fallback) == (
        15,
        True,
        "4b7fadc6-37a2-4e3d-8e6d-1b2c3d4e5f02",
    )
    assert schedule(plan, "Lord Howe").fallback == schedule(plan, "Gus Grant (escalation)").key
    assert not [problem for problem in plan.problems if problem.blocks]

    directory = copied("opsgenie")
    edit(
        directory / "v2" / "escalations.json",
        lambda data: data["data"][2]["rules"][1].update(notifyType="next"),
    )
    blocking = [str(problem) for problem in plan_of("opsgenie", directory).problems if problem.blocks]
    assert blocking == [
        "cannot import escalation rule 'Payments rule 2 (after 15 minutes)': "
        "it pages the next on-call of Payments, which is not a schedule or one person"
    ]


def test_opsgenie_previous_on_call_of_a_layered_schedule_is_refused_with_the_reason(copied):
    directory = copied("opsgenie")

    def previous_of_new_york(data):
        rule = data["data"][0]["rules"][1]
        rule.update(notifyType="previous", recipient=dict(data["data"][0]["rules"][0]["recipient"]))

    edit(directory / "v2" / "escalations.json", previous_of_new_york)
    blocking = [str(problem) for problem in plan_of("opsgenie", directory).problems if problem.blocks]
    assert blocking == [
        "cannot import escalation rule 'Platform rule 2 (after 10 minutes)': Morgue's L2 is the previous "
        "turn's L1 of one rotation, and Platform NY is not one rotation of two people or more without "
        "restrictions or overrides"
    ]


def test_grafana_waits_add_up_persons_fall_back_and_silent_steps_do_not_block(copied):
    plan = plan_of("grafana-oncall", FIXTURES / "grafana-oncall")
    lord_howe = schedule(plan, "Web Lord Howe")
    assert (lord_howe.escalation_minutes, lord_howe.fallback) == (5, "person:UGUSSS7GGGGGG")
    payments = schedule(plan, "Web Payments primary")
    assert (payments.escalation_minutes, payments.has_l2, payments.fallback) == (
        15,
        True,
        "person:UGUSSS7GGGGGG",
    )
    assert payments.l2_timeline is schedule(plan, "Web Payments secondary").timeline

    directory = copied("grafana-oncall")

    def change(data):
        data["results"].append(
            {"id": "EP09", "escalation_chain_id": "FCHAIN000001", "position": 9, "type": "trigger_webhook"}
        )
        data["results"].append(
            {"id": "EP10", "escalation_chain_id": "FCHAIN000001", "position": 10, "type": "notify_user_group"}
        )

    edit(directory / "api" / "v1" / "escalation_policies.json", change)
    problems = plan_of("grafana-oncall", directory).problems
    assert "cannot import escalation step 'Default step 9 (trigger_webhook)': it pages nobody" in map(
        str, problems
    )
    assert [str(problem) for problem in problems if problem.blocks] == [
        "cannot import escalation rule 'Default step 10 (notify_user_group)': "
        "Morgue's escalation ends at the fallback team, so a notify_user_group step would never be paged"
    ]


@pytest.mark.django_db
def test_opsgenie_l2_is_the_previous_turns_l1_after_import():
    with time_machine.travel(NOW, tick=False):
        code, out = run_import("opsgenie", "--from-dir", str(FIXTURES / "opsgenie"), "--apply")
        assert code == 0, out
        payments = Team.objects.get(slug="payments")
        for hours in (0, 30, 24 * 9 + 5):
            at = NOW + dt.timedelta(hours=hours)
            earlier = at - dt.timedelta(hours=24)
            assert person_on_call(team=payments, at=at, level=Level.L2) == person_on_call(
                team=payments, at=earlier, level=Level.L1
            )


@pytest.mark.django_db
def test_a_wrong_l2_is_a_difference(copied):
    directory = copied("pagerduty")

    def swap(data):
        entry = data["schedule"]["final_schedule"]["rendered_schedule_entries"][3]
        entry["user"]["id"] = "PALICE1"

    edit(directory / "schedules" / "PSCHPY2.json", swap)
    with time_machine.travel(NOW, tick=False):
        code, out = run_import("pagerduty", "--from-dir", str(directory), "--verify")
    assert code == 1
    assert "Payments primary L2: source says Alice Archer <alice@example.com>" in out
