import datetime as dt

import pytest
from django.db import connection

from incidents.models import Incident, Revision, TimelineEvent
from tests.factories import IncidentFactory, TeamFactory, UserFactory, member_of

pytestmark = pytest.mark.django_db

URL = "/api/v1/incidents/"
NEW = {
    "title": "Checkout returns 500s",
    "impact_started_at": "2026-03-01T14:00:00+01:00",
    "detected_at": "2026-03-01T13:07:00Z",
}


def test_creating_an_incident_answers_201_with_id_version_durations_and_url(api, person):
    team = TeamFactory(slug="payments")
    member_of(team, "responder", user=person)
    UserFactory(username="fran")
    response = api.post(
        URL,
        {
            **NEW,
            "severity": 2,
            "status": "resolved",
            "tags": ["checkout", "database"],
            "team": "payments",
            "facilitator": "fran",
            "resolved_at": "2026-03-01T15:30:00+01:00",
            "tldr": "Checkout failed for **40 minutes**.",
        },
        format="json",
    )
    assert response.status_code == 201, response.json()
    body = response.json()
    assert body["id"] and body["version"] == 1
    assert body["url"].endswith(f"/incidents/{body['id']}/")
    assert body["time_to_detect_seconds"] == 7 * 60
    assert body["time_to_resolve_seconds"] == 83 * 60
    assert body["impact_seconds"] == 90 * 60
    assert body["tags"] == ["checkout", "database"]
    assert body["team"] == "payments" and body["facilitator"] == "fran"
    incident = Incident.objects.get(pk=body["id"])
    assert incident.team == team
    # Any offset is accepted and stored as the same instant.
    assert incident.impact_started_at == dt.datetime(2026, 3, 1, 13, 0, tzinfo=dt.UTC)
    assert Revision.objects.filter(incident=incident, number=1).exists()


def test_only_the_title_is_required_the_times_default_to_now(api):
    # Declaring in seconds: impact start and detection default to now (tests/incidents/test_running_api.py).
    response = api.post(URL, {}, format="json")
    assert response.status_code == 400
    assert set(response.json()["errors"]) == {"title"}


@pytest.mark.parametrize(
    ("change", "field", "words"),
    [
        ({"severity": 9}, "severity", "1 (the worst) to 5"),
        ({"severity": "bad"}, "severity", "1 (the worst) to 5"),
        ({"detected_at": "yesterday at noon"}, "detected_at", "ISO 8601"),
        ({"tags": ["Has Spaces"]}, "tags", "lowercase letters"),
        ({"tldr": "x" * 100_001}, "tldr", "100000"),
        ({"status": "exploded"}, "status", "not a valid choice"),
        ({"facilitator": "nobody-here"}, "facilitator", "does not exist"),
    ],
)
def test_bad_input_is_a_400_with_a_sentence_naming_the_field(api, change, field, words):
    response = api.post(URL, {**NEW, **change}, format="json")
    assert response.status_code == 400
    body = response.json()
    assert field in body["errors"]
    assert words in " ".join(body["errors"][field])
    assert field in body["detail"]
    assert not Incident.objects.exists()


def test_out_of_order_times_are_refused_naming_both_fields(api):
    response = api.post(
        URL,
        {**NEW, "detected_at": "2026-03-01T12:00:00Z", "resolved_at": "2026-03-01T11:00:00Z"},
        format="json",
    )
    assert response.status_code == 400
    errors = response.json()["errors"]
    assert "impact_started_at" in errors["detected_at"][0] and "detected_at" in errors["detected_at"][0]
    assert "detected_at" in errors["resolved_at"][0]
    assert not Incident.objects.exists()


def test_an_oversized_body_is_refused_with_the_documented_limit(api, settings):
    settings.DATA_UPLOAD_MAX_MEMORY_SIZE = 1000
    response = api.post(URL, {**NEW, "what_happened": "x" * 5000}, format="json")
    assert response.status_code == 413
    assert "limit" in response.json()["detail"]


def test_patch_needs_the_version_it_was_based_on(api):
    incident = IncidentFactory()
    response = api.patch(f"{URL}{incident.pk}/", {"tldr": "New text"}, format="json")
    assert response.status_code == 400
    assert "version" in response.json()["errors"]


def test_patch_with_the_current_version_saves_and_bumps_it(api):
    incident = IncidentFactory(version=1)
    response = api.patch(f"{URL}{incident.pk}/", {"version": 1, "tldr": "Short version"}, format="json")
    assert response.status_code == 200
    assert response.json()["version"] == 2
    assert response.json()["tldr"] == "Short version"
    revision = Revision.objects.get(incident=incident, number=2)
    assert revision.changed_fields == ["tldr"]


def test_a_stale_version_is_refused_with_409_and_the_current_version(api):
    incident = IncidentFactory()
    assert (
        api.patch(f"{URL}{incident.pk}/", {"version": 1, "tldr": "First"}, format="json").status_code == 200
    )
    response = api.patch(f"{URL}{incident.pk}/", {"version": 1, "tldr": "Second"}, format="json")
    assert response.status_code == 409
    assert response.json()["version"] == 2
    incident.refresh_from_db()
    assert incident.tldr == "First"


