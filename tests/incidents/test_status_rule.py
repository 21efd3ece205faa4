"""An incident's status changes: one rule, Incident.move_to, that the page, the API and the admin obey."""

import datetime as dt

import pytest
from django.utils.html import escape

from incidents.admin import EDITED_FIELDS
from incidents.exceptions import IncidentHasOpenItems, StaleVersion, StatusChangeRefused
from incidents.models import Incident, RemediationItem, RemediationStatus, Revision, Status
from incidents.services import incident as services
from tests.factories import IncidentFactory, RemediationItemFactory, UserFactory

NOW = dt.datetime(2026, 3, 2, 9, 30, tzinfo=dt.UTC)
STARTED = dt.datetime(2026, 3, 1, 13, 0, tzinfo=dt.UTC)


def _open_incident() -> Incident:
    return Incident(
        status=Status.OPEN, impact_started_at=STARTED, detected_at=STARTED + dt.timedelta(minutes=10)
    )


# --- The rule, on the model ---------------------------------------------------------


def test_an_unknown_status_is_refused_with_the_statuses_named():
    incident = _open_incident()

    with pytest.raises(StatusChangeRefused) as error:
        incident.move_to("done", at=NOW, open_items=[])

    assert "use one of open, resolved, review-scheduled, reviewed, closed" in error.value.message
    assert incident.status == Status.OPEN


def test_moving_on_from_open_stamps_the_resolution_time_once():
    incident = _open_incident()

    incident.move_to(Status.RESOLVED, at=NOW, open_items=[])
    incident.move_to(Status.CLOSED, at=NOW + dt.timedelta(days=3), open_items=[])

    assert incident.status == Status.CLOSED
    assert incident.resolved_at == NOW


def test_review_scheduled_needs_a_review_meeting():
    incident = _open_incident()

    with pytest.raises(StatusChangeRefused, match="Schedule the review meeting"):
        incident.move_to(Status.REVIEW_SCHEDULED, at=NOW, open_items=[])

    assert incident.status == Status.OPEN and incident.resolved_at is None


def test_closing_is_refused_while_remediation_items_are_open():
    incident = _open_incident()
    item = RemediationItem(title="Rate-limit retries", kind="dev", status=RemediationStatus.OPEN)

    with pytest.raises(IncidentHasOpenItems, match="Rate-limit retries"):
        incident.move_to(Status.CLOSED, at=NOW, open_items=[item])

    assert incident.status == Status.OPEN and incident.resolved_at is None


# --- Every path obeys it ------------------------------------------------------------


def _admin_data(incident: Incident, **overrides) -> dict:
    """What the admin's change form posts for `incident`, with `overrides` typed in (times in UTC)."""
    values = {name: getattr(incident, name) for name in EDITED_FIELDS if name != "tags"}
    values.update(overrides)
    data = {
        "edited_version": str(incident.version),
        "tags": [tag.pk for tag in incident.tags.all()] if incident.pk else [],
        # The timeline inline, left empty.
        "events-TOTAL_FORMS": "0",
        "events-INITIAL_FORMS": "0",
        "events-MIN_NUM_FORMS": "0",
        "events-MAX_NUM_FORMS": "1000",
    }
    for name, value in values.items():
        if isinstance(value, dt.datetime):
            utc = value.astimezone(dt.UTC)
            data[f"{name}_0"], data[f"{name}_1"] = utc.strftime("%Y-%m-%d"), utc.strftime("%H:%M:%S")
        elif name.endswith("_at"):
            data[f"{name}_0"] = data[f"{name}_1"] = ""
        elif hasattr(value, "pk"):
            data[name] = value.pk
        else:
            data[name] = "" if value is None else value
    return data


def _admin_url(incident: Incident) -> str:
    return f"/admin/incidents/incident/{incident.pk}/change/"


def _through_the_admin(client, incident: Incident, status: str) -> tuple[int, str]:
    response = client.post(_admin_url(incident), _admin_data(incident, status=status))
    return response.status_code, response.content.decode()


def _through_the_page(client, incident: Incident, status: str) -> tuple[int, str]:
    data = {
        "version": incident.version,
        "title": incident.title,
        "severity": incident.severity,
        "status": status,
        "impact_started_at": incident.impact_started_at.strftime("%Y-%m-%dT%H:%M"),
        "detected_at": incident.detected_at.strftime("%Y-%m-%dT%H:%M"),
        "resolved_at": incident.resolved_at.strftime("%Y-%m-%dT%H:%M"),
        "tags": "",
    }
    response = client.post(f"/incidents/{incident.pk}/edit/", data)
    return response.status_code, response.content.decode()


def _through_the_api(client, incident: Incident, status: str) -> tuple[int, str]:
    response = client.patch(
        f"/api/v1/incidents/{incident.pk}/", {"version": incident.version, "status": status}, format="json"
    )
    return response.status_code, response.json()["detail"]


PATHS = {"page": _through_the_page, "api": _through_the_api, "admin": _through_the_admin}


@pytest.fixture
def clients(client, api, admin_client, person):
    client.force_login(person)
    return {"page": client, "api": api, "admin": admin_client}


