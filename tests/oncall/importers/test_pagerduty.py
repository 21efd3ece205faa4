"""Importing from PagerDuty, and proving the result against PagerDuty's own final schedule.

The fixtures in fixtures/pagerduty are in the shape of PagerDuty's REST API
v2 as its reference documents it (developer.pagerduty.com/api-reference:
"List users", "List schedules", "Get a schedule" with `schedule_layers`,
`restrictions` and `final_schedule.rendered_schedule_entries`, "List
overrides", "List escalation policies", "List incidents"), the shapes the
`pdpyras` client pages through with `limit`/`offset`/`more`. The rendered
timelines are written by tests/oncall/importers/timelines.py, which shares
no code with Morgue. They cover: New York (DST 2027-03-14), London
(2027-03-28) and Lord Howe (half an hour back, 2027-04-04); weekday
business-hours and weekend-night restrictions; two layers per schedule;
overrides that split shifts; a 12-hour and an hourly rotation; a daily
primary with its secondary (the previous turn) in Chicago.
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
from morgue.models import Profile, Team
from oncall.importers import pagerduty
from oncall.models import Rotation, Shift

from .fakes import vendor_api
from .support import counts, edit, run_import
from .timelines import NOW, render_pagerduty

FIXTURES = Path(__file__).parent / "fixtures" / "pagerduty"
pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def frozen():
    with time_machine.travel(NOW, tick=False):
        yield


def run(*args: str) -> tuple[int, str]:
    return run_import("pagerduty", *args)


@pytest.fixture
def fixtures(tmp_path) -> Path:
    copy = tmp_path / "pagerduty"
    shutil.copytree(FIXTURES, copy)
    return copy


def test_plan_mode_prints_the_plan_and_writes_nothing():
    before = counts()
    code, out = run("--from-dir", str(FIXTURES))
    assert code == 0
    assert counts() == before
    assert "would create person Alice Archer <alice@example.com> (America/New_York)" in out
    assert "would create team US Primary" in out
    assert "would create rotation US Primary – Business hours: layer 2, 1 day turns" in out
    assert "would create rotation Lord Howe hourly – Hourly: layer 1, 1 hour turns" in out
    assert "Plan only: nothing was written." in out
    # Nothing dropped silently: each record Morgue cannot express is named, with why.
    assert "cannot import layer 'UK Follow the sun / Old weekly': it ended on 2027-01-01T10:00:00Z" in out
    assert "would set the fallback team of UK Follow the sun to Gus Grant (escalation)" in out
    assert "cannot import escalation policy 'Lord Howe': it repeats 2 times" in out


def test_each_schedule_imports_with_no_difference_over_eight_weeks():
    code, out = run("--from-dir", str(FIXTURES), "--apply", "--verify", "--weeks", "8")
    assert code == 0, out
    assert "Verification: no difference from PagerDuty's own timeline over 8 weeks" in out
    us = Team.objects.get(slug="us-primary")
    assert us.fallback_team == Team.objects.get(slug="uk-follow-the-sun")
    business = Rotation.objects.get(team=us, layer=2)
    assert business.restrictions[0] == {
        "start_day": "mon",
        "start_time": "09:00",
        "end_day": "mon",
        "end_time": "17:00",
    }
    assert business.escalation_timeout_minutes == 10
    assert Profile.objects.get(user__email="eve@example.com").time_zone == "Australia/Lord_Howe"
    assert Rotation.objects.get(slug="lord-howe-hourly-hourly").shift_length_hours == 1
    # Payments: primary, then its secondary (the previous turn: Morgue's L2, verified against the
    # secondary's own final schedule above), then Gus, a fixed person, as the fallback team.
    payments = Team.objects.get(slug="payments-primary")
    assert Rotation.objects.get(team=payments).has_l2
    assert payments.fallback_team.rotations.get().members.get().user.email == "gus@example.com"


def test_a_second_apply_changes_nothing():
    run("--from-dir", str(FIXTURES), "--apply")
    before = counts()
    pieces = list(Shift.all_pieces.values_list("pk", "starts_at", "ends_at", "user_id").order_by("pk"))
    code, out = run("--from-dir", str(FIXTURES), "--apply", "--verify")
    assert code == 0, out
    assert "No change: Morgue already holds what the source has." in out
    assert "History: import 0 alerts of the last 12 months (3 already there)." in out
    assert counts() == before
    assert (
        list(Shift.all_pieces.values_list("pk", "starts_at", "ends_at", "user_id").order_by("pk")) == pieces
    )


def test_a_timeline_that_disagrees_prints_each_difference_and_exits_1(fixtures):
    def swap_one_entry(data):
        entries = data["schedule"]["final_schedule"]["rendered_schedule_entries"]
        entry = next(entry for entry in entries if entry["start"] == "2027-03-16T20:00:00Z")
        entry["user"]["id"] = "PCARA03"

    edit(fixtures / "schedules" / "PSCHUS1.json", swap_one_entry)
    code, out = run("--from-dir", str(fixtures), "--verify")
    assert code == 1
    assert (
        "2027-03-16 20:00 – 2027-03-16 21:00 UTC  US Primary L1: source says Cara Cole <cara@example.com>, "
        "Morgue says Alice Archer <alice@example.com>"
    ) in out
    assert "Verification: 1 differences from PagerDuty's own timeline over 8 weeks" in out


def test_history_is_the_last_twelve_months_of_incidents_unclassified():
    run("--from-dir", str(FIXTURES), "--apply")
    alerts = Alert.objects.order_by("fired_at")
    assert [alert.identity for alert in alerts] == [
        "pagerduty:PINC001",
        "pagerduty:PINC002",
        "pagerduty:PINC003",
    ]
    assert all(alert.category is None for alert in alerts)
    first = alerts[0]
    assert first.team.slug == "us-primary"
    assert first.check_name == "Checkout error rate above 5%"
    assert first.resolved_at is not None
    assert alerts[2].resolved_at is None


def test_the_api_is_read_with_pagerdutys_auth_header_and_pagination(settings, monkeypatch):
    settings.MORGUE_OUTBOUND_ALLOW_LOOPBACK = True
    monkeypatch.setattr(pagerduty, "PAGE_SIZE", 2)
    with vendor_api("pagerduty", FIXTURES, "s3cret") as fake:
        code, out = run("--url", fake.url, "--token", "s3cret", "--apply", "--verify")
    assert code == 0, out
    assert "Verification: no difference" in out
    assert get_user_model().objects.count() == 7
    assert any("offset=6" in path for path in fake.requests if path.startswith("/users"))


def test_a_bad_token_is_a_sentence_and_imports_nothing(settings):
    settings.MORGUE_OUTBOUND_ALLOW_LOOPBACK = True
    with (
        vendor_api("pagerduty", FIXTURES, "right") as fake,
        pytest.raises(CommandError, match=r"refused the token \(HTTP 401\).*Nothing was imported"),
    ):
        run("--url", fake.url, "--token", "wrong", "--apply")
    assert counts() == (0, 0, 0, 0, 0, 0)


def test_an_unreachable_url_is_a_sentence(settings):
    settings.MORGUE_OUTBOUND_ALLOW_LOOPBACK = True
    with vendor_api("pagerduty", FIXTURES, "t") as fake:
        url = fake.url
    with pytest.raises(CommandError, match="Could not reach the PagerDuty API"):
        run("--url", url, "--token", "t", "--apply")


def test_a_private_address_is_refused():
    with pytest.raises(CommandError, match="is not an address Morgue calls"):
        run("--url", "http://127.0.0.1:9/", "--token", "t")


def test_an_unknown_schema_is_a_sentence(fixtures):
    edit(fixtures / "users.json", lambda data: data.update(users=None) or data.update(members=[]))
    with pytest.raises(CommandError, match="not a schema the importer knows"):
        run("--from-dir", str(fixtures), "--apply")


def test_a_zone_that_is_not_iana_imports_nothing(fixtures):
    edit(
        fixtures / "users.json", lambda data: data["users"][3].update(time_zone="Eastern Time (US & Canada)")
    )
    with pytest.raises(CommandError, match=r"Eastern Time .* is not a known IANA time zone"):
        run("--from-dir", str(fixtures), "--apply")
    assert counts() == (0, 0, 0, 0, 0, 0)


def test_a_rotation_morgue_cannot_express_is_named_and_nothing_is_imported(fixtures):
    edit(
        fixtures / "schedules" / "PSCHLH3.json",
        lambda data: data["schedule"]["schedule_layers"][0].update(rotation_turn_length_seconds=5400),
    )
    out = io.StringIO()
    with pytest.raises(CommandError, match=r"1 records cannot be expressed in Morgue.*nothing was imported"):
        call_command("import_oncall", "pagerduty", "--from-dir", str(fixtures), "--apply", stdout=out)
    assert (
        "cannot import layer 'Lord Howe hourly / Hourly': "
        "a turn of 5400 seconds is not a whole number of hours" in out.getvalue()
    )
    assert counts() == (0, 0, 0, 0, 0, 0)


@pytest.mark.parametrize("schedule", ["PSCHUS1", "PSCHUK2", "PSCHLH3", "PSCHPY1", "PSCHPY2"])
def test_the_fixture_timelines_are_the_independent_renderers(schedule):
    answer = json.loads((FIXTURES / "schedules" / f"{schedule}.json").read_text())
    overrides = json.loads((FIXTURES / "schedules" / schedule / "overrides.json").read_text())["overrides"]
    rendered = render_pagerduty(answer["schedule"], overrides)
    assert answer["schedule"]["final_schedule"]["rendered_schedule_entries"] == rendered
