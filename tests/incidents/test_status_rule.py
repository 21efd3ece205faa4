"""An incident's status changes: one rule, Incident.move_to, that the page, the API and the admin obey."""

import datetime as dt

import pytest
from django.utils.html import escape

from incidents.admin import EDITED_FIELDS
from incidents.exceptions import (
    IncidentHasOpenItems,
    StaleVersion,
    StatusChangeRefused,
    StatusContradictsTimes,
)
from incidents.models import Incident, RemediationItem, RemediationStatus, Revision, Status
from incidents.services import incident as services
from tests.factories import IncidentFactory, RemediationItemFactory, TeamFactory, member_of

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
    services.update_incident(
        incident=incident, by=member_of(TeamFactory()), version=1, changes={"title": "Theirs"}
    )

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


# --- The status and the resolution time agree ------------------------------------


def test_a_resolution_time_without_a_status_resolves_an_open_incident():
    incident = _open_incident()
    incident.resolved_at = STARTED + dt.timedelta(hours=2)

    incident.move_to(None, at=NOW, open_items=[], resolved_at_given=True)

    assert incident.status == Status.RESOLVED
    assert incident.resolved_at == STARTED + dt.timedelta(hours=2), "the time given is kept"


def test_open_with_a_resolution_time_given_is_refused_naming_both_fields():
    incident = _open_incident()
    incident.resolved_at = STARTED + dt.timedelta(hours=2)

    with pytest.raises(StatusContradictsTimes) as error:
        incident.move_to(Status.OPEN, at=NOW, open_items=[], resolved_at_given=True)

    assert "status" in error.value.message and "resolved_at" in error.value.message
    assert set(error.value.extra["errors"]) == {"status", "resolved_at"}


def test_clearing_the_resolution_time_of_a_resolved_incident_is_refused():
    incident = _open_incident()
    incident.status, incident.resolved_at = Status.RESOLVED, None

    with pytest.raises(StatusContradictsTimes, match="resolved_at"):
        incident.move_to(None, at=NOW, open_items=[], resolved_at_given=True)


def test_reopening_clears_the_resolution_time():
    incident = _open_incident()
    incident.move_to(Status.RESOLVED, at=NOW, open_items=[])

    incident.move_to(Status.OPEN, at=NOW, open_items=[])

    assert incident.status == Status.OPEN and incident.resolved_at is None


def test_a_resolution_time_given_with_a_later_status_still_obeys_the_open_items_rule():
    incident = _open_incident()
    incident.resolved_at = STARTED + dt.timedelta(hours=2)
    item = RemediationItem(title="Rate-limit retries", kind="dev", status=RemediationStatus.OPEN)

    with pytest.raises(IncidentHasOpenItems):
        incident.move_to(Status.CLOSED, at=NOW, open_items=[item], resolved_at_given=True)

    assert incident.status == Status.OPEN


RESOLVED_AT = STARTED + dt.timedelta(hours=2)


def _api_body(**overrides) -> dict:
    body = {
        "title": "Checkout timeouts",
        "impact_started_at": STARTED.isoformat(),
        "detected_at": (STARTED + dt.timedelta(minutes=10)).isoformat(),
    }
    body.update(overrides)
    return body


@pytest.mark.django_db
def test_an_incident_created_through_the_api_with_a_resolution_time_is_resolved(api):
    response = api.post("/api/v1/incidents/", _api_body(resolved_at=RESOLVED_AT.isoformat()), format="json")

    assert response.status_code == 201, response.json()
    assert response.json()["status"] == Status.RESOLVED
    assert response.json()["time_to_resolve_seconds"] == 110 * 60
    metrics = api.get("/api/v1/metrics/incidents/", {"since": "2026-03-01"}).json()
    assert metrics["time_to_resolve"]["n"] == 1, "it counts in the metrics"


@pytest.mark.django_db
def test_the_api_refuses_an_open_status_with_a_resolution_time_naming_both_fields(api):
    response = api.post(
        "/api/v1/incidents/",
        _api_body(status=Status.OPEN, resolved_at=RESOLVED_AT.isoformat()),
        format="json",
    )

    assert response.status_code == 400
    assert set(response.json()["errors"]) == {"status", "resolved_at"}
    assert not Incident.objects.exists()


@pytest.mark.django_db
def test_the_api_refuses_clearing_the_resolution_time_of_a_resolved_incident(api):
    incident = _resolved_incident()

    response = api.patch(
        f"/api/v1/incidents/{incident.pk}/", {"version": 1, "resolved_at": None}, format="json"
    )

    assert response.status_code == 400
    assert set(response.json()["errors"]) == {"status", "resolved_at"}
    incident.refresh_from_db()
    assert incident.resolved_at == RESOLVED_AT and incident.version == 1


@pytest.mark.django_db
def test_a_resolution_time_patched_onto_an_open_incident_resolves_it(api):
    incident = IncidentFactory(status=Status.OPEN, impact_started_at=STARTED)

    response = api.patch(
        f"/api/v1/incidents/{incident.pk}/",
        {"version": 1, "resolved_at": RESOLVED_AT.isoformat()},
        format="json",
    )

    assert response.status_code == 200, response.json()
    assert response.json()["status"] == Status.RESOLVED


