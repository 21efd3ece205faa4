"""Importing from Opsgenie, and proving the result against Opsgenie's own final timeline.

The fixtures in fixtures/opsgenie are in the shape of Opsgenie's REST API v2
(docs.opsgenie.com: "User API", "Schedule API", "Schedule Rotation API" with
`timeRestriction` of type time-of-day and weekday-and-time-of-day, "Schedule
Override API", "Who is on call / timeline" with `finalTimeline.rotations[].periods`,
"Escalation API", "Alert API"), as the PyPI `opsgenie-sdk` models them
(Schedule, Rotation, TimeRestrictionInterval, Recipient with the reserved
`none`, ScheduleOverride, TimelineRotation, Period). The final timelines are
written by tests/oncall/importers/timelines.py, which shares no code with
Morgue. They cover New York, London and Lord Howe DST changes, weekday office
hours with an off-hours rotation around them and night restrictions (Opsgenie's
rotations are cumulative, so a schedule's rotations have windows that do not
overlap: test_layer_precedence.py), overrides that split shifts, a 12-hour
rotation with a `none` turn, an hourly rotation, and a rotation of only `none`;
Payments, one daily rotation escalated to its previous on-call person (L2).
"""

import io
import json
import shutil
from pathlib import Path

import pytest
import time_machine
from django.contrib.auth import get_user_model
from django.core.management import CommandError, call_command

from alerts_review.models import Alert
from morgue.models import Team
from oncall.importers import opsgenie
from oncall.models import Rotation

from .fakes import vendor_api
from .support import counts, edit, run_import
from .timelines import NOW, render_opsgenie

FIXTURES = Path(__file__).parent / "fixtures" / "opsgenie"
NEW_YORK = "3a6e9cb5-26f1-4d2c-9d5c-0a1b2c3d4e01"
PAYMENTS = "6d91cfe8-59c4-4a5f-8a7f-3d4e5f6a7b04"
pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def frozen():
    with time_machine.travel(NOW, tick=False):
        yield


def run(*args: str) -> tuple[int, str]:
    return run_import("opsgenie", *args)


@pytest.fixture
def fixtures(tmp_path) -> Path:
    copy = tmp_path / "opsgenie"
    shutil.copytree(FIXTURES, copy)
    return copy


def test_each_schedule_imports_with_no_difference_over_eight_weeks_and_again_changes_nothing():
    code, out = run("--from-dir", str(FIXTURES), "--apply", "--verify", "--weeks", "8")
    assert code == 0, out
    assert "create rotation Platform NY – Office: layer 2, 1 day turns" in out
    assert "cannot import rotation 'Platform NY / Holiday cover': only `none` is in it" in out
    # Dan, then `none`, by 12 hours: his turns are the same wall times each week, so a windowed
    # rotation of his own; the nights' `none` turns leave the layers below to answer.
    assert (
        "create rotation London 12h – Day lead (Dan Drake): layer 2, 12 hours turns waiting 15 minutes per "
        "level, from 2027-02-28 20:00 Europe/London, Dan Drake; active Mon 08:00 – Mon 20:00"
    ) in out
    assert "Verification: no difference from Opsgenie's own timeline over 8 weeks" in out
    ny = Team.objects.get(slug="platform-ny")
    assert ny.fallback_team == Team.objects.get(slug="london-12h")
    assert Rotation.objects.get(team=ny, layer=1).escalation_timeout_minutes == 10
    assert Alert.objects.filter(source="opsgenie", category=None).count() == 2
    assert Team.objects.get(slug="lord-howe").fallback_team.name == "Gus Grant (escalation)"
    before = counts()
    code, out = run("--from-dir", str(FIXTURES), "--apply", "--verify")
    assert code == 0, out
    assert "No change: Morgue already holds what the source has." in out
    assert counts() == before


def test_a_timeline_that_disagrees_prints_each_difference_and_exits_1(fixtures):
    def move_one_period(data):
        period = data["data"]["finalTimeline"]["rotations"][0]["periods"][0]
        period["recipient"]["id"] = "0e1b2c3d-4e5f-4a6b-9c7d-8e9f0a1b2c07"  # Gus

    edit(fixtures / "v2" / "schedules" / NEW_YORK / "timeline.json", move_one_period)
    code, out = run("--from-dir", str(fixtures), "--verify")
    assert code == 1
    assert "Platform NY L1: source says Gus Grant <gus@example.com>, Morgue says" in out
    assert "Verification: 1 differences from Opsgenie's own timeline" in out


def test_the_api_is_read_with_the_genie_key_and_pagination(settings, monkeypatch):
    settings.MORGUE_OUTBOUND_ALLOW_LOOPBACK = True
    monkeypatch.setattr(opsgenie, "PAGE_SIZE", 3)
    with vendor_api("opsgenie", FIXTURES, "k3y") as fake:
        code, out = run("--url", fake.url, "--token", "k3y", "--apply", "--verify")
    assert code == 0, out
    assert get_user_model().objects.count() == 7
    assert any("offset=6" in path for path in fake.requests if path.startswith("/v2/users"))


def test_a_bad_key_imports_nothing(settings):
    settings.MORGUE_OUTBOUND_ALLOW_LOOPBACK = True
    with (
        vendor_api("opsgenie", FIXTURES, "right") as fake,
        pytest.raises(CommandError, match=r"Opsgenie API refused the token \(HTTP 401\)"),
    ):
        run("--url", fake.url, "--token", "wrong", "--apply")
    assert counts() == (0, 0, 0, 0, 0, 0)


def test_a_none_turn_between_people_is_named_and_nothing_is_imported(fixtures):
    def add_none(data):
        data["data"][0]["participants"].insert(1, {"type": "none"})

    edit(fixtures / "v2" / "schedules" / PAYMENTS / "rotations.json", add_none)
    out = io.StringIO()
    with pytest.raises(CommandError, match="cannot be expressed in Morgue"):
        call_command("import_oncall", "opsgenie", "--from-dir", str(fixtures), "--apply", stdout=out)
    assert (
        "cannot import rotation 'Payments / Daily': its `none` participant leaves turns with nobody on "
        "call, and its cycle of 96 hours does not repeat each week" in out.getvalue()
    )
    assert counts() == (0, 0, 0, 0, 0, 0)


def test_the_fixture_timelines_are_the_independent_renderers():
    directory = FIXTURES / "v2"
    names = {
        user["id"]: user["username"] for user in json.loads((directory / "users.json").read_text())["data"]
    }
    for summary in json.loads((directory / "schedules.json").read_text())["data"]:
        base = directory / "schedules" / summary["id"]
        rendered = render_opsgenie(
            summary,
            json.loads((base / "rotations.json").read_text())["data"],
            json.loads((base / "overrides.json").read_text())["data"],
            names,
        )
        assert json.loads((base / "timeline.json").read_text())["data"]["finalTimeline"] == rendered
