"""The chat-log import as a person uses it: upload, preview, confirm, and the lines on the incident page."""

import datetime as dt
from html import unescape

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile

from incidents.models import TimelineEvent
from tests.factories import IncidentFactory
from tests.incidents.slack_zip import message, slack_zip

pytestmark = pytest.mark.django_db

IMPACT = dt.datetime(2026, 11, 27, 13, 55, tzinfo=dt.UTC)
URL = "/incidents/{}/evidence/chatlog/"


@pytest.fixture
def incident():
    return IncidentFactory(
        impact_started_at=IMPACT,
        detected_at=IMPACT + dt.timedelta(minutes=5),
        resolved_at=IMPACT + dt.timedelta(hours=1),
    )


def timeline_rows(html: str) -> list[str]:
    section = html.split('id="timeline"', 1)[1].split("</table>", 1)[0]
    return [row.split("</tr>")[0] for row in section.split("<tr>")[2:]]


def test_imported_lines_show_their_speaker_in_the_timeline(browser_client, person, incident):
    browser_client.post(
        URL.format(incident.pk),
        {
            "text": "14:02 < jsmith> seeing 500s\n14:03 < akim> confirmed",
            "time_zone": "UTC",
            "action": "import",
        },
    )
    assert TimelineEvent.objects.filter(author=person).count() == 2

    html = browser_client.get(incident.get_absolute_url()).content.decode()

    rows = [row for row in timeline_rows(html) if "seeing 500s" in row or "confirmed" in row]
    assert len(rows) == 2
    who = [row.rsplit("<td>", 1)[1] for row in rows]
    assert who[0].startswith("jsmith")
    assert who[1].startswith("akim")
    assert "imported by" in who[0]


def upload(name: str, content: bytes):
    return SimpleUploadedFile(name, content, "application/zip")


def export_zip():
    return slack_zip(
        {
            "warroom/2026-11-26": [message(-86400, "the day before", user="U01ALICE")],
            "warroom/2026-11-27": [
                message(0, "", subtype="channel_join", user="U02BOB"),
                message(60, "checkout is timing out, <@U02BOB>", user="U01ALICE"),
                message(120, "on it", user="U02BOB"),
                message(
                    130,
                    "[FIRING:1] CheckoutLatency",
                    subtype="bot_message",
                    bot_id="B1",
                    username="Alertmanager",
                ),
            ],
            "general/2026-11-27": [message(0, "lunch?", user="U02BOB")],
        }
    )


def test_a_slack_export_zip_is_previewed_for_the_incidents_channel_and_days_then_imported(
    browser_client, incident
):
    preview = browser_client.post(
        URL.format(incident.pk), {"file": upload("export.zip", export_zip()), "time_zone": "UTC"}
    )

    assert preview.status_code == 200
    html = preview.content.decode()
    assert "#warroom" in html
    assert "2026-11-27" in html and "the day before" not in html and "lunch?" not in html
    assert "checkout is timing out, @Bob Lee" in html
    assert "Alertmanager" in html
    assert "3 lines will be added" in html
    assert "1 join, quit, topic change and the like is left out" in html
    assert not TimelineEvent.objects.exists()

    text = html.split('<textarea name="text" hidden>', 1)[1].split("</textarea>", 1)[0]
    response = browser_client.post(
        URL.format(incident.pk), {"text": unescape(text), "time_zone": "UTC", "action": "import"}
    )

    assert response.status_code == 302
    assert list(TimelineEvent.objects.values_list("speaker", "text")) == [
        ("alice", "checkout is timing out, @Bob Lee"),
        ("Bob Lee", "on it"),
        ("Alertmanager", "[FIRING:1] CheckoutLatency"),
    ]


def test_another_channel_of_the_export_can_be_chosen(browser_client, incident):
    response = browser_client.post(
        URL.format(incident.pk),
        {"file": upload("export.zip", export_zip()), "channel": "general", "time_zone": "UTC"},
    )
    html = response.content.decode()
    assert "lunch?" in html and "checkout is timing out" not in html
    assert '<option value="warroom">#warroom</option>' in html


def test_a_channel_the_export_lacks_is_a_400_naming_the_channels(browser_client, incident):
    response = browser_client.post(
        URL.format(incident.pk),
        {"file": upload("export.zip", export_zip()), "channel": "random", "time_zone": "UTC"},
    )
    assert response.status_code == 400
    assert "The export has no channel #random; it has #general, #warroom." in response.content.decode()


def test_a_file_named_zip_that_is_not_one_is_refused_with_a_clear_400(browser_client, incident):
    response = browser_client.post(
        URL.format(incident.pk), {"file": upload("export.zip", b"not a zip at all")}
    )
    assert response.status_code == 400
    assert "The file is not a ZIP archive" in response.content.decode()
    assert not TimelineEvent.objects.exists()


