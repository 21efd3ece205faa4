"""Reading the audit trail (staff only: pages, CSV, API) and keeping it append-only."""

import csv
import datetime as dt
import io

import pytest
import time_machine
from django.contrib import admin
from django.test import RequestFactory

from morgue import audit
from morgue.celery import adopt_request_id, forget_request_id, stamp_sent_at
from morgue.models import AuditEntry, AuditRefused
from tests.factories import IncidentFactory, TeamFactory, UserFactory

pytestmark = pytest.mark.django_db
UTC = dt.UTC


def entries(count: int, *, kind="morgue.team", object_id="1", actor=None, action="changed", start=None):
    """`count` entries one minute apart, oldest first."""
    made = []
    start = start or dt.datetime(2026, 11, 2, 9, tzinfo=UTC)
    for index in range(count):
        with time_machine.travel(start + dt.timedelta(minutes=index), tick=False):
            made.append(
                audit.record(
                    action,
                    kind=kind,
                    object_id=object_id,
                    label=f"Team {object_id}",
                    changes={"email": [f"old{index}@example.com", f"new{index}@example.com"]},
                    labels={"email": "Email"},
                    actor=actor,
                )
            )
    return made


# --- Append-only ---------------------------------------------------------------------------


def test_an_entry_cannot_be_changed_or_deleted_through_morgue(staff):
    [entry] = entries(1, actor=staff)

    entry.action = "deleted"
    with pytest.raises(AuditRefused):
        entry.save()
    with pytest.raises(AuditRefused):
        entry.delete()
    with pytest.raises(AuditRefused):
        AuditEntry.objects.filter(pk=entry.pk).update(action="deleted")
    with pytest.raises(AuditRefused):
        AuditEntry.objects.all().delete()
    assert AuditEntry.objects.get().action == "changed"


def test_the_admin_shows_entries_but_cannot_add_change_or_delete_them(staff):
    request = RequestFactory().get("/admin/")
    request.user = staff
    model_admin = admin.site._registry[AuditEntry]
    assert not model_admin.has_add_permission(request)
    assert not model_admin.has_change_permission(request)
    assert not model_admin.has_delete_permission(request)


def test_the_api_has_no_way_to_write(staff_api):
    [entry] = entries(1)
    assert staff_api.post("/api/v1/audit/", {"action": "x"}, format="json").status_code == 405
    assert staff_api.delete(f"/api/v1/audit/{entry.pk}/").status_code == 404
    assert AuditEntry.objects.count() == 1


def test_deleting_a_person_keeps_their_entries(staff):
    actor = UserFactory(username="leaver")
    entries(2, actor=actor)
    actor.delete()
    assert list(AuditEntry.objects.values_list("actor_label", flat=True)) == ["leaver", "leaver"]


# --- Who, from where ----------------------------------------------------------------------------


def test_a_request_behind_a_trusted_proxy_records_the_address_the_proxy_saw(rf, settings):
    settings.TRUSTED_PROXY_COUNT = 1
    request = rf.get("/", HTTP_X_FORWARDED_FOR="6.6.6.6, 198.51.100.20", REMOTE_ADDR="10.0.0.2")
    assert audit.client_ip(request) == "198.51.100.20"
    settings.TRUSTED_PROXY_COUNT = 0
    assert audit.client_ip(request) == "10.0.0.2"


def test_a_task_records_as_the_person_who_enqueued_it(staff):
    headers: dict = {}
    with audit.acting_as(staff, ip="192.0.2.50"):
        stamp_sent_at(headers=headers)

    class Task:
        request = type("Request", (), {"headers": headers})()

    task = Task()
    adopt_request_id(task=task)
    try:
        entry = audit.record("changed", kind="morgue.team", object_id="3")
    finally:
        forget_request_id(task=task)
    system = audit.record("changed", kind="morgue.team", object_id="3")
    assert (entry.actor_id, entry.actor_label, entry.ip) == (staff.pk, "sam-staff", "192.0.2.50")
    assert (system.actor_id, system.actor_label, system.ip) == (None, "", None)


# --- Reading: pages -------------------------------------------------------------------------------


def test_only_staff_read_the_audit_pages_and_api(client, person, api):
    client.force_login(person)
    assert client.get("/audit/").status_code == 403
    assert client.get("/audit/export.csv").status_code == 403
    assert client.get("/audit/morgue.team/1/").status_code == 403
    assert api.get("/api/v1/audit/").status_code == 403


def test_the_site_wide_trail_filters_and_pages_with_bounded_queries(
    client, staff, django_assert_max_num_queries
):
    other = UserFactory(username="other")
    entries(60, actor=staff)
    entries(3, kind="incidents.incident", object_id="9", actor=other)
    client.force_login(staff)  # recorded too: one more entry, today

    with django_assert_max_num_queries(8):
        first = client.get("/audit/", {"action": "changed"})
    assert first.status_code == 200
    assert len(first.context["entries"]) == 50
    assert first.context["entries"][0].kind == "morgue.team"  # newest first
    with django_assert_max_num_queries(8):
        second = client.get(first.context["older"])
    assert "action=changed" in first.context["older"]
    assert len(second.context["entries"]) == 13 and second.context["older"] is None
    seen = {entry.pk for entry in first.context["entries"]} | {
        entry.pk for entry in second.context["entries"]
    }
    assert len(seen) == 63

    by_actor = client.get("/audit/", {"actor": "other"})
    assert [entry.actor_label for entry in by_actor.context["entries"]] == ["other"] * 3
    by_kind = client.get("/audit/", {"kind": "incidents.incident", "object_id": "9", "action": "changed"})
    assert len(by_kind.context["entries"]) == 3
    by_days = client.get("/audit/", {"since": "2026-11-02", "until": "2026-11-02"})
    assert len(by_days.context["entries"]) == 50
    assert client.get("/audit/", {"since": "2026-11-03", "action": "changed"}).context["entries"] == []
    assert client.get("/audit/", {"until": "2026-11-01"}).context["entries"] == []
    refused = client.get("/audit/", {"since": "2026-11-03", "until": "2026-11-01"})
    assert refused.status_code == 400 and b"must not come before" in refused.content


