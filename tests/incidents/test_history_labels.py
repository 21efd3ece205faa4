"""An incident's history speaks of fields as people know them, not by their column names."""

import datetime as dt
import re

import pytest

from incidents.models.incident import revision_field_label
from incidents.services import incident as services
from tests.factories import IncidentFactory, ProfileFactory, TeamFactory, UserFactory, member_of

pytestmark = pytest.mark.django_db

STARTED = dt.datetime(2026, 3, 1, 13, 0, tzinfo=dt.UTC)


def _visible_text(html: str) -> str:
    return re.sub(r"<[^>]+>", " ", html)


@pytest.mark.parametrize(
    ("name", "label"),
    [
        ("team_id", "Team"),
        ("facilitator_id", "Facilitator"),
        ("affected_service", "Affected service"),
        ("what_happened", "What happened?"),
        ("tldr", "tl;dr"),
        ("resolved_at", "Resolved"),
        ("status_posted_source", "Status page updated: source"),
        ("tags", "Tags"),
        ("status", "Status"),
    ],
)
def test_each_recorded_field_has_a_label(name, label):
    assert revision_field_label(name) == label


def test_the_history_shows_labels_and_names_not_columns_and_ids(browser_client, person):
    incident = IncidentFactory(impact_started_at=STARTED)
    services.update_incident(incident=incident, by=person, version=1, changes={"tldr": "first"})
    payments = TeamFactory(name="Payments")
    member_of(payments, "responder", user=person)  # handing the incident to Payments needs a role there
    facilitator = ProfileFactory(user=UserFactory(username="olu"), display_name="Olu Ade").user
    services.update_incident(
        incident=incident,
        by=person,
        version=None,
        changes={
            "team": payments,
            "facilitator": facilitator,
            "what_happened": "The queue filled.",
            "resolved_at": STARTED + dt.timedelta(hours=2),
        },
    )

    html = browser_client.get(f"/incidents/{incident.pk}/history/?older=2&newer=3").content.decode()
    text = _visible_text(html)

    for column in ("team_id", "facilitator_id", "what_happened", "resolved_at"):
        assert column not in text, column
    assert "<h3>What happened?</h3>" in html and "<h3>Team</h3>" in html
    assert "Team, Facilitator, Resolved, What happened?, Status" in text
    assert "Payments" in text and "Olu Ade" in text
    assert "2026-03-01 15:00" in text, "times read on the viewer's clock, not as ISO 8601"


def test_a_refused_timeline_event_names_the_field_by_its_label(browser_client):
    incident = IncidentFactory(impact_started_at=STARTED)

    response = browser_client.post(
        f"/incidents/{incident.pk}/timeline/",
        {"occurred_at": "yesterday", "kind": "note", "text": ""},
        follow=True,
    )

    text = _visible_text(response.content.decode())
    assert "occurred_at" not in text and "text:" not in text
    assert "Time: give a date and time such as 2026-03-01 14:05." in text
    assert "Text: This field is required." in text
