"""POST /api/v1/incidents/ with a title, severity and team; roles, updates, subscription, public, star."""

import datetime as dt

import pytest
import time_machine

from incidents.models import Incident, RoleKind
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


@time_machine.travel(NOW, tick=False)
def test_an_incident_is_declared_with_a_title_severity_and_team_only(api, person):
    member_of(TeamFactory(slug="payments", email=""), "responder", user=person)
    answer = api.post(
        "/api/v1/incidents/", {"title": "Card auths failing", "severity": 2, "team": "payments"}
    )
    assert answer.status_code == 201, answer.json()
    body = answer.json()
    assert (body["impact_started_at"], body["detected_at"], body["status"]) == (
        "2026-03-02T14:05:00Z",
        "2026-03-02T14:05:00Z",
        "open",
    )
    roles = api.get(f"/api/v1/incidents/{body['id']}/roles/").json()
    assert [(role["role"], role["user"]) for role in roles] == [("lead", person.username)]


@time_machine.travel(NOW, tick=False)
def test_declaring_from_a_page_and_paging_the_team(api, person):
    team = TeamFactory(slug="search", email="")
    member_of(team, "responder", user=person)
    page = page_team(team=team, message="Latency", now=NOW)
    answer = api.post(
        "/api/v1/incidents/",
        {"title": "Slow search", "severity": 3, "team": "search", "page": page.pk, "page_team": True},
    )
    assert answer.status_code == 201, answer.json()
    incident = Incident.objects.get(pk=answer.json()["id"])
    assert incident.pages.count() == 2


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"severity": 2, "team": "payments"}, "title"),
        ({"title": "x", "severity": 9, "team": "payments"}, "severity"),
        ({"title": "x", "severity": 2, "team": "nope"}, "team"),
        ({"title": "x", "severity": 2, "page_team": True}, "team"),
        ({"title": "x", "severity": 2, "page": 999}, "page"),
        ({"title": "x", "severity": 2, "detected_at": "yesterday"}, "detected_at"),
    ],
)
def test_bad_input_is_a_400_naming_the_field(api, body, field):
    TeamFactory(slug="payments")
    answer = api.post("/api/v1/incidents/", body, format="json")
    assert answer.status_code == 400
    assert field in answer.json()["errors"]
    assert not Incident.objects.exists()


def test_a_role_is_handed_over_and_released(api, person):
    incident = IncidentFactory()
    other = ProfileFactory(user=UserFactory(username="omar")).user
    url = f"/api/v1/incidents/{incident.pk}/roles/"
    assert api.post(url, {"role": "scribe", "user": person.username}).status_code == 200
    roles = api.post(url, {"role": "scribe", "user": other.username}).json()
    assert [(role["user"], role["ended_at"] is None) for role in roles] == [("pat", False), ("omar", True)]
    roles = api.post(url, {"role": "scribe", "user": None}, format="json").json()
    assert all(role["ended_at"] for role in roles)
    for body, field in [
        ({"role": "king", "user": "pat"}, "role"),
        ({"role": "scribe", "user": "ghost"}, "user"),
    ]:
        answer = api.post(url, body)
        assert answer.status_code == 400 and field in answer.json()["errors"]


def test_a_custom_role_defined_by_staff_can_be_assigned(api, person):
    RoleKind.objects.create(slug="liaison", name="Customer liaison")
    incident = IncidentFactory()
    roles = api.post(f"/api/v1/incidents/{incident.pk}/roles/", {"role": "liaison", "user": "pat"}).json()
    assert roles[0]["role_name"] == "Customer liaison"


def test_status_updates_are_posted_and_listed_and_bad_ones_name_the_field(
    api, django_capture_on_commit_callbacks
):
    incident = IncidentFactory()
    url = f"/api/v1/incidents/{incident.pk}/status-updates/"
    with django_capture_on_commit_callbacks(execute=False) as callbacks:
        answer = api.post(url, {"affected": "Checkout for EU customers", "doing": "Failing over to US"})
    assert answer.status_code == 201 and len(callbacks) == 1
    assert [update["affected"] for update in api.get(url).json()] == ["Checkout for EU customers"]
    incident.refresh_from_db()
    assert incident.status_posted_at is not None
    for body, field in [
        ({"doing": "x"}, "affected"),
        ({"affected": "x", "doing": "y", "next_update_at": "2001-01-01T00:00:00Z"}, "next_update_at"),
    ]:
        answer = api.post(url, body)
        assert answer.status_code == 400 and field in answer.json()["errors"], answer.json()


def test_subscribing_and_unsubscribing_a_person_and_a_team(api):
    incident = IncidentFactory()
    TeamFactory(slug="support", name="Support")
    url = f"/api/v1/incidents/{incident.pk}/subscription/"
    assert api.get(url).json() == {"subscribed": False, "teams": []}
    assert api.post(url, {}).json() == {"subscribed": True, "teams": []}
    assert api.post(url, {"team": "support"}).json() == {"subscribed": True, "teams": ["Support"]}
    assert api.delete(url, {}).json() == {"subscribed": False, "teams": ["Support"]}
    assert api.post(url, {"team": "nope"}).status_code == 400


def test_the_public_page_is_shown_by_choice_and_refused_with_internal_details(api, client):
    incident = IncidentFactory(title="Checkout errors on api.internal")
    url = f"/api/v1/incidents/{incident.pk}/public/"
    answer = api.post(url, {"public": True})
    assert answer.status_code == 400 and "public" in answer.json()["errors"]
    Incident.objects.filter(pk=incident.pk).update(title="Checkout errors")
    answer = api.post(url, {"public": True})
    assert answer.status_code == 200
    public = answer.json()["url"]
    page = client.get(public)
    assert page.status_code == 200 and b"Checkout errors" in page.content
    api.post(url, {"public": False})
    assert client.get(public).status_code == 404


def test_starring_an_event(api):
    incident = IncidentFactory()
    event = TimelineEventFactory(incident=incident)
    answer = api.post(f"/api/v1/incidents/{incident.pk}/star/", {"event": event.pk})
    assert answer.json() == {"event": event.pk, "starred": True}
    assert api.get(f"/api/v1/incidents/{incident.pk}/timeline/").json()[0]["starred"] is True
    other = TimelineEventFactory()
    assert api.post(f"/api/v1/incidents/{incident.pk}/star/", {"event": other.pk}).status_code == 400
