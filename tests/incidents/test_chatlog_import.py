import datetime as dt
import json

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile

from incidents.models import EventKind, TimelineEvent
from tests.factories import IncidentFactory

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
