import datetime as dt
import json

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile

from incidents.models import EventKind, TimelineEvent
from tests.factories import IncidentFactory
from tests.incidents.slack_zip import message, slack_zip

pytestmark = pytest.mark.django_db


@pytest.fixture
def incident():
    return IncidentFactory(impact_started_at=dt.datetime(2026, 10, 3, 13, 55, tzinfo=dt.UTC))


def post(api, incident, **data):
    return api.post(f"/api/v1/incidents/{incident.pk}/chatlog/", data, format="json")


def test_a_dry_run_previews_without_saving(api, incident, sample):
    response = post(api, incident, text=sample("irc-warroom.log"), dry_run=True)
    assert response.status_code == 200, response.json()
    body = response.json()
    assert body["dry_run"] is True
    assert body["imported"] == 9
    assert body["events"][0] == {
        "line_number": 1,
        "occurred_at": "2026-10-03T14:02:00Z",
        "speaker": "jsmith",
        "text": "seeing elevated 500s on listings after the last push",
        "new": True,
    }
    assert body["unparsed"] == [
        {"line_number": 9, "line": "-- this line has no time and cannot be parsed --"}
    ]
    assert not TimelineEvent.objects.exists()


def test_importing_adds_communication_events_and_the_second_import_adds_nothing(api, incident, sample):
    first = post(api, incident, text=sample("irc-warroom.log"))
    assert first.json()["imported"] == 9
    events = TimelineEvent.objects.filter(incident=incident)
    assert events.count() == 9
    assert set(events.values_list("kind", flat=True)) == {EventKind.COMMUNICATION}
    assert events.first().speaker == "jsmith"

    second = post(api, incident, text=sample("irc-warroom.log"))
    assert second.json()["imported"] == 0
    assert not any(event["new"] for event in second.json()["events"])
    assert events.count() == 9


def test_a_longer_log_later_adds_only_its_new_lines(api, incident):
    post(api, incident, text="14:02 < a> one")
    response = post(api, incident, text="14:02 < a> one\n14:03 < b> two")
    assert response.json()["imported"] == 1
    assert TimelineEvent.objects.count() == 2


def test_times_are_read_in_the_given_zone(api, incident):
    post(api, incident, text="10:02 < a> morning in New York", time_zone="America/New_York")
    assert TimelineEvent.objects.get().occurred_at == dt.datetime(2026, 10, 3, 14, 2, tzinfo=dt.UTC)


def test_a_slack_export_file_is_imported(api, incident, sample):
    upload = SimpleUploadedFile(
        "warroom.json", sample("slack-export-warroom.json").encode(), "application/json"
    )
    response = api.post(f"/api/v1/incidents/{incident.pk}/chatlog/", {"file": upload})
    assert response.status_code == 200, response.json()
    assert response.json()["imported"] == 4


def test_one_bad_line_never_loses_the_good_ones(api, incident):
    response = post(api, incident, text="garbage\n14:02 < a> good\n\x01\x02 ~~")
    assert response.json()["imported"] == 1
    assert [row["line_number"] for row in response.json()["unparsed"]] == [1, 3]


def test_a_log_with_no_parseable_line_is_a_clear_400_listing_the_lines(api, incident):
    response = post(api, incident, text="hello\nworld")
    assert response.status_code == 400
    body = response.json()
    assert "No line of the log could be parsed" in body["detail"]
    assert "text" in body["errors"]
    assert body["unparsed"] == [{"line_number": 1, "line": "hello"}, {"line_number": 2, "line": "world"}]
    assert not TimelineEvent.objects.exists()


@pytest.mark.parametrize(
    ("data", "field"),
    [({"text": ""}, "text"), ({"text": "14:02 < a> b", "time_zone": "Mars/Olympus"}, "time_zone")],
)
def test_bad_requests_name_the_field(api, incident, data, field):
    response = post(api, incident, **data)
    assert response.status_code == 400
    assert field in response.json()["errors"]


def test_a_malformed_slack_export_is_read_as_lines_and_listed_back(api, incident):
    text = json.dumps([{"type": "message"}])
    response = post(api, incident, text=text + "\n14:02 < a> b")
    assert response.status_code == 200
    assert response.json()["imported"] == 1


def test_a_slack_export_zip_is_read_for_the_busiest_channel_on_the_incidents_days(api):
    incident = IncidentFactory(
        impact_started_at=dt.datetime(2026, 11, 27, 13, 55, tzinfo=dt.UTC),
        resolved_at=dt.datetime(2026, 11, 27, 15, 0, tzinfo=dt.UTC),
    )
    data = slack_zip(
        {
            "warroom/2026-11-27": [
                message(60, "checkout down", user="U01ALICE"),
                message(90, "ack", user="U02BOB"),
            ],
            "general/2026-11-27": [message(0, "lunch?", user="U02BOB")],
            "general/2026-11-28": [message(86400, "next day", user="U02BOB")] * 20,
        }
    )
    upload = SimpleUploadedFile("export.zip", data, "application/zip")
    response = api.post(f"/api/v1/incidents/{incident.pk}/chatlog/", {"file": upload, "dry_run": True})
    assert response.status_code == 200, response.json()
    body = response.json()
    assert (body["channel"], body["days"]) == ("warroom", ["2026-11-27"])
    assert [(event["speaker"], event["text"]) for event in body["events"]] == [
        ("alice", "checkout down"),
        ("Bob Lee", "ack"),
    ]


def test_a_zip_that_is_not_one_is_a_400_on_the_file(api, incident):
    upload = SimpleUploadedFile("export.zip", b"PK\x03\x04 but broken", "application/zip")
    response = api.post(f"/api/v1/incidents/{incident.pk}/chatlog/", {"file": upload})
    assert response.status_code == 400
    assert "file" in response.json()["errors"]
    assert "not a ZIP archive" in response.json()["detail"]


def test_lines_dated_far_from_the_incident_are_imported_only_when_confirmed(api, incident):
    text = "2017-10-03 14:02:00\takim\told log\n2026-10-03 14:03:00\takim\tright log"
    preview = post(api, incident, text=text, dry_run=True)
    assert preview.json()["far_dates"] == "1 line is dated 2017; the incident is in 2026."

    refused = post(api, incident, text=text)
    assert refused.status_code == 400
    assert refused.json()["detail"] == "1 line is dated 2017; the incident is in 2026."
    assert "confirm_dates" in refused.json()["errors"]
    assert not TimelineEvent.objects.exists()

    assert post(api, incident, text=text, confirm_dates=True).json()["imported"] == 2


def test_lines_far_from_the_incident_in_its_own_year_are_named_by_date(api, incident):
    text = (
        "2026-03-01 09:00:00\takim\tspring\n"
        "2026-03-05 09:00:00\takim\tstill spring\n"
        "2026-10-03 14:02:00\takim\tnow"
    )
    body = post(api, incident, text=text, dry_run=True).json()
    assert (
        body["far_dates"]
        == "2 lines are dated between 1 Mar 2026 and 5 Mar 2026; the incident is on 3 Oct 2026."
    )
