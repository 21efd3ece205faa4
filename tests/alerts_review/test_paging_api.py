"""The paging API: a team's policy, maintenance windows, pages with their alerts, resolving a page."""

import datetime as dt

import pytest

from alerts_review import paging
from alerts_review.models import MaintenanceWindow, PagingPolicy
from oncall import services as oncall_services
from oncall.models import PageStatus
from tests.factories import AlertFactory, TeamFactory, member_of

pytestmark = pytest.mark.django_db


@pytest.fixture
def ops(person):
    team = TeamFactory(slug="ops", name="Ops")
    member_of(team, "manager", user=person)  # a team manager sets its paging policy and maintenance
    return team


def test_a_team_nobody_configured_pages_critical_and_records_the_rest(api, ops):
    body = api.get("/api/v1/teams/ops/paging-policy/").json()
    assert body["rules"] == [
        {"match": ["severity=critical"], "action": "page"},
        {"match": ["state=critical"], "action": "page"},
    ]
    assert body["default_action"] == "record" and body["grouping_window_minutes"] == 5


def test_a_member_replaces_the_policy_and_reads_it_back(api, ops):
    rules = [{"match": ["env=staging"], "action": "record"}, {"match": ['service=~"db.*"'], "action": "page"}]
    response = api.put(
        "/api/v1/teams/ops/paging-policy/", {"rules": rules, "grouping_window_minutes": 10}, format="json"
    )
    assert response.status_code == 200, response.json()
    policy = PagingPolicy.objects.get(team=ops)
    assert policy.rules[1] == {"match": ["service=~db.*"], "action": "page"}
    assert policy.grouping_window_minutes == 10
    assert api.get("/api/v1/teams/ops/paging-policy/").json()["rules"] == policy.rules


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"rules": [{"match": ["env~staging"], "action": "page"}]}, "match"),
        ({"rules": [{"match": ["service=~(db"], "action": "page"}]}, "match"),
        ({"rules": [{"match": [], "action": "wake"}]}, "action"),
        ({"rules": [{"match": [], "action": "page", "when": "night"}]}, "when"),
        ({"rules": [], "grouping": 5}, "grouping"),
        ({"rules": [], "grouping_window_minutes": -1}, "grouping_window_minutes"),
    ],
)
def test_a_policy_that_does_not_parse_is_a_400_naming_the_field_and_saves_nothing(api, ops, body, field):
    response = api.put("/api/v1/teams/ops/paging-policy/", body, format="json")
    assert response.status_code == 400, response.json()
    assert field in response.json()["detail"]
    assert not PagingPolicy.objects.exists()


def test_only_members_and_staff_change_a_policy(api, staff_api):
    TeamFactory(slug="payments")
    body = {"rules": []}
    assert api.put("/api/v1/teams/payments/paging-policy/", body, format="json").status_code == 403
    assert staff_api.put("/api/v1/teams/payments/paging-policy/", body, format="json").status_code == 200
    assert api.get("/api/v1/teams/nobody/paging-policy/").status_code == 404


def test_maintenance_windows_are_planned_listed_and_ended(api, ops):
    body = {
        "team": "ops",
        "check_pattern": "Disk*",
        "starts_at": "2026-10-01T10:00:00Z",
        "ends_at": "2099-10-01T12:00:00Z",
        "reason": "Disk replacement",
    }
    response = api.post("/api/v1/maintenance-windows/", body, format="json")
    assert response.status_code == 201, response.json()
    window = MaintenanceWindow.objects.get()
    assert window.created_by is not None
    assert [row["reason"] for row in api.get("/api/v1/maintenance-windows/?team=ops").json()["results"]] == [
        "Disk replacement"
    ]
    ended = api.post(f"/api/v1/maintenance-windows/{window.pk}/end/").json()
    assert dt.datetime.fromisoformat(ended["ends_at"]).year < 2099


@pytest.mark.parametrize(
    ("change", "field"),
    [
        ({"ends_at": "2026-10-01T09:00:00Z"}, "ends_at"),
        ({"team": "nobody"}, "team"),
        ({"reason": " "}, "reason"),
        ({"why": "x"}, "why"),
    ],
)
def test_a_bad_maintenance_window_is_a_400_naming_the_field(api, ops, change, field):
    body = {
        "team": "ops",
        "starts_at": "2026-10-01T10:00:00Z",
        "ends_at": "2026-10-01T12:00:00Z",
        "reason": "Disk replacement",
        **change,
    }
    response = api.post("/api/v1/maintenance-windows/", body, format="json")
    assert response.status_code == 400, response.json()
    assert field in response.json()["errors"]
    assert not MaintenanceWindow.objects.exists()


def test_page_detail_includes_its_alerts_and_a_page_can_be_resolved(api, ops, django_assert_max_num_queries):
    page = oncall_services.page_team(team=ops, message="DiskSpaceLow on db12")
    AlertFactory(team=ops, page=page, check_name="DiskSpaceLow", paging="paged")
    AlertFactory(team=ops, page=page, check_name="DiskSpaceLow", paging="paged")
    body = api.get(f"/api/v1/pages/{page.pk}/").json()
    assert [alert["check"] for alert in body["alerts"]] == ["DiskSpaceLow", "DiskSpaceLow"]
    assert {(alert["paging"], alert["page"]) for alert in body["alerts"]} == {("paged", page.pk)}
    with django_assert_max_num_queries(12):
        assert len(api.get("/api/v1/pages/").json()["results"]) == 1

    response = api.post(f"/api/v1/pages/{page.pk}/resolve/")
    assert response.status_code == 200
    assert response.json()["status"] == PageStatus.RESOLVED and response.json()["resolved_at"]
    assert len(response.json()["alerts"]) == 2
    # Resolving again changes nothing.
    assert (
        api.post(f"/api/v1/pages/{page.pk}/resolve/").json()["resolved_at"] == response.json()["resolved_at"]
    )


def test_the_admin_edits_through_the_same_rules(ops):
    with pytest.raises(paging.paging_rules.RuleError):
        paging.update_policy(team=ops, rules=[{"match": ["x"], "action": "page"}])