def test_an_export_with_no_day_of_the_incident_says_what_it_covers(browser_client, incident):
    data = slack_zip({"warroom/2026-10-01": [message(-86400 * 57, "long ago", user="U01ALICE")]})
    response = browser_client.post(
        URL.format(incident.pk), {"file": upload("export.zip", data), "time_zone": "UTC"}
    )
    assert response.status_code == 400
    assert "#warroom has no messages on the incident" in response.content.decode()
    assert "the export covers 2026-10-01 to 2026-10-01" in response.content.decode()


FAR_LOG = (
    "2017-11-27 14:02:11\talice\tlooks like last year's log\n2026-11-27 14:05:00\tbob\tthis one is right\n"
)


def test_lines_dated_far_from_the_incident_need_the_box_ticked(browser_client, incident):
    preview = browser_client.post(URL.format(incident.pk), {"text": FAR_LOG, "time_zone": "UTC"})
    html = preview.content.decode()
    assert "1 line is dated 2017; the incident is in 2026." in html
    assert 'name="confirm_dates"' in html

    refused = browser_client.post(
        URL.format(incident.pk), {"text": FAR_LOG, "time_zone": "UTC", "action": "import"}
    )
    assert refused.status_code == 400
    assert "1 line is dated 2017; the incident is in 2026." in refused.content.decode()
    assert not TimelineEvent.objects.exists()

    confirmed = browser_client.post(
        URL.format(incident.pk),
        {"text": FAR_LOG, "time_zone": "UTC", "action": "import", "confirm_dates": "on"},
    )
    assert confirmed.status_code == 302
    assert TimelineEvent.objects.count() == 2


def test_lines_near_the_incident_need_no_confirmation(browser_client, incident):
    preview = browser_client.post(URL.format(incident.pk), {"text": "14:02 < a> b", "time_zone": "UTC"})
    assert 'name="confirm_dates"' not in preview.content.decode()


def test_the_days_can_be_chosen_among_the_channels_days_near_the_incident(browser_client, incident):
    first = browser_client.post(
        URL.format(incident.pk), {"file": upload("export.zip", export_zip()), "time_zone": "UTC"}
    )
    html = first.content.decode()
    assert '<input type="checkbox" name="days" value="2026-11-26">' in html
    assert '<input type="checkbox" name="days" value="2026-11-27" checked>' in html

    again = browser_client.post(
        URL.format(incident.pk),
        {
            "file": upload("export.zip", export_zip()),
            "channel": "warroom",
            "days": ["2026-11-26", "2026-11-27"],
            "time_zone": "UTC",
        },
    )
    html = again.content.decode()
    assert "the day before" in html and "checkout is timing out" in html
    assert "4 lines will be added" in html


def test_a_malformed_day_is_a_400(browser_client, incident):
    response = browser_client.post(
        URL.format(incident.pk), {"file": upload("export.zip", export_zip()), "days": "yesterday"}
    )
    assert response.status_code == 400
    assert "Days are given as YYYY-MM-DD." in response.content.decode()


def test_a_continued_message_keeps_its_lines_on_the_incident_page(browser_client, incident):
    browser_client.post(
        URL.format(incident.pk),
        {"text": "[14:02:11] <alice> traceback:\n    File app.py\n", "time_zone": "UTC", "action": "import"},
    )
    html = browser_client.get(incident.get_absolute_url()).content.decode()
    assert "traceback:<br>File app.py" in html


def test_a_log_file_over_the_limit_is_a_400_not_a_silent_cut(browser_client, incident):
    big = b"14:02 < a> " + b"x" * (2 * 1024 * 1024)
    response = browser_client.post(
        URL.format(incident.pk), {"file": SimpleUploadedFile("irc.log", big, "text/plain")}
    )
    assert response.status_code == 400
    assert "larger than the 2 MB limit" in response.content.decode()
    assert not TimelineEvent.objects.exists()


def test_a_client_log_file_is_read_like_pasted_text(browser_client, incident):
    log = b"2026-11-27 14:02:11\talice\tcheckout is timing out\n"
    response = browser_client.post(
        URL.format(incident.pk),
        {"file": SimpleUploadedFile("weechat.log", log, "text/plain"), "time_zone": "UTC"},
    )
    assert "1 line will be added" in response.content.decode()


def test_an_archive_over_the_upload_limit_is_a_400(browser_client, incident, monkeypatch):
    monkeypatch.setattr("incidents.views.evidence.MAX_ZIP_BYTES", 1024 * 1024)
    data = export_zip() + b"\0" * (1024 * 1024)
    response = browser_client.post(URL.format(incident.pk), {"file": upload("export.zip", data)})
    assert response.status_code == 400
    assert "The archive is larger than 1 MB" in response.content.decode()
