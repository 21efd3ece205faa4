"""Importing from Grafana OnCall, and proving the result against its own final shifts.

The fixtures in fixtures/grafana-oncall are in the shape of Grafana OnCall's
public HTTP API v1 (grafana.com/docs/oncall/latest/oncall-api-reference:
"Users", "Schedules", "OnCall shifts" of types rolling_users, override,
single_event and recurrent_event, with `level`, `by_day` and `until`,
"Schedules" → final_shifts, "Escalation chains", "Escalation policies",
"Alert groups"). The final shifts are written by
tests/oncall/importers/timelines.py, which shares no code with Morgue. They
cover New York, London and Lord Howe DST changes, a daily office-hours
window, three levels (layers) that overlap (a higher `level` wins, as
Grafana OnCall's docs say of priority levels), overrides that split shifts,
a 12-hour and an hourly rotation, a one-off event, a rotation with `until`, a
Friday-afternoon recurring event and a one-person weekend by_day rotation.
"""

import datetime as dt
import io
import json
import shutil
from pathlib import Path

import pytest
import time_machine
from django.contrib.auth import get_user_model
from django.core.management import CommandError, call_command

from morgue.models import Team
from oncall.importers import read_plan
from oncall.importers.readers import DirectoryReader
from oncall.models import Rotation

from .fakes import vendor_api
from .support import counts, run_import
from .timelines import NOW, render_grafana

FIXTURES = Path(__file__).parent / "fixtures" / "grafana-oncall"
API = FIXTURES / "api" / "v1"
pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def frozen():
    with time_machine.travel(NOW, tick=False):
        yield


def run(*args: str) -> tuple[int, str]:
    return run_import("grafana-oncall", *args)


def test_each_schedule_imports_with_no_difference_over_eight_weeks_and_again_changes_nothing():
    code, out = run("--from-dir", str(FIXTURES), "--apply", "--verify", "--weeks", "8")
    assert code == 0, out
    assert "Verification: no difference from Grafana OnCall's own timeline over 8 weeks" in out
    assert "cannot import escalation policy 'Lord Howe': it repeats 5 times" in out
    assert Team.objects.get(slug="web-lord-howe").fallback_team.name == "Gus Grant (escalation)"
    ny = Team.objects.get(slug="web-ny")
    assert ny.fallback_team == Team.objects.get(slug="web-london")
    assert Rotation.objects.get(team=ny, layer=2).escalation_timeout_minutes == 10  # level 1
    before = counts()
    code, out = run("--from-dir", str(FIXTURES), "--apply", "--verify")
    assert code == 0, out
    assert "No change: Morgue already holds what the source has." in out
    assert counts() == before


def test_a_timeline_that_disagrees_prints_each_difference_and_exits_1(tmp_path):
    copy = tmp_path / "grafana-oncall"
    shutil.copytree(FIXTURES, copy)
    path = copy / "api" / "v1" / "schedules" / "SLH000000003" / "final_shifts.json"
    answer = json.loads(path.read_text())
    answer["results"][5]["user_pk"] = "UGUSSS7GGGGGG"
    path.write_text(json.dumps(answer))
    code, out = run("--from-dir", str(copy), "--verify")
    assert code == 1
    assert "Web Lord Howe L1: source says Gus Grant <gus@example.com>, Morgue says" in out


def test_the_api_is_read_with_the_token_and_next_links(settings):
    settings.MORGUE_OUTBOUND_ALLOW_LOOPBACK = True
    with vendor_api("grafana-oncall", FIXTURES, "glsa_token") as fake:
        code, out = run("--url", fake.url, "--token", "glsa_token", "--apply", "--verify")
    assert code == 0, out
    assert get_user_model().objects.count() == 7
    assert "/api/v1/users/?page=4" in fake.requests


def test_a_by_day_rotation_of_several_people_is_named_and_nothing_is_imported(tmp_path):
    copy = tmp_path / "grafana-oncall"
    shutil.copytree(FIXTURES, copy)
    path = copy / "api" / "v1" / "on_call_shifts.json"
    answer = json.loads(path.read_text())
    answer["results"][1]["by_day"] = ["MO", "TU", "WE", "TH", "FR"]
    path.write_text(json.dumps(answer))
    out = io.StringIO()
    with pytest.raises(CommandError, match="cannot be expressed in Morgue"):
        call_command("import_oncall", "grafana-oncall", "--from-dir", str(copy), "--apply", stdout=out)
    assert (
        "cannot import shift 'Web NY / Office': its turns skip the days not in by_day, and a Morgue "
        "rotation's turns follow one another on the wall clock" in out.getvalue()
    )
    assert counts() == (0, 0, 0, 0, 0, 0)