def test_patch_checks_order_against_the_saved_times(api):
    incident = IncidentFactory()
    too_early = (incident.detected_at - dt.timedelta(hours=3)).isoformat()
    response = api.patch(f"{URL}{incident.pk}/", {"version": 1, "resolved_at": too_early}, format="json")
    assert response.status_code == 400
    assert "resolved_at" in response.json()["errors"]


def test_a_missing_incident_is_404(api):
    assert api.get(f"{URL}999999/").status_code == 404
    assert api.patch(f"{URL}999999/", {"version": 1}, format="json").status_code == 404


def test_deleting_needs_staff(api):
    incident = IncidentFactory()
    response = api.delete(f"{URL}{incident.pk}/")
    assert response.status_code == 403
    assert "staff" in response.json()["detail"]
    incident.refresh_from_db()
    assert incident.deleted_at is None


def test_staff_soft_delete_hides_the_incident_and_restore_brings_it_back(staff_api, api):
    incident = IncidentFactory()
    assert staff_api.delete(f"{URL}{incident.pk}/").status_code == 204
    assert api.get(f"{URL}{incident.pk}/").status_code == 404
    assert api.get(URL).json()["count"] == 0
    assert api.post(f"{URL}{incident.pk}/restore/").status_code == 403
    assert staff_api.post(f"{URL}{incident.pk}/restore/").status_code == 200
    assert api.get(URL).json()["count"] == 1


def test_timeline_events_are_listed_and_added(api, person):
    incident = IncidentFactory()
    response = api.post(
        f"{URL}{incident.pk}/timeline/",
        {"occurred_at": "2026-03-01T14:05:00-05:00", "kind": "action", "text": "Rolled back", "link": ""},
        format="json",
    )
    assert response.status_code == 201, response.json()
    event = TimelineEvent.objects.get()
    assert event.author == person and event.occurred_at == dt.datetime(2026, 3, 1, 19, 5, tzinfo=dt.UTC)
    listed = api.get(f"{URL}{incident.pk}/timeline/").json()
    assert [item["text"] for item in listed] == ["Rolled back"]
    bad = api.post(
        f"{URL}{incident.pk}/timeline/", {"occurred_at": "soon", "kind": "dance", "text": ""}, format="json"
    )
    assert bad.status_code == 400
    assert set(bad.json()["errors"]) == {"occurred_at", "kind", "text"}


def test_list_filters_by_status_severity_tag_team_and_start(api):
    team = TeamFactory(slug="dev")
    old = IncidentFactory(
        title="Old", severity=1, impact_started_at=dt.datetime(2025, 1, 1, tzinfo=dt.UTC),
        detected_at=dt.datetime(2025, 1, 1, 0, 5, tzinfo=dt.UTC), tags=["dns"], team=team,
    )  # fmt: skip
    IncidentFactory(title="New", severity=4, status="resolved")
    assert [row["title"] for row in api.get(URL, {"severity": 1}).json()["results"]] == ["Old"]
    assert [row["title"] for row in api.get(URL, {"status": "resolved"}).json()["results"]] == ["New"]
    assert [row["title"] for row in api.get(URL, {"tag": "dns"}).json()["results"]] == ["Old"]
    assert [row["title"] for row in api.get(URL, {"team": "dev"}).json()["results"]] == ["Old"]
    assert [
        row["id"] for row in api.get(URL, {"started_before": "2025-06-01T00:00:00Z"}).json()["results"]
    ] == [old.pk]
    assert [
        row["title"] for row in api.get(URL, {"started_after": "2025-06-01T00:00:00Z"}).json()["results"]
    ] == ["New"]
    assert api.get(URL, {"severity": 7}).status_code == 400


def test_search_finds_words_in_title_and_postmortem(api):
    from incidents.services.incident import create_incident

    now = dt.datetime(2026, 1, 1, tzinfo=dt.UTC)
    create_incident(by=None, title="Payment gateway timeouts", impact_started_at=now, detected_at=now)
    create_incident(
        by=None,
        title="Slow pages",
        impact_started_at=now,
        detected_at=now,
        what_happened="The payment queue backed up.",
    )
    create_incident(by=None, title="DNS outage", impact_started_at=now, detected_at=now)
    titles = [row["title"] for row in api.get(URL, {"search": "payment"}).json()["results"]]
    # The title match ranks first on PostgreSQL; both are found everywhere.
    assert set(titles) == {"Payment gateway timeouts", "Slow pages"}
    if connection.vendor == "postgresql":
        assert titles[0] == "Payment gateway timeouts"


def test_the_api_list_runs_no_more_queries_for_a_larger_page(api, django_assert_max_num_queries, queries_for):
    team = TeamFactory()
    for number in range(12):
        IncidentFactory(team=team, facilitator=UserFactory(), tags=[f"tag-{number}", "shared"])
    small = queries_for(api, f"{URL}?page_size=2")
    with django_assert_max_num_queries(small):
        assert len(api.get(f"{URL}?page_size=12").json()["results"]) == 12
    with django_assert_max_num_queries(6):
        api.get(f"{URL}?page_size=50&search=incident")


def test_the_check_endpoint_renders_and_flags_without_refusing(api):
    UserFactory(username="dana", first_name="Dana")
    response = api.post(
        f"{URL}check/",
        {"text": "Dana broke the build. <script>alert(1)</script> It was human error."},
        format="json",
    )
    assert response.status_code == 200
    body = response.json()
    assert "<script" not in body["html"]
    assert {finding["phrase"] for finding in body["findings"]} == {"person as the cause", "human error"}
