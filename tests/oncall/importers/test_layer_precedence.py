"""Which layer wins where two overlap, per vendor, and the verifier holding Morgue to it.

- PagerDuty ("Schedule Basics", support.pagerduty.com/docs/schedules): "If a
  user on Layer 1 and Layer 2 overlap, the user on Layer 2 will be the one
  on-call"; the higher layer wins. The importer takes the API's
  `schedule_layers` in layer order (Layer 1 first) unless a `rendering_index`
  orders them; that reading of the list is an assumption, which is why every
  import can be verified against PagerDuty's own `final_schedule`.
- Grafana OnCall (API reference, "OnCall shifts", `level`): "If two events
  overlap in one schedule, Grafana OnCall will choose the event with higher
  level."
- Opsgenie has no precedence: "all on-call users in all the different
  rotations are notified (cumulative)" (support.atlassian.com/opsgenie/docs/
  manage-on-call-schedules-and-rotations). Overlapping rotations are refused
  by name; rotations with windows that do not overlap import exactly.

The fixtures' US Primary (PagerDuty) and Web NY (Grafana OnCall) have a
24/7 layer under a business-hours one; rendering them with the opposite
precedence must give differences, which proves the verification looks at it.
"""

import io
import json
import shutil
from pathlib import Path

import pytest
import time_machine
from django.core.management import CommandError, call_command

from oncall.importers import read_plan
from oncall.importers.readers import DirectoryReader

from .support import edit, run_import
from .timelines import NOW, render_grafana, render_opsgenie, render_pagerduty

FIXTURES = Path(__file__).parent / "fixtures"
OPSGENIE_NEW_YORK = "3a6e9cb5-26f1-4d2c-9d5c-0a1b2c3d4e01"
pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def frozen():
    with time_machine.travel(NOW, tick=False):
        yield


def copied(tmp_path: Path, source: str) -> Path:
    target = tmp_path / source
    shutil.copytree(FIXTURES / source, target)
    return target


def pagerduty_rendered_as(directory: Path, layers_for_rendering) -> None:
    path = directory / "schedules" / "PSCHUS1.json"
    overrides = json.loads((directory / "schedules" / "PSCHUS1" / "overrides.json").read_text())["overrides"]

    def render(data):
        schedule = dict(
            data["schedule"], schedule_layers=layers_for_rendering(data["schedule"]["schedule_layers"])
        )
        data["schedule"]["final_schedule"]["rendered_schedule_entries"] = render_pagerduty(
            schedule, overrides
        )

    edit(path, render)


def test_pagerduty_the_higher_layer_wins_and_the_opposite_is_a_difference(tmp_path):
    directory = copied(tmp_path, "pagerduty")
    pagerduty_rendered_as(directory, lambda layers: list(reversed(layers)))
    code, out = run_import("pagerduty", "--from-dir", str(directory), "--verify", "--weeks", "2")
    assert code == 1
    # Monday 1 March, business hours: rendered with Weekly on top, Cara; Morgue has the higher layer's Dan.
    assert (
        "2027-03-01 14:00 – 2027-03-01 22:00 UTC  US Primary L1: source says Cara Cole <cara@example.com>, "
        "Morgue says Dan Drake <dan@example.com>"
    ) in out


def test_pagerduty_rendering_index_orders_the_layers(tmp_path):
    directory = copied(tmp_path, "pagerduty")

    def reorder(data):
        weekly, business = data["schedule"]["schedule_layers"]
        weekly["rendering_index"], business["rendering_index"] = 2, 1

    edit(directory / "schedules" / "PSCHUS1.json", reorder)
    pagerduty_rendered_as(directory, lambda layers: list(reversed(layers)))
    code, out = run_import("pagerduty", "--from-dir", str(directory), "--verify", "--weeks", "2")
    assert code == 0, out
    assert "Verification: no difference" in out


def test_grafana_the_higher_level_wins_and_the_opposite_is_a_difference(tmp_path):
    directory = copied(tmp_path, "grafana-oncall")
    api = directory / "api" / "v1"
    people = {user["id"]: user for user in json.loads((api / "users.json").read_text())["results"]}
    shifts = json.loads((api / "on_call_shifts.json").read_text())["results"]
    swapped = [
        dict(shift, level={1: 2, 2: 1}.get(shift["level"], shift["level"]))
        if shift["schedule"] == "SNY000000001"
        else shift
        for shift in shifts
    ]
    schedule = json.loads((api / "schedules.json").read_text())["results"][0]
    results = render_grafana(schedule, swapped, people)
    (api / "schedules" / "SNY000000001" / "final_shifts.json").write_text(
        json.dumps({"count": len(results), "next": None, "previous": None, "results": results})
    )
    code, out = run_import("grafana-oncall", "--from-dir", str(directory), "--verify", "--weeks", "2")
    assert code == 1
    assert (
        "2027-03-01 14:00 – 2027-03-01 22:00 UTC  Web NY L1: source says Cara Cole <cara@example.com>, "
        "Morgue says Dan Drake <dan@example.com>"
    ) in out


def test_opsgenie_rotations_that_overlap_are_named_and_block(tmp_path):
    directory = copied(tmp_path, "opsgenie")
    base = directory / "v2" / "schedules" / OPSGENIE_NEW_YORK
    edit(base / "rotations.json", lambda data: data["data"][0].pop("timeRestriction"))
    names = {
        user["id"]: user["username"]
        for user in json.loads((directory / "v2" / "users.json").read_text())["data"]
    }
    summary = json.loads((directory / "v2" / "schedules.json").read_text())["data"][0]

    def render(data):
        data["data"]["finalTimeline"] = render_opsgenie(
            summary,
            json.loads((base / "rotations.json").read_text())["data"],
            json.loads((base / "overrides.json").read_text())["data"],
            names,
        )

    edit(base / "timeline.json", render)
    plan = read_plan("opsgenie", DirectoryReader(directory, vendor="Opsgenie"), now=NOW, weeks=2)
    [problem] = [problem for problem in plan.problems if problem.blocks]
    assert str(problem) == (
        "cannot import schedule 'Platform NY': Opsgenie notifies the on-call people of all its rotations at "
        "once where they overlap, and Morgue pages one person per level: Alice Archer and Cara Cole are both "
        "on call from 2027-03-01 14:00 to 2027-03-01 22:00 UTC (41 such stretches); give the rotations "
        "windows that do not overlap"
    )
    output = io.StringIO()
    with pytest.raises(CommandError, match="1 records cannot be expressed in Morgue"):
        call_command(
            "import_oncall",
            "opsgenie",
            "--from-dir",
            str(directory),
            "--verify",
            "--weeks",
            "2",
            stdout=output,
        )
    out = output.getvalue()
    assert (
        "2027-03-01 14:00 – 2027-03-01 22:00 UTC  Platform NY L1: source says Alice Archer "
        "<alice@example.com> and Cara Cole <cara@example.com> at once, "
        "Morgue says Cara Cole <cara@example.com>"
    ) in out
