import pytest

pytestmark = pytest.mark.django_db


@pytest.mark.parametrize("month", ["9999-12", "2101-01", "0000-01"])
def test_a_report_for_an_implausible_month_is_not_found(browser_client, month):
    assert browser_client.get(f"/alerts/reports/{month}/").status_code == 404


def test_the_alerts_report_api_refuses_an_implausible_month(api):
    response = api.get("/api/v1/reports/alerts/", {"month": "9999-12"})

    assert response.status_code == 400
    assert "month" in response.json()["errors"]
