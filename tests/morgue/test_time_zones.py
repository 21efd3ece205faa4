"""One time-zone rule: every path that takes a zone name refuses an unknown one with the same sentence."""

import pytest
from django.core.management import CommandError, call_command

from morgue.timezones import UnknownTimeZone, check_time_zone
from tests.factories import IncidentFactory, TeamFactory, member_of

SENTENCE = "Mars/Olympus is not a known IANA time zone (for example Europe/London)."


def test_the_rule_knows_iana_names_and_refuses_others():
    assert check_time_zone("Asia/Kathmandu").key == "Asia/Kathmandu"
    with pytest.raises(UnknownTimeZone, match="Mars/Olympus is not a known IANA time zone"):
        check_time_zone("Mars/Olympus")
    # Abbreviations and offsets are not zones people live in.
    for name in ("", "CEST", "+02:00", "europe/london"):
        with pytest.raises(UnknownTimeZone):
            check_time_zone(name)


def _sentences(response) -> str:
    body = response.json()
    return " ".join([body.get("detail", ""), *[str(v) for v in body.get("errors", {}).values()]])


@pytest.mark.django_db
def test_every_api_path_refuses_an_unknown_zone_with_the_same_sentence(api, staff_api, person):
    team = TeamFactory(slug="ops")
    member_of(team, "responder", user=person)
    incident = IncidentFactory(team=team)
    refusals = [
        api.patch("/api/v1/me/", {"time_zone": "Mars/Olympus"}, format="json"),
        staff_api.post("/api/v1/people/", {"username": "ren", "time_zone": "Mars/Olympus"}, format="json"),
        staff_api.post(
            "/api/v1/rotations/",
            {"team": "ops", "name": "Ops", "slug": "ops", "time_zone": "Mars/Olympus"},
            format="json",
        ),
        api.post(
            f"/api/v1/incidents/{incident.pk}/chatlog/",
            {"text": "[10:00] <dana> hi", "time_zone": "Mars/Olympus", "dry_run": True},
            format="json",
        ),
        api.get("/api/v1/reports/alerts/?month=2026-10&tz=Mars/Olympus"),
    ]
    for response in refusals:
        assert response.status_code == 400, response.content
        assert SENTENCE in _sentences(response), response.content


@pytest.mark.django_db
def test_the_command_refuses_an_unknown_zone_with_the_same_sentence():
    TeamFactory(slug="ops")
    with pytest.raises(CommandError, match="Mars/Olympus is not a known IANA time zone"):
        call_command(
            "create_alert_source",
            "nagios-eu",
            "--kind",
            "nagios",
            "--team",
            "ops",
            "--time-zone",
            "Mars/Olympus",
        )
