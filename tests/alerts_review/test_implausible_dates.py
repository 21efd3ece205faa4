"""Months, alerts and reports from implausible years are refused, never a server error."""

import pytest
from rest_framework.test import APIClient

from alerts_review.models import Alert
from tests.factories import AlertSourceFactory

pytestmark = pytest.mark.django_db


@pytest.mark.parametrize("month", ["9999-12", "2101-01", "0000-01"])
def test_a_report_for_an_implausible_month_is_not_found(browser_client, month):
    assert browser_client.get(f"/alerts/reports/{month}/").status_code == 404


def test_the_alerts_report_api_refuses_an_implausible_month(api):
    response = api.get("/api/v1/reports/alerts/", {"month": "9999-12"})

    assert response.status_code == 400
    assert "month" in response.json()["errors"]


@pytest.mark.parametrize("fired_at", ["9999-12-31T23:59:59Z", "0001-01-01T00:00:00Z"])
def test_an_alert_fired_in_an_implausible_year_is_refused(fired_at):
    source = AlertSourceFactory(name="generic", kind="generic")
    body = {"check": "Backups", "host": "nas1", "fired_at": fired_at}

    response = APIClient().post(
        "/api/v1/alerts/", body, format="json", HTTP_AUTHORIZATION=f"Token {source.token}"
    )

    assert response.status_code == 400
    assert "fired_at must be between 1970 and 2100" in str(response.json()["errors"])
    assert not Alert.objects.exists()
