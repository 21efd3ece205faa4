"""Importing from Grafana OnCall, and proving the result against its own final shifts.

The fixtures in fixtures/grafana-oncall are in the shape of Grafana OnCall's
public HTTP API v1 (grafana.com/docs/oncall/latest/oncall-api-reference:
"Users", "Schedules", "OnCall shifts" of types rolling_users and override,
"Schedules" → final_shifts, "Escalation chains", "Escalation policies",
"Alert groups"). The final shifts are written by
tests/oncall/importers/timelines.py, which shares no code with Morgue. They
cover New York, London and Lord Howe DST changes, a daily office-hours
window, two levels (layers), overrides that split shifts, a 12-hour and an
hourly rotation.
"""

import io
import json
import shutil
from pathlib import Path

import pytest
import time_machine
from django.contrib.auth import get_user_model
from django.core.management import CommandError, call_command

from morgue.models import Team
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
    assert Rotation.objects.get(team=ny, layer=1).escalation_timeout_minutes == 10
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


def test_a_calendar_event_shift_is_named_and_nothing_is_imported(tmp_path):
    copy = tmp_path / "grafana-oncall"
    shutil.copytree(FIXTURES, copy)
    path = copy / "api" / "v1" / "on_call_shifts.json"
    answer = json.loads(path.read_text())
    answer["results"][0]["type"] = "recurrent_event"
    path.write_text(json.dumps(answer))
    out = io.StringIO()
    with pytest.raises(CommandError, match="cannot be expressed in Morgue"):
        call_command("import_oncall", "grafana-oncall", "--from-dir", str(copy), "--apply", stdout=out)
    assert "cannot import shift 'Web NY / Weekly': a recurrent_event shift" in out.getvalue()
    assert counts() == (0, 0, 0, 0, 0, 0)


def test_the_fixture_timelines_are_the_independent_renderers():
    people = {user["id"]: user for user in json.loads((API / "users.json").read_text())["results"]}
    shifts = json.loads((API / "on_call_shifts.json").read_text())["results"]
    for schedule in json.loads((API / "schedules.json").read_text())["results"]:
        answer = json.loads((API / "schedules" / schedule["id"] / "final_shifts.json").read_text())
        assert answer["results"] == render_grafana(schedule, shifts, people)
