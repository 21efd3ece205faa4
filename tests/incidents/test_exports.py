import datetime as dt
import xml.etree.ElementTree as ElementTree

import pytest

from incidents.models import Status, TimelineEvent
from tests.factories import IncidentFactory

ATOM = "{http://www.w3.org/2005/Atom}"
STARTED = dt.datetime(2026, 3, 1, 9, 0, tzinfo=dt.UTC)


@pytest.mark.django_db
def test_postmortem_exports_as_markdown_in_the_readers_zone(browser_client, person):
    person.profile.time_zone = "America/New_York"
    person.profile.save()
    incident = IncidentFactory(
        title="Checkout errors",
        severity=2,
        status=Status.RESOLVED,
        impact_started_at=STARTED,
        detected_at=STARTED + dt.timedelta(minutes=7),
        resolved_at=STARTED + dt.timedelta(hours=1, minutes=7),
        tldr="Payments failed for an hour.",
        what_happened="A config push disabled the pool.",
    )
    TimelineEvent.objects.create(
        incident=incident,
        occurred_at=STARTED + dt.timedelta(minutes=7),
        kind="detection",
        text="Error rate alert fired",
    )

    response = browser_client.get(f"/incidents/{incident.pk}/postmortem.md")

    assert response.status_code == 200
    assert response["Content-Type"].startswith("text/markdown")
    assert "postmortem-" in response["Content-Disposition"]
    text = response.content.decode()
    assert text.startswith("# Checkout errors\n")
    assert "- **Time to detect:** 7m 00s" in text
    assert "| Impact started | 2026-03-01 04:00 EST |" in text
    assert "Error rate alert fired" in text
    assert "## tl;dr\n\nPayments failed for an hour." in text
    assert "## Where did we get lucky?\n\n_Not written yet._" in text


@pytest.mark.django_db
def test_markdown_export_of_a_missing_incident_is_404(browser_client):
    assert browser_client.get("/incidents/999999/postmortem.md").status_code == 404


@pytest.mark.django_db
def test_atom_feed_lists_reviewed_postmortems_for_a_valid_token(client, person):
    IncidentFactory(title="Reviewed one", status=Status.REVIEWED, tldr="**Short** story")
    IncidentFactory(title="Still open", status=Status.OPEN)

    response = client.get("/feeds/postmortems.atom", {"token": person.profile.calendar_token})

    assert response.status_code == 200
    root = ElementTree.fromstring(response.content)
    titles = [entry.find(f"{ATOM}title").text for entry in root.findall(f"{ATOM}entry")]
    assert titles == ["[sev 3] Reviewed one"]
    assert "<strong>Short</strong>" in root.find(f"{ATOM}entry/{ATOM}summary").text


@pytest.mark.django_db
@pytest.mark.parametrize("token", ["", "wrong"])
def test_atom_feed_with_a_bad_token_is_404(client, person, token):
    assert client.get("/feeds/postmortems.atom", {"token": token}).status_code == 404
