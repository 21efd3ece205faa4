"""The chat-log import as a person uses it: upload, preview, confirm, and the lines on the incident page."""

import datetime as dt

import pytest

from incidents.models import TimelineEvent
from tests.factories import IncidentFactory

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
