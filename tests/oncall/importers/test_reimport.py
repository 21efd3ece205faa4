"""Importing again after a rule changed in the source: the old rotation ends, a new one takes over.

PagerDuty records an edit to a layer by ending the layer at the edit and
starting a new one then (developer.pagerduty.com, "Get a schedule":
`schedule_layers[].start` / `end`, "the end time of this layer; if null, the
layer does not end"); the fixture is changed that way and its final schedule
rendered again by the independent renderer (timelines.py).
"""

import datetime as dt
import json
import shutil
from pathlib import Path

import pytest
import time_machine

from morgue.models import Team
from oncall.models import Level, Page, Rotation, Shift
from oncall.selectors import person_on_call
from oncall.services import page_team

from .support import edit, run_import
from .timelines import NOW, render_pagerduty

FIXTURES = Path(__file__).parent / "fixtures" / "pagerduty"
CHANGED_AT = NOW + dt.timedelta(days=3, hours=15, minutes=30)  # mid-turn: Thursday 10:30 in New York
pytestmark = pytest.mark.django_db


def change_weekly_layer(directory: Path) -> None:
    """End US Primary's weekly layer at CHANGED_AT; a new one, Cara and Alice by the day, starts then."""
    path = directory / "schedules" / "PSCHUS1.json"

    def change(data):
        layers = data["schedule"]["schedule_layers"]
        old = layers[0]
        old["end"] = CHANGED_AT.isoformat()
        new = json.loads(json.dumps(old))
        new.update(
            id="PLAYUS9",
            start=CHANGED_AT.isoformat(),
            end=None,
            rotation_virtual_start="2027-03-01T09:00:00-05:00",
            rotation_turn_length_seconds=86400,
            users=[old["users"][2], old["users"][0]],
        )
        layers.insert(1, new)
        overrides = json.loads((directory / "schedules" / "PSCHUS1" / "overrides.json").read_text())
        rendered = render_pagerduty(data["schedule"], overrides["overrides"])
        data["schedule"]["final_schedule"]["rendered_schedule_entries"] = rendered

    edit(path, change)


def pieces_before(at: dt.datetime) -> list[tuple]:
    return list(
        Shift.all_pieces.filter(starts_at__lt=at)
        .order_by("pk")
        .values_list("pk", "rotation_id", "level", "user_id", "starts_at", "ends_at", "masked")
    )


def test_a_changed_rule_ends_the_old_rotation_at_the_change_and_the_new_one_takes_over(tmp_path):
    directory = tmp_path / "pagerduty"
    shutil.copytree(FIXTURES, directory)
    with time_machine.travel(NOW, tick=False):
        code, out = run_import("pagerduty", "--from-dir", str(directory), "--apply")
        assert code == 0, out
    us = Team.objects.get(slug="us-primary")
    weekly = Rotation.objects.get(slug="us-primary-weekly")
    with time_machine.travel(CHANGED_AT - dt.timedelta(hours=20), tick=False):
        page = page_team(team=us, message="Checkout is down")
    paged = page.steps.get().user
    before = pieces_before(CHANGED_AT)
    holders = [
        person_on_call(team=us, at=CHANGED_AT - dt.timedelta(hours=hours), level=Level.L1)
        for hours in range(1, 24 * 3)
    ]

    change_weekly_layer(directory)
    with time_machine.travel(CHANGED_AT, tick=False):
        code, out = run_import(
            "pagerduty", "--from-dir", str(directory), "--apply", "--verify", "--weeks", "7"
        )
    assert code == 0, out
    assert (
        "end rotation US Primary – Weekly of US Primary at 2027-03-04 15:30 UTC: "
        "its rule changed in the source; its shifts before then stay"
    ) in out
    assert "create rotation US Primary – Weekly: layer 1, 1 day turns" in out
    assert "taking over at 2027-03-04 15:30 UTC" in out
    # Business hours kept its layer: nothing else was replaced.
    assert "Business hours" not in out.split("Verification")[0].replace("create override", "")
    assert "Verification: no difference from PagerDuty's own timeline over 7 weeks" in out

    weekly.refresh_from_db()
    assert weekly.ends_at == CHANGED_AT
    assert weekly.slug == "us-primary-weekly-202703041530"
    assert weekly.name == "US Primary – Weekly (until 2027-03-04 15:30 UTC)"
    new = Rotation.objects.get(slug="us-primary-weekly")
    assert new.ends_at is None and new.pk != weekly.pk
    assert not weekly.shifts.filter(ends_at__gt=CHANGED_AT).exists()
    assert not new.shifts.filter(starts_at__lt=CHANGED_AT).exists()
    # The past is as it was: every piece that began before the change; only the ended
    # rotation's piece across it is cut there.
    after = {row[0]: row for row in pieces_before(CHANGED_AT)}
    cut = 0
    for row in before:
        if row[1] == weekly.pk and row[5] > CHANGED_AT:
            assert after[row[0]] == (*row[:5], CHANGED_AT, row[6])
            cut += 1
        else:
            assert after[row[0]] == row
    assert cut == 1
    assert set(after) == {row[0] for row in before}
    assert holders == [
        person_on_call(team=us, at=CHANGED_AT - dt.timedelta(hours=hours), level=Level.L1)
        for hours in range(1, 24 * 3)
    ]
    assert Page.objects.get(pk=page.pk).steps.get().user == paged

    # And once more: nothing changes.
    counts = (Rotation.objects.count(), Shift.all_pieces.count())
    with time_machine.travel(CHANGED_AT + dt.timedelta(minutes=5), tick=False):
        code, out = run_import(
            "pagerduty", "--from-dir", str(directory), "--apply", "--verify", "--weeks", "7"
        )
    assert code == 0, out
    assert "No change: Morgue already holds what the source has." in out
    assert (Rotation.objects.count(), Shift.all_pieces.count()) == counts