def _resolved_incident() -> Incident:
    return IncidentFactory(
        status=Status.RESOLVED,
        impact_started_at=STARTED,
        detected_at=STARTED + dt.timedelta(minutes=10),
        resolved_at=STARTED + dt.timedelta(hours=2),
    )


@pytest.mark.django_db
@pytest.mark.parametrize("path", PATHS)
def test_every_path_refuses_closing_while_remediation_items_are_open_with_the_same_sentence(clients, path):
    incident = _resolved_incident()
    item = RemediationItemFactory(incident=incident, title="Rate-limit retries")
    sentence = IncidentHasOpenItems([item]).message

    status_code, text = PATHS[path](clients[path], incident, Status.CLOSED)

    assert status_code == {"page": 400, "api": 409, "admin": 200}[path]
    assert (sentence if path == "api" else escape(sentence)) in text
    incident.refresh_from_db()
    assert incident.status == Status.RESOLVED and incident.version == 1
    assert not Revision.objects.filter(incident=incident).exists()


@pytest.mark.django_db
@pytest.mark.parametrize("path", PATHS)
def test_every_path_refuses_review_scheduled_without_a_meeting(clients, path):
    incident = _resolved_incident()

    status_code, text = PATHS[path](clients[path], incident, Status.REVIEW_SCHEDULED)

    assert status_code == {"page": 400, "api": 400, "admin": 200}[path]
    assert "Schedule the review meeting to set the status to review-scheduled." in text
    incident.refresh_from_db()
    assert incident.status == Status.RESOLVED and incident.version == 1


# --- The admin saves through the services -----------------------------------------


@pytest.mark.django_db
def test_the_admin_shows_the_refusal_on_the_status_field(admin_client):
    incident = _resolved_incident()
    item = RemediationItemFactory(incident=incident, title="Rate-limit retries")

    response = admin_client.post(_admin_url(incident), _admin_data(incident, status=Status.CLOSED))

    form = response.context["adminform"].form
    assert form.errors["status"] == [IncidentHasOpenItems([item]).message]


@pytest.mark.django_db
def test_an_admin_edit_is_a_revision_and_bumps_the_version(admin_client, admin_user):
    incident = _resolved_incident()
    page = admin_client.get(_admin_url(incident)).content.decode()
    assert 'name="edited_version" value="1"' in page

    response = admin_client.post(_admin_url(incident), _admin_data(incident, title="Checkout timeouts"))

    assert response.status_code == 302
    incident.refresh_from_db()
    assert incident.title == "Checkout timeouts" and incident.version == 2
    revision = Revision.objects.get(incident=incident)
    assert revision.number == 2 and revision.author == admin_user
    assert revision.changed_fields == ["title"] and revision.note == "Edited in the admin"


@pytest.mark.django_db
def test_closing_in_the_admin_once_the_items_are_finished_follows_the_rule(admin_client):
    incident = IncidentFactory(status=Status.OPEN)
    RemediationItemFactory(incident=incident, status=RemediationStatus.DONE, completed_at=NOW)

    response = admin_client.post(_admin_url(incident), _admin_data(incident, status=Status.CLOSED))

    assert response.status_code == 302
    incident.refresh_from_db()
    assert incident.status == Status.CLOSED and incident.version == 2
    assert incident.resolved_at is not None, "closing an open incident stamps its resolution"
    assert Revision.objects.get(incident=incident).snapshot["status"] == Status.CLOSED


@pytest.mark.django_db
def test_an_admin_edit_on_top_of_an_older_version_is_refused(admin_client):
    incident = _resolved_incident()
    data = _admin_data(incident, title="Mine")
    services.update_incident(incident=incident, by=UserFactory(), version=1, changes={"title": "Theirs"})

    response = admin_client.post(_admin_url(incident), data)

    assert response.status_code == 200
    assert escape(StaleVersion(current_version=2).message) in response.content.decode()
    incident.refresh_from_db()
    assert incident.title == "Theirs" and incident.version == 2


@pytest.mark.django_db
def test_an_incident_added_in_the_admin_is_created_by_the_service(admin_client, admin_user):
    data = _admin_data(IncidentFactory.build(title="Queue backlog", impact_started_at=STARTED))
    del data["edited_version"]

    response = admin_client.post("/admin/incidents/incident/add/", data)

    assert response.status_code == 302
    incident = Incident.objects.get(title="Queue backlog")
    assert incident.created_by == admin_user and incident.version == 1
    assert Revision.objects.get(incident=incident).note == "Created"


@pytest.mark.django_db
def test_the_admin_deletes_and_restores_incidents_through_the_services(admin_client):
    incident = _resolved_incident()
    changelist = "/admin/incidents/incident/"

    admin_client.post(changelist, {"action": "delete_softly", "_selected_action": [incident.pk]})
    incident.refresh_from_db()
    assert incident.deleted_at is not None

    admin_client.post(changelist, {"action": "restore", "_selected_action": [incident.pk]})
    incident.refresh_from_db()
    assert incident.deleted_at is None
