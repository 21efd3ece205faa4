"""Dates in the year 1 or 4672 are typos: refused with a sentence, never a server error."""

import datetime as dt

import pytest
from django.core.exceptions import ValidationError
from django.utils import timezone

from incidents.forms import local_datetime_field
from incidents.views.evidence import CHART_DAYS
from tests.factories import DeployFactory, IncidentFactory

pytestmark = pytest.mark.django_db


@pytest.mark.parametrize("when", ["0001-01-01T00:00:00Z", "4672-07-15T00:00:00Z"])
def test_an_incident_from_an_implausible_year_is_refused(api, when):
    body = {"title": "Checkout down", "impact_started_at": when, "detected_at": "2026-11-01T10:05:00Z"}

    response = api.post("/api/v1/incidents/", body, format="json")

    assert response.status_code == 400
    assert "impact_started_at" in response.json()["errors"]


def test_a_timeline_event_from_an_implausible_year_is_refused(api):
    incident = IncidentFactory()
    body = {"occurred_at": "0001-01-01T00:00:00Z", "text": "paged"}

    response = api.post(f"/api/v1/incidents/{incident.pk}/timeline/", body, format="json")

    assert response.status_code == 400
    assert "occurred_at" in response.json()["errors"]


def test_a_deploy_from_an_implausible_year_is_refused(api):
    body = {
        "stack": "web",
        "environment": "production",
        "new_revision": "b",
        "started_at": "4672-07-15T00:00:00Z",
    }

    response = api.post("/api/v1/deploys/", body, format="json")

    assert response.status_code == 400
    assert "started_at" in response.json()["errors"]


def test_the_incident_form_refuses_an_implausible_year():
    with pytest.raises(ValidationError):
        local_datetime_field("Impact started").clean("0001-01-01T00:00")


def test_a_future_deploy_does_not_stretch_the_deploys_chart(browser_client):
    DeployFactory()
    DeployFactory(started_at=timezone.now() + dt.timedelta(days=365 * 50))

    response = browser_client.get("/deploys/")

    assert response.status_code == 200
    assert len(response.context["chart"].table.rows) <= CHART_DAYS


def test_the_report_page_refuses_implausible_dates_with_a_message(browser_client):
    day = "9999-12-31"
    query = {"since": day, "until": day, "compare_since": day, "compare_until": day}

    response = browser_client.get("/reports/incidents/", query)

    assert response.status_code == 400
    assert "Give a date between 1970 and 2100" in response.content.decode()
