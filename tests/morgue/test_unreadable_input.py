"""What a client can send never gives a 500: unreadable text and absurd JSON are refused with a sentence."""

import json

import pytest

from tests.factories import IncidentFactory, TeamFactory

INCIDENT = {
    "title": "Checkout 500s",
    "impact_started_at": "2026-10-01T10:00:00Z",
    "detected_at": "2026-10-01T10:05:00Z",
}


@pytest.mark.django_db
@pytest.mark.parametrize(
    "path",
    [
        "/api/v1/rotations/a%00b/",
        "/api/v1/teams/a%00b/",
        "/oncall/rotations/a%00b/",
        "/incidents/?q=a%00b",
        "/api/v1/incidents/?a%00=1",
    ],
)
def test_a_nul_or_broken_text_in_the_address_is_a_400_naming_it(browser_client, path):
    response = browser_client.get(path)
    assert response.status_code == 400
    body = response.content.decode()
    assert "NUL character" in body


@pytest.mark.django_db
def test_json_nested_past_the_recursion_limit_is_a_400(api):
    body = "[" * 100_000 + "]" * 100_000
    response = api.generic("POST", "/api/v1/incidents/", body, content_type="application/json")
    assert response.status_code == 400
    assert response.json()["detail"] == "The JSON body is nested too deeply to read."


@pytest.mark.django_db
@pytest.mark.parametrize("title", ["a\u0000b", "a\ud800b"])
def test_unstorable_text_in_a_body_is_refused_and_nothing_is_saved(api, title):
    body = json.dumps({**INCIDENT, "title": title})
    response = api.generic("POST", "/api/v1/incidents/", body, content_type="application/json")
    assert response.status_code == 400
    assert "title" in response.json()["errors"]
    assert api.get("/api/v1/incidents/").json()["count"] == 0


@pytest.mark.django_db
def test_an_api_address_opened_in_a_browser_answers_json(browser_client):
    incident = IncidentFactory(team=TeamFactory())
    response = browser_client.get(
        f"/api/v1/incidents/{incident.pk}/", HTTP_ACCEPT="text/html,application/xhtml+xml,*/*;q=0.8"
    )
    assert response.status_code == 200
    assert response.json()["id"] == incident.pk