def test_an_objects_history_lists_only_its_entries_even_once_deleted(
    client, staff, django_assert_max_num_queries
):
    incident = IncidentFactory(title="Cache stampede")
    audit.record("deleted", incident, actor=staff)
    incident_id = incident.pk
    incident.delete()  # gone for good, its trail stays
    entries(5, kind="incidents.incident", object_id="999")
    client.force_login(staff)

    with django_assert_max_num_queries(8):
        response = client.get(f"/audit/incidents.incident/{incident_id}/")

    assert response.status_code == 200
    assert [entry.action for entry in response.context["entries"]] == ["deleted"]
    assert b"History: Cache stampede" in response.content


def test_staff_see_a_history_link_on_an_incident_others_do_not(client, staff, person):
    incident = IncidentFactory()
    client.force_login(staff)
    assert (
        f"/audit/incidents.incident/{incident.pk}/".encode()
        in client.get(f"/incidents/{incident.pk}/").content
    )
    client.force_login(person)
    assert b"/audit/" not in client.get(f"/incidents/{incident.pk}/").content


def test_the_csv_streams_the_filtered_trail(client, staff):
    entries(3, actor=staff)
    entries(2, kind="incidents.incident", object_id="4")
    client.force_login(staff)

    response = client.get("/audit/export.csv", {"kind": "morgue.team"})

    assert response.streaming and response["Content-Type"].startswith("text/csv")
    rows = list(csv.reader(io.StringIO(b"".join(response.streaming_content).decode())))
    assert rows[0][:3] == ["When (UTC)", "Who", "Address"]
    assert len(rows) == 4
    assert {row[1] for row in rows[1:]} == {"sam-staff"}
    assert '"email": ["old2@example.com", "new2@example.com"]' in rows[1][8]


# --- Reading: the API ----------------------------------------------------------------------------


def test_the_api_lists_filters_and_pages_by_cursor(staff_api, staff, django_assert_max_num_queries):
    entries(7, actor=staff)
    entries(2, kind="incidents.incident", object_id="4", start=dt.datetime(2026, 11, 3, tzinfo=UTC))

    with django_assert_max_num_queries(6):
        first = staff_api.get("/api/v1/audit/", {"page_size": 5})
    body = first.json()
    assert first.status_code == 200 and len(body["results"]) == 5
    newest = body["results"][0]
    assert newest["kind"] == "incidents.incident" and newest["actor"] == "" and newest["actor_id"] is None
    second = staff_api.get(body["next"]).json()
    assert len(second["results"]) == 4 and second["next"] is None

    filtered = staff_api.get("/api/v1/audit/", {"actor": "sam-staff", "kind": "morgue.team"}).json()
    assert len(filtered["results"]) == 7
    assert filtered["results"][0]["changes"] == {"email": ["old6@example.com", "new6@example.com"]}
    assert filtered["results"][0]["labels"] == {"email": "Email"}
    assert len(staff_api.get("/api/v1/audit/", {"actor": "system"}).json()["results"]) == 2
    assert staff_api.get("/api/v1/audit/", {"action": "nonsense"}).status_code == 400


def test_a_page_post_is_recorded_with_the_request_id(client, staff):
    team = TeamFactory(slug="web", name="Web")
    client.force_login(staff)
    response = client.post(
        "/alerts/paging/web/",
        {"form": "policy", "rules": "page: severity=critical", "grouping_window_minutes": 5},
        HTTP_X_REQUEST_ID="req-123",
    )
    assert response.status_code == 302
    entry = AuditEntry.objects.get(kind="alerts_review.pagingpolicy")
    assert entry.request_id == "req-123" and entry.ip == "127.0.0.1" and team.name in entry.object_label


def test_a_task_applied_inside_a_request_keeps_the_requests_person(staff):
    class Task:
        request = type("Request", (), {"headers": {}})()

    with audit.acting_as(staff, ip="192.0.2.60"):
        task = Task()
        adopt_request_id(task=task)
        inside = audit.record("changed", kind="morgue.team", object_id="5")
        forget_request_id(task=task)
        after = audit.record("changed", kind="morgue.team", object_id="5")
    assert inside.actor_label == after.actor_label == "sam-staff"


def test_an_api_change_made_with_a_token_is_recorded_as_its_owner(api, person):
    response = api.patch("/api/v1/me/", {"time_zone": "Asia/Tokyo"}, format="json", REMOTE_ADDR="192.0.2.70")

    assert response.status_code == 200
    entry = AuditEntry.objects.get(kind="morgue.profile")
    assert (entry.actor_id, entry.ip) == (person.pk, "192.0.2.70")
    assert entry.changes["time_zone"] == ["UTC", "Asia/Tokyo"]


def test_postgresql_refuses_to_rewrite_the_trail_even_in_raw_sql(staff):
    from django.db import DatabaseError, connection, transaction

    if connection.vendor != "postgresql":
        pytest.skip("The append-only trigger exists on PostgreSQL only.")
    [entry] = entries(1, actor=staff)
    for statement in ("UPDATE morgue_auditentry SET action = 'x'", "DELETE FROM morgue_auditentry"):
        with (
            pytest.raises(DatabaseError, match="append-only"),
            transaction.atomic(),
            connection.cursor() as cursor,
        ):
            cursor.execute(statement)
    assert AuditEntry.objects.get().action == entry.action
