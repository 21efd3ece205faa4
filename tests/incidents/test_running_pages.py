"""The pages: declare from home and from a page, roles and updates, the public page and its feed."""

import datetime as dt

import pytest
import time_machine

from incidents.models import Incident, Status
from incidents.services import running as services
from oncall.services.pages import page_team
from tests.factories import (
    IncidentFactory,
    ProfileFactory,
    TeamFactory,
    TimelineEventFactory,
    UserFactory,
    member_of,
)

pytestmark = pytest.mark.django_db
NOW = dt.datetime(2026, 3, 2, 14, 5, tzinfo=dt.UTC)


def test_the_home_page_declares_an_incident_and_then_says_you_lead_it(browser_client, person):
    member_of(TeamFactory(slug="payments", name="Payments", email=""), "responder", user=person)
    home = browser_client.get("/")
    assert b'aria-label="Declare an incident"' in home.content
    answer = browser_client.post(
        "/incidents/declare/", {"title": "Card auths failing", "severity": "2", "team": "payments"}
    )
    incident = Incident.objects.get()
    assert answer.status_code == 302 and answer["Location"] == incident.get_absolute_url()
    assert "You lead: <a" in browser_client.get("/").content.decode()


def test_a_refused_declaration_shows_the_form_with_its_error(browser_client):
    answer = browser_client.post("/incidents/declare/", {"title": "", "severity": "2", "team": "nope"})
    assert answer.status_code == 400
    assert b"Title: This field is required." in answer.content
    assert not Incident.objects.exists()


def test_a_page_offers_to_declare_and_then_shows_its_incident(browser_client, person):
    team = TeamFactory(slug="search", email="")
    member_of(team, "responder", user=person)
    page = page_team(team=team, message="Search latency over 2 s")
    detail = browser_client.get(f"/oncall/pages/{page.pk}/")
    assert b"Declare an incident from this page" in detail.content
    answer = browser_client.post(
        "/incidents/declare/", {"title": "Search slow", "severity": "3", "team": "search", "page": page.pk}
    )
    incident = Incident.objects.get()
    assert answer["Location"] == incident.get_absolute_url()
    detail = browser_client.get(f"/oncall/pages/{page.pk}/").content.decode()
    assert f'href="{incident.get_absolute_url()}"' in detail and "Declare an incident from" not in detail
    assert (
        f'href="/oncall/pages/{page.pk}/"' in browser_client.get(incident.get_absolute_url()).content.decode()
    )


def test_roles_and_status_updates_are_shown_and_bad_ones_refused_in_place(browser_client, person):
    incident = IncidentFactory()
    ProfileFactory(user=UserFactory(username="omar"))
    url = incident.get_absolute_url()
    browser_client.post(f"{url}roles/", {"role": "communications", "user": "omar"})
    page = browser_client.get(url).content.decode()
    assert "Communications lead" in page and "omar" in page
    refused = browser_client.post(f"{url}roles/", {"role": "scribe", "user": "ghost"})
    assert refused.status_code == 400 and b"Nobody active is called ghost." in refused.content
    browser_client.post(f"{url}status-updates/", {"affected": "EU checkout", "doing": "Failing over"})
    assert b"Failing over" in browser_client.get(url).content
    refused = browser_client.post(f"{url}status-updates/", {"affected": "", "doing": "x"})
    assert refused.status_code == 400 and b"What is affected: This field is required." in refused.content


def test_following_and_unfollowing(browser_client, person):
    incident = IncidentFactory()
    url = incident.get_absolute_url()
    browser_client.post(f"{url}subscription/", {"action": "subscribe"})
    assert b"You follow this incident." in browser_client.get(url).content
    browser_client.post(f"{url}subscription/", {"action": "unsubscribe"})
    assert b"You follow this incident." not in browser_client.get(url).content


def test_a_star_marks_a_key_moment(browser_client):
    event = TimelineEventFactory()
    browser_client.post(f"/incidents/{event.incident_id}/timeline/{event.pk}/star/", {"starred": "1"})
    event.refresh_from_db()
    assert event.starred


def test_the_public_page_shows_no_internal_field_and_the_postmortem_only_once_published(client, person):
    facilitator = ProfileFactory(user=UserFactory(username="fiona-facilitator")).user
    incident = IncidentFactory(
        title="Checkout errors",
        facilitator=facilitator,
        affected_service="checkout-internal-svc",
        tldr="A bad config push; rolled back.",
        status=Status.RESOLVED,
        impact_started_at=NOW - dt.timedelta(hours=1),
        detected_at=NOW - dt.timedelta(hours=1),
        resolved_at=NOW,
    )
    with time_machine.travel(NOW - dt.timedelta(minutes=30), tick=False):
        services.post_status_update(incident=incident, by=person, affected="Checkout", doing="Rolling back")
    assert client.get("/status/nope/").status_code == 404
    incident = services.set_public(incident=incident, by=person, public=True)
    page = client.get(services.public_url(incident)).content.decode()
    assert "Checkout errors" in page and "Rolling back" in page
    for internal in ("fiona-facilitator", "checkout-internal-svc", "A bad config push", "version"):
        assert internal not in page
    Incident.objects.filter(pk=incident.pk).update(status=Status.REVIEWED)
    incident.refresh_from_db()
    services.set_public(incident=incident, by=person, public=True, postmortem=True)
    assert "A bad config push" in client.get(services.public_url(incident)).content.decode()
    feed = client.get(f"{services.public_url(incident)}updates.atom")
    assert feed.status_code == 200 and feed["Content-Type"].startswith("application/atom+xml")
    assert b"Rolling back" in feed.content
    services.set_public(incident=incident, by=person, public=False)
    assert client.get(f"{services.public_url(incident)}updates.atom").status_code == 404


def test_a_template_chooses_the_sections_and_prompts_of_the_incident_page(browser_client, person):
    from incidents.models import PostmortemTemplate
    from incidents.services.incident import create_incident

    PostmortemTemplate.objects.create(
        name="Security",
        severity=1,
        sections=[{"section": "what_happened", "prompt": "Who had access, when?"}],
    )
    incident = create_incident(by=person, title="Leak", severity=1, impact_started_at=NOW, detected_at=NOW)
    page = browser_client.get(incident.get_absolute_url()).content.decode()
    assert "Who had access, when?" in page and "Where did we get lucky?" not in page
