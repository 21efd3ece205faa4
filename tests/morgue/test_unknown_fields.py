"""Every API write refuses a field it does not take, naming it, and saves nothing (morgue.fields)."""

import pytest

from incidents.models import Incident, RemediationItem
from morgue.models import Team
from oncall.models import Rotation
from tests.factories import IncidentFactory, TeamFactory, member_of

pytestmark = pytest.mark.django_db

INCIDENT = {"title": "Checkout 500s", "impact_started_at": "2026-10-01T10:00:00Z"}


@pytest.fixture
def incident(person):
    """An Ops incident; `person` is one of Ops's responders, so a refusal is about the field."""
    ops = TeamFactory(slug="ops")
    member_of(ops, "responder", user=person)
    return IncidentFactory(team=ops)


def _refused(response, name: str) -> None:
    assert response.status_code == 400, response.content
    body = response.json()
    assert name in body["errors"], body
    assert name in body["detail"]


def test_a_misspelt_incident_field_is_refused_not_defaulted(api):
    response = api.post("/api/v1/incidents/", {**INCIDENT, "sevrity": 1}, format="json")
    _refused(response, "sevrity")
    assert not Incident.objects.exists()


def test_a_misspelt_remediation_field_is_refused(api, incident, person):
    body = {"title": "Alert on 5xx", "kind": "dev", "owner": person.username, "due_on": "2026-12-01"}
    _refused(api.post(f"/api/v1/incidents/{incident.pk}/remediations/", body, format="json"), "due_on")
    assert not RemediationItem.objects.exists()


@pytest.mark.parametrize(
    ("method", "address", "as_staff"),
    [
        ("patch", "/api/v1/incidents/{incident}/", False),
        ("post", "/api/v1/incidents/{incident}/timeline/", False),
        ("post", "/api/v1/incidents/{incident}/deploys/", False),
        ("post", "/api/v1/incidents/{incident}/graphs/", False),
        ("post", "/api/v1/incidents/{incident}/chatlog/", False),
        ("post", "/api/v1/deploys/", False),
        ("post", "/api/v1/teams/", True),
        ("patch", "/api/v1/teams/ops/", True),
        ("post", "/api/v1/rotations/", True),
        ("post", "/api/v1/swaps/", False),
        ("post", "/api/v1/pages/", False),
        ("put", "/api/v1/teams/ops/paging-policy/", True),
        ("post", "/api/v1/maintenance-windows/", True),
        ("patch", "/api/v1/me/", False),
        ("post", "/api/v1/people/", True),
    ],
)
def test_every_write_endpoint_names_an_unknown_field(api, staff_api, incident, method, address, as_staff):
    client = staff_api if as_staff else api
    url = address.format(incident=incident.pk)
    teams = Team.objects.count()
    response = getattr(client, method)(url, {"bogus_field": 1}, format="json")
    _refused(response, "bogus_field")
    assert Team.objects.count() == teams
    assert not Rotation.objects.exists()