@pytest.mark.django_db
def test_reopening_through_the_api_clears_the_resolution_time(api):
    incident = _resolved_incident()

    response = api.patch(f"/api/v1/incidents/{incident.pk}/", {"version": 1, "status": "open"}, format="json")

    assert response.status_code == 200, response.json()
    assert response.json()["status"] == Status.OPEN and response.json()["resolved_at"] is None


def _page_data(**overrides) -> dict:
    data = {
        "title": "Checkout timeouts",
        "severity": 3,
        "status": Status.OPEN,
        "impact_started_at": STARTED.strftime("%Y-%m-%dT%H:%M"),
        "detected_at": (STARTED + dt.timedelta(minutes=10)).strftime("%Y-%m-%dT%H:%M"),
        "tags": "",
    }
    data.update(overrides)
    return data


@pytest.mark.django_db
def test_a_resolution_time_typed_into_the_new_incident_form_resolves_it(client, person):
    client.force_login(person)

    response = client.post("/incidents/new/", _page_data(resolved_at=RESOLVED_AT.strftime("%Y-%m-%dT%H:%M")))

    assert response.status_code == 302, response.content.decode()
    incident = Incident.objects.get()
    assert incident.status == Status.RESOLVED and incident.resolved_at == RESOLVED_AT


@pytest.mark.django_db
def test_the_edit_form_refuses_choosing_a_later_status_and_clearing_the_time_together(client, person):
    client.force_login(person)
    incident = _resolved_incident()
    data = _page_data(version=1, status=Status.REVIEWED, resolved_at="")

    response = client.post(f"/incidents/{incident.pk}/edit/", data)

    assert response.status_code == 400
    assert "resolved_at (Resolved) is empty" in response.content.decode()
    incident.refresh_from_db()
    assert incident.status == Status.RESOLVED and incident.resolved_at == RESOLVED_AT


@pytest.mark.django_db
def test_the_edit_form_refuses_reopening_with_a_new_resolution_time(client, person):
    client.force_login(person)
    incident = _resolved_incident()
    later = RESOLVED_AT + dt.timedelta(hours=1)
    data = _page_data(version=1, status=Status.OPEN, resolved_at=later.strftime("%Y-%m-%dT%H:%M"))

    response = client.post(f"/incidents/{incident.pk}/edit/", data)

    assert response.status_code == 400
    assert "status is open but resolved_at (Resolved) is given" in response.content.decode()
    incident.refresh_from_db()
    assert incident.status == Status.RESOLVED and incident.resolved_at == RESOLVED_AT


@pytest.mark.django_db
def test_a_resolution_time_typed_into_the_edit_form_resolves_the_incident(client, person):
    client.force_login(person)
    incident = IncidentFactory(
        status=Status.OPEN, impact_started_at=STARTED, detected_at=STARTED + dt.timedelta(minutes=10)
    )

    response = client.post(
        f"/incidents/{incident.pk}/edit/",
        _page_data(version=1, resolved_at=RESOLVED_AT.strftime("%Y-%m-%dT%H:%M")),
    )

    assert response.status_code == 302, response.content.decode()
    incident.refresh_from_db()
    assert incident.status == Status.RESOLVED and incident.resolved_at == RESOLVED_AT


@pytest.mark.django_db
def test_a_resolution_time_given_in_the_admin_resolves_the_incident(admin_client):
    incident = IncidentFactory(
        status=Status.OPEN, impact_started_at=STARTED, detected_at=STARTED + dt.timedelta(minutes=10)
    )

    response = admin_client.post(_admin_url(incident), _admin_data(incident, resolved_at=RESOLVED_AT))

    assert response.status_code == 302
    incident.refresh_from_db()
    assert incident.status == Status.RESOLVED and incident.resolved_at == RESOLVED_AT


@pytest.mark.django_db
def test_the_migration_makes_existing_rows_agree(person):
    from importlib import import_module

    from django.apps import apps

    entered = IncidentFactory(status=Status.OPEN, impact_started_at=STARTED, resolved_at=RESOLVED_AT)
    reopened = services.create_incident(
        by=person, title="Reopened", impact_started_at=STARTED, detected_at=STARTED, resolved_at=RESOLVED_AT
    )
    Incident.objects.filter(pk=reopened.pk).update(status=Status.OPEN)  # reopened before the rule
    unstamped = IncidentFactory(status=Status.CLOSED, impact_started_at=STARTED, updated_at=NOW)

    import_module("incidents.migrations.0013_status_agrees_with_resolution_time").make_status_agree(
        apps, None
    )

    entered.refresh_from_db()
    reopened.refresh_from_db()
    unstamped.refresh_from_db()
    assert (entered.status, entered.resolved_at) == (Status.RESOLVED, RESOLVED_AT)
    assert (reopened.status, reopened.resolved_at) == (Status.OPEN, None)
    assert (unstamped.status, unstamped.resolved_at) == (Status.CLOSED, NOW)


@pytest.mark.django_db
def test_restoring_a_revision_from_before_the_resolution_keeps_the_incident_resolved(person):
    incident = services.create_incident(
        by=person, title="Queue backlog", impact_started_at=STARTED, detected_at=STARTED
    )
    services.update_incident(
        incident=incident, by=person, version=1, changes={"title": "Queue stuck", "resolved_at": RESOLVED_AT}
    )
    first = incident.revisions.get(number=1)

    restored = services.restore_revision(incident=incident, revision=first, by=person)

    assert restored.title == "Queue backlog"
    assert (restored.status, restored.resolved_at) == (Status.RESOLVED, RESOLVED_AT)