def plan_with(tmp_path, change) -> list[str]:
    copy = tmp_path / "grafana-oncall"
    shutil.copytree(FIXTURES, copy)
    path = copy / "api" / "v1" / "on_call_shifts.json"
    answer = json.loads(path.read_text())
    change({shift["id"]: shift for shift in answer["results"]})
    path.write_text(json.dumps(answer))
    plan = read_plan("grafana-oncall", DirectoryReader(copy, vendor="Grafana OnCall"), now=NOW, weeks=1)
    return [str(problem) + (" [blocks]" if problem.blocks else "") for problem in plan.problems]


def test_one_off_events_recurring_events_and_by_day_are_expressed():
    plan = read_plan("grafana-oncall", DirectoryReader(FIXTURES, vendor="Grafana OnCall"), now=NOW, weeks=1)
    london = next(schedule for schedule in plan.schedules if schedule.name == "Web London")
    # single_event: an override at its own level (1), not over the whole schedule.
    [event] = [override for override in london.overrides if override.layer is not None]
    assert (event.person, event.layer) == ("UEVEEE5EEEEEE", 2)  # level 1 + 1
    ny = next(schedule for schedule in plan.schedules if schedule.name == "Web NY")
    friday = next(rotation for rotation in ny.rotations if rotation.name == "Friday afternoons")
    assert friday.members == ("UEVEEE5EEEEEE",) and friday.layer == 4
    assert friday.restriction_dicts() == [
        {"start_day": "fri", "start_time": "13:00", "end_day": "fri", "end_time": "17:00"}
    ]
    helpers = next(rotation for rotation in london.rotations if rotation.name == "Spring helpers")
    assert helpers.ends_at == dt.datetime(2027, 4, 9, 23, 0, tzinfo=dt.UTC)  # until, midnight in London (BST)
    assert not [problem for problem in plan.problems if problem.blocks]


@pytest.mark.parametrize(
    ("change", "expected"),
    [
        (
            lambda shifts: shifts["ONY4"].update(frequency="monthly"),
            "cannot import shift 'Web NY / Friday afternoons': a monthly turn is 28 to 31 days long",
        ),
        (
            lambda shifts: shifts["ONY4"].update(by_monthday=[1, 15]),
            "cannot import shift 'Web NY / Friday afternoons': it repeats by month",
        ),
        (
            lambda shifts: shifts["ONY4"].update(interval=2),
            "cannot import shift 'Web NY / Friday afternoons': it repeats every 2 weekly turns",
        ),
        (
            lambda shifts: shifts["ONY4"].update(users=["UEVEEE5EEEEEE", "UFAYYY6FFFFFF"]),
            "cannot import shift 'Web NY / Friday afternoons': a turn of several people at once",
        ),
        (
            lambda shifts: shifts["OLD3"].update(level=0),
            "cannot import shift 'Web London / Cover for Cara': a one-off event at level 0, below every "
            "rotation of the schedule",
        ),
    ],
)
def test_what_cannot_be_expressed_is_named_with_the_reason_and_blocks(tmp_path, change, expected):
    problems = plan_with(tmp_path, change)
    assert any(problem.startswith(expected) and problem.endswith("[blocks]") for problem in problems), (
        problems
    )


def test_a_shift_that_ended_is_left_out_without_blocking(tmp_path):
    problems = plan_with(tmp_path, lambda shifts: shifts["OLD4"].update(until="2027-02-01T00:00:00"))
    assert "cannot import shift 'Web London / Spring helpers': it ended on 2027-02-01T00:00:00: left out" in (
        problems
    )


def test_the_fixture_timelines_are_the_independent_renderers():
    people = {user["id"]: user for user in json.loads((API / "users.json").read_text())["results"]}
    shifts = json.loads((API / "on_call_shifts.json").read_text())["results"]
    for schedule in json.loads((API / "schedules.json").read_text())["results"]:
        answer = json.loads((API / "schedules" / schedule["id"] / "final_shifts.json").read_text())
        assert answer["results"] == render_grafana(schedule, shifts, people)
