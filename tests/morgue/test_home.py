import datetime as dt

import pytest
import time_machine
from django.db import connection
from django.test.utils import CaptureQueriesContext

from incidents.models import Status
from incidents.services.running import assign_role, role_kind
from tests.factories import IncidentFactory, RemediationItemFactory, make_rotation

NOW = dt.datetime(2026, 6, 10, 12, tzinfo=dt.UTC)


@pytest.fixture
def frozen():
    with time_machine.travel(NOW, tick=False):
        yield


@pytest.mark.django_db
def test_home_page_answers_whats_going_on(browser_client, person, frozen):
    make_rotation(people=("pat", "ben"), slug="ops-primary", first_shift_date=dt.date(2026, 6, 8), now=NOW)
    IncidentFactory(title="Checkout is slow", severity=1, impact_started_at=NOW - dt.timedelta(hours=2))
    IncidentFactory(
        title="Search outage",
        status=Status.RESOLVED,
        facilitator=person,
        impact_started_at=NOW - dt.timedelta(days=3),
        resolved_at=NOW - dt.timedelta(days=2),
    )
    IncidentFactory(
        title="A year ago today", status=Status.CLOSED, impact_started_at=NOW - dt.timedelta(days=365)
    )
    RemediationItemFactory(title="Alert on queue depth", owner=person, due_date=dt.date(2026, 6, 1))

    response = browser_client.get("/")

    assert response.status_code == 200
    html = response.content.decode()
    assert "On call now" in html and "(you)" in html
    assert "You are on call now" in html
    assert "Checkout is slow" in html and "open for 2" in html
    assert "<strong>Yours:</strong> <a" in html and "Search outage" in html
    assert "Alert on queue depth" in html
    assert "Signal to noise" in html
    assert "2025: <a" in html and "A year ago today" in html


@pytest.mark.django_db
def test_home_page_runs_a_bounded_number_of_queries(
    browser_client, person, frozen, django_assert_max_num_queries
):
    for index in range(3):
        make_rotation(
            people=(f"a{index}", f"b{index}"),
            slug=f"team{index}-primary",
            first_shift_date=dt.date(2026, 6, 8),
            now=NOW,
        )
    for _ in range(3):
        IncidentFactory(severity=2)
        RemediationItemFactory(owner=person, due_date=dt.date(2026, 6, 1))
    browser_client.get("/")

    # 13, plus the roles the person holds ("you lead: …"), the declare form's teams
    # and "Your open pages" (one query, oncall.selectors.open_pages_for).
    with CaptureQueriesContext(connection) as few_queries, django_assert_max_num_queries(16):
        few = browser_client.get("/")
    for index in range(3, 8):
        make_rotation(
            people=(f"a{index}", f"b{index}"),
            slug=f"team{index}-primary",
            first_shift_date=dt.date(2026, 6, 8),
            now=NOW,
        )
    for _ in range(10):
        assign_role(incident=IncidentFactory(severity=2), role=role_kind("lead"), user=person, by=person)
        RemediationItemFactory(owner=person, due_date=dt.date(2026, 6, 1))
    with django_assert_max_num_queries(len(few_queries)):
        many = browser_client.get("/")

    assert few.status_code == many.status_code == 200


@pytest.mark.django_db
def test_incidents_awaiting_review_list_the_persons_own_first_then_others_oldest_first(
    browser_client, person, frozen
):
    def resolved(title, days_ago, **fields):
        return IncidentFactory(
            title=title,
            status=Status.RESOLVED,
            impact_started_at=NOW - dt.timedelta(days=days_ago + 1),
            resolved_at=NOW - dt.timedelta(days=days_ago),
            **fields,
        )

    for index in range(12):
        resolved(f"Someone else's {index}", days_ago=30 - index)
    resolved("Mine, recent", days_ago=1, facilitator=person)
    resolved("Mine, older", days_ago=5, facilitator=person)

    listed = browser_client.get("/").context["awaiting_review"]

    assert [incident.title for incident in listed] == [
        "Mine, older",
        "Mine, recent",
        *[f"Someone else's {index}" for index in range(8)],
    ]
    assert [incident.mine for incident in listed] == [0, 0, *[1] * 8]


@pytest.mark.django_db
def test_the_on_call_panel_is_bounded_with_the_persons_teams_first(browser_client, person, frozen):
    from morgue.models import Team
    from morgue.site.selectors import HOME_ON_CALL_ROWS

    for index in range(HOME_ON_CALL_ROWS + 3):
        make_rotation(
            people=(f"a{index:02d}", f"b{index:02d}"),
            slug=f"team{index:02d}-primary",
            first_shift_date=dt.date(2026, 6, 8),
            now=NOW,
        )
    last = Team.objects.order_by("-name").first()
    last.members.add(person)

    response = browser_client.get("/")
    html = response.content.decode()
    panel = html.split('id="oncall-heading"')[1].split("</section>")[0]

    assert panel.count("<tr") - 1 == HOME_ON_CALL_ROWS  # the header row and the bounded rows
    assert last.name in panel
    assert f"{response.context['on_call_more']} more on call" in panel
    assert response.context["on_call_more"] > 0