def test_a_layer_that_ends_later_ends_its_rotation_then(tmp_path):
    directory = tmp_path / "pagerduty"
    shutil.copytree(FIXTURES, directory)
    ends = NOW + dt.timedelta(days=20, hours=3)

    def end_later(data):
        data["schedule"]["schedule_layers"][1]["end"] = ends.isoformat()
        overrides = json.loads((directory / "schedules" / "PSCHUS1" / "overrides.json").read_text())
        rendered = render_pagerduty(data["schedule"], overrides["overrides"])
        data["schedule"]["final_schedule"]["rendered_schedule_entries"] = rendered

    edit(directory / "schedules" / "PSCHUS1.json", end_later)
    with time_machine.travel(NOW, tick=False):
        code, out = run_import("pagerduty", "--from-dir", str(directory), "--apply", "--verify")
    assert code == 0, out
    assert "ending at 2027-03-21 03:00 UTC" in out
    assert "Verification: no difference" in out
    assert Rotation.objects.get(slug="us-primary-business-hours").ends_at == ends

    # The source drops the end again: the rotation that was to end is followed by one that goes on.
    with time_machine.travel(NOW + dt.timedelta(days=1), tick=False):
        code, out = run_import(
            "pagerduty", "--from-dir", str(FIXTURES), "--apply", "--verify", "--weeks", "7"
        )
    assert code == 0, out
    assert "end rotation US Primary – Business hours of US Primary at 2027-03-02 00:00 UTC" in out
    assert Rotation.objects.get(slug="us-primary-business-hours").ends_at is None
    assert "Verification: no difference" in out


def test_an_ended_rotation_is_never_extended_past_its_end():
    from oncall.services import end_rotation, extend_all_rotations

    with time_machine.travel(NOW, tick=False):
        code, out = run_import("pagerduty", "--from-dir", str(FIXTURES), "--apply")
        assert code == 0, out
        rotation = Rotation.objects.get(slug="lord-howe-hourly-hourly")
        ends = NOW + dt.timedelta(hours=5, minutes=20)
        end_rotation(rotation=rotation, at=ends)
    last = Shift.all_pieces.filter(rotation=rotation).order_by("-ends_at").values_list("ends_at", flat=True)
    assert last[0] == ends
    with time_machine.travel(NOW + dt.timedelta(days=200), tick=False):
        extend_all_rotations()
    assert not Shift.all_pieces.filter(rotation=rotation, ends_at__gt=ends).exists()
    with time_machine.travel(NOW + dt.timedelta(days=1), tick=False), pytest.raises(Exception, match="past"):
        end_rotation(rotation=rotation, at=NOW)
