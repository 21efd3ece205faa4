"""The team's paging page: the policy, maintenance windows (list, add, end) and heartbeats."""

import datetime as dt

import pytest
from django.utils import timezone

from alerts_review.models import Heartbeat, MaintenanceWindow, PagingPolicy
from oncall import services as oncall_services
from oncall.models import PageStatus
from tests.factories import AlertFactory, AlertSourceFactory, TeamFactory, UserFactory, member_of

pytestmark = pytest.mark.django_db


@pytest.fixture
def ops(person):
    team = TeamFactory(slug="ops", name="Ops")
    member_of(team, "manager", user=person)  # a team manager sets its paging policy and maintenance
    return team


def test_the_page_shows_the_default_policy_windows_and_heartbeats(browser_client, ops):
    Heartbeat.objects.create(alert_source=AlertSourceFactory(name="prometheus", team=ops))
    MaintenanceWindow.objects.create(
        team=ops,
        starts_at=timezone.now(),
        ends_at=timezone.now() + dt.timedelta(hours=1),
        reason="Kernel upgrade",
    )
    response = browser_client.get("/alerts/paging/ops/")
    body = response.content.decode()
    assert response.status_code == 200
    assert "page: severity=critical" in body
    assert "Kernel upgrade" in body and "End now" in body
    assert "Watchdog" in body and "prometheus" in body
    assert "ops" in browser_client.get("/alerts/paging/").content.decode()


def test_a_member_saves_a_policy_and_a_bad_line_is_shown_in_place(browser_client, ops):
    response = browser_client.post(
        "/alerts/paging/ops/",
        {
            "form": "policy",
            "rules": "record: env=staging\npage: severity=~critical|page",
            "grouping_window_minutes": 5,
        },
    )
    assert response.status_code == 302
    assert PagingPolicy.objects.get(team=ops).rules == [
        {"match": ["env=staging"], "action": "record"},
        {"match": ["severity=~critical|page"], "action": "page"},
    ]

    response = browser_client.post(
        "/alerts/paging/ops/", {"form": "policy", "rules": "page: env~x", "grouping_window_minutes": 5}
    )
    assert response.status_code == 200
    assert "is not a matcher" in response.content.decode()
    response = browser_client.post(
        "/alerts/paging/ops/", {"form": "policy", "rules": "wake: env=x", "grouping_window_minutes": 5}
    )
    assert "Line 1 starts with page: or record:" in response.content.decode()


def test_a_window_is_planned_refused_when_it_ends_first_and_ended(browser_client, ops):
    window = {"form": "window", "check_pattern": "Disk*", "reason": "Disk swap"}
    response = browser_client.post(
        "/alerts/paging/ops/", {**window, "starts_at": "2026-10-01T12:00", "ends_at": "2026-10-01T10:00"}
    )
    assert response.status_code == 200
    assert "A maintenance window ends after it starts." in response.content.decode()
    assert not MaintenanceWindow.objects.exists()

    response = browser_client.post(
        "/alerts/paging/ops/", {**window, "starts_at": "2026-10-01T10:00", "ends_at": "2099-10-01T12:00"}
    )
    assert response.status_code == 302
    planned = MaintenanceWindow.objects.get()
    browser_client.post("/alerts/paging/ops/", {"form": "end", "window": planned.pk})
    planned.refresh_from_db()
    assert planned.ends_at <= timezone.now()


def test_someone_outside_the_team_sees_the_policy_but_cannot_change_it(browser_client):
    TeamFactory(slug="payments", name="Payments")
    body = browser_client.get("/alerts/paging/payments/").content.decode()
    assert "Save the policy" not in body and "page: severity=critical" in body
    response = browser_client.post("/alerts/paging/payments/", {"form": "policy", "rules": ""})
    assert response.status_code == 403


def test_the_teams_pages_from_alerts_are_listed_with_their_alerts(
    browser_client, ops, django_assert_max_num_queries
):
    for number in range(3):
        page = oncall_services.page_team(team=ops, message=f"Disk {number}")
        AlertFactory.create_batch(2, team=ops, page=page, host=f"db{number}", paging="paged")
    with django_assert_max_num_queries(20):
        body = browser_client.get("/alerts/paging/ops/").content.decode()
    assert "Disk 2" in body and "DiskSpaceLow db2" in body


def test_a_page_is_resolved_from_its_page(browser_client, ops):
    page = oncall_services.page_team(team=ops, message="DiskSpaceLow on db12")
    response = browser_client.post(f"/oncall/pages/{page.pk}/", {"action": "resolve"})
    assert response.status_code == 302
    page.refresh_from_db()
    assert page.status == PageStatus.RESOLVED


def test_the_admin_refuses_a_rule_that_does_not_parse_and_saves_a_good_one(client):
    client.force_login(UserFactory(is_staff=True, is_superuser=True))
    team = TeamFactory(slug="db", name="DB")
    response = client.post(
        "/admin/alerts_review/pagingpolicy/add/",
        {"team": team.pk, "rules": '[{"match": ["env~x"], "action": "page"}]', "grouping_window_minutes": 5},
    )
    assert response.status_code == 200
    assert "is not a matcher" in response.content.decode()
    assert not PagingPolicy.objects.exists()
    response = client.post(
        "/admin/alerts_review/pagingpolicy/add/",
        {
            "team": team.pk,
            "rules": '[{"match": ["env=prod"], "action": "page"}]',
            "grouping_window_minutes": 5,
        },
    )
    assert response.status_code == 302
    assert PagingPolicy.objects.get().rules == [{"match": ["env=prod"], "action": "page"}]
    assert client.get("/admin/alerts_review/maintenancewindow/").status_code == 200
    assert client.get("/admin/alerts_review/heartbeat/").status_code == 200
