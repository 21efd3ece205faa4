"""A recommendation acted on in the monthly review becomes a remediation item tracked to done."""

import csv
import datetime as dt
import io

import pytest
import time_machine
from django.core import mail

from alerts_review import services
from alerts_review.models import AlertReview, ReviewAction
from incidents.models import RemediationItem, RemediationStatus
from incidents.services.remediation import send_digest
from morgue.exceptions import Conflict
from tests.factories import (
    IncidentFactory,
    ProfileFactory,
    RemediationItemFactory,
    TeamFactory,
    UserFactory,
    member_of,
)

pytestmark = pytest.mark.django_db

NOW = dt.datetime(2026, 11, 3, 10, tzinfo=dt.UTC)
OCTOBER = dt.date(2026, 10, 1)
SUMMARY = "Disk: raise the threshold set too low"


@pytest.fixture(autouse=True)
def frozen():
    with time_machine.travel(NOW, tick=False):
        yield


@pytest.fixture
def ops(person):
    """Ops, whose month `person` reviews as one of its responders."""
    team = TeamFactory(slug="ops", name="Ops")
    member_of(team, "responder", user=person)
    return team


@pytest.fixture
def nina():
    return ProfileFactory(user=UserFactory(username="nina", email="nina@example.com"), time_zone="UTC").user


def act(team, by, *, check="Disk", reason="threshold", track="ops", owner=None) -> ReviewAction:
    return services.act_on_recommendation(
        team=team, month=OCTOBER, check=check, reason=reason, summary=SUMMARY, track=track, by=by, owner=owner
    )


@pytest.fixture
def decided(ops, person) -> RemediationItem:
    """Ops decided to fix the Disk threshold in October's review."""
    return act(ops, person).remediation


@pytest.fixture
def both(decided, person) -> list[RemediationItem]:
    """An item from the review and one from an incident, both owned by the signed-in person."""
    incident = IncidentFactory(title="Checkout outage")
    return [decided, RemediationItemFactory(incident=incident, owner=person, title="Add a queue alert")]


def test_acting_on_a_recommendation_makes_one_item_and_one_action(ops, person):
    action = act(ops, person)

    item = RemediationItem.objects.get()
    assert ReviewAction.objects.get() == action and action.remediation == item
    assert action.review == AlertReview.objects.get(team=ops, month=OCTOBER)
    assert (item.incident, item.kind, item.category, item.owner, item.team, item.created_by) == (
        None,
        "ops",
        "prevent",
        person,
        ops,
        person,
    )
    assert item.title == SUMMARY and item.status == RemediationStatus.OPEN
    assert "`Disk`" in item.description and "threshold" in item.description
    assert "October 2026" in item.description
    assert item.due_date == dt.date(2026, 11, 3) + dt.timedelta(weeks=8)


def test_acting_twice_on_the_same_check_and_reason_is_refused(ops, person):
    act(ops, person)

    with pytest.raises(Conflict, match="already acts on Disk"):
        act(ops, person, track="dev")

    assert RemediationItem.objects.count() == ReviewAction.objects.count() == 1


def test_a_recommendation_about_when_it_pages_is_a_process_item(ops, person, nina):
    timing = act(ops, person, check="Load", reason="timeperiod", track="dev", owner=nina).remediation
    nights = act(ops, person, check="Load", reason="out_of_hours").remediation
    useless = act(ops, person, check="Ping", reason="never_actionable").remediation

    assert (timing.category, timing.kind, timing.owner) == ("process", "dev", nina)
    assert nights.category == "process"
    assert useless.category == "prevent"


def test_the_due_date_follows_the_non_severe_setting(ops, person, settings):
    settings.MORGUE_REMEDIATION_DUE_WEEKS = {1: 1, 2: 1, 3: 6, 4: 6, 5: 6}

    item = act(ops, person).remediation

    assert item.due_date == dt.date(2026, 11, 3) + dt.timedelta(weeks=6)


def test_items_without_an_incident_stay_visible_and_deleted_incidents_hide_theirs(decided):
    gone = RemediationItemFactory(incident=IncidentFactory(deleted_at=NOW))
    kept = RemediationItemFactory()

    visible = set(RemediationItem.objects.visible())

    assert decided in visible and kept in visible and gone not in visible


def test_the_item_links_to_the_report_it_came_from(decided):
    assert decided.get_absolute_url() == "/alerts/reports/2026-10/?team=ops#review"
    assert decided.origin_title == "Ops alerts review, October 2026"


def test_items_decided_before_they_recorded_their_origin_are_given_it_by_the_migration(decided):
    from importlib import import_module

    from django.apps import apps

    RemediationItem.objects.update(origin_title="No incident", origin_url="/remediations/")

    import_module("alerts_review.migrations.0008_remediation_origins").fill_origins(apps, None)

    decided.refresh_from_db()
    assert decided.get_absolute_url() == "/alerts/reports/2026-10/?team=ops#review"
    assert decided.origin_title == "Ops alerts review, October 2026"


def test_the_report_form_can_name_another_owner(browser_client, ops, nina):
    response = browser_client.post(
        "/alerts/reports/2026-10/act/?team=ops",
        {"check": "Disk", "reason": "threshold", "summary": SUMMARY, "track": "dev", "owner": "nina"},
    )

    assert response.status_code == 302
    item = RemediationItem.objects.get()
    assert (item.owner, item.kind) == (nina, "dev")
    page = browser_client.get(response.url).content.decode()
    assert "a remediation item for nina, due 29 Dec 2026" in page


def test_the_report_offers_an_owner_beside_the_buttons(browser_client, ops, person):
    from tests.factories import AlertFactory, category

    ops.members.add(person)
    for day in (1, 2, 3):
        AlertFactory(team=ops, check_name="Disk", fired_at=dt.datetime(2026, 10, day, tzinfo=dt.UTC),
                     category=category("threshold"))  # fmt: skip

    page = browser_client.get("/alerts/reports/2026-10/?team=ops").content.decode()

    assert 'name="owner"' in page and '<option value="pat">' in page


def test_an_unknown_owner_is_refused_and_nothing_is_saved(browser_client, ops):
    response = browser_client.post(
        "/alerts/reports/2026-10/act/?team=ops",
        {"check": "Disk", "reason": "threshold", "summary": SUMMARY, "track": "dev", "owner": "nobody"},
    )

    # Shown again on the report with its sentence; the page's other forms go back to the report.
    assert response.status_code == 400
    assert "Nobody active has the username" in response.content.decode()
    assert response.context["back_url"] == "/alerts/reports/2026-10/?team=ops"
    assert not RemediationItem.objects.exists() and not ReviewAction.objects.exists()


def test_the_reports_decided_list_links_to_the_item_and_shows_its_status(browser_client, decided):
    decided.set_status(RemediationStatus.IN_PROGRESS, at=NOW)
    decided.save()

    page = browser_client.get("/alerts/reports/2026-10/?team=ops").content.decode()

    assert f"#remediation-{decided.pk}" in page and "In progress" in page and SUMMARY in page


def test_a_decided_item_is_edited_on_the_report_and_the_page_comes_back(browser_client, decided, nina):
    report = "/alerts/reports/2026-10/?team=ops"
    page = browser_client.get(report).content.decode()
    assert f'action="/remediations/{decided.pk}/edit/"' in page
    assert f'action="/remediations/{decided.pk}/status/"' in page
    assert '<option value="nina">' in page  # owners to choose from

    fields = {
        "title": "Raise the Disk threshold to 90%",
        "description": "",
        "kind": "ops",
        "category": "prevent",
        "owner": "nina",
        "team": "ops",
        "priority": "high",
        "ticket_url": "https://tracker.example.com/browse/OPS-77",
        "due_date": "2026-12-15",
        "next": report,
    }
    response = browser_client.post(f"/remediations/{decided.pk}/edit/", fields)

    assert response.status_code == 302 and response.url == report
    decided.refresh_from_db()
    assert decided.title == "Raise the Disk threshold to 90%"
    assert (decided.owner, decided.priority) == (nina, "high")
    assert decided.due_date == dt.date(2026, 12, 15)
    page = browser_client.get(report).content.decode()
    assert 'value="Raise the Disk threshold to 90%"' in page and "due 15 Dec 2026" in page


def test_a_refused_edit_on_the_report_says_why_and_changes_nothing(browser_client, decided):
    report = "/alerts/reports/2026-10/?team=ops"
    response = browser_client.post(
        f"/remediations/{decided.pk}/edit/",
        {"title": "Renamed", "kind": "ops", "category": "prevent", "owner": "nobody-here", "next": report},
        follow=True,
    )

    assert response.redirect_chain[-1][0] == report
    assert "nobody-here" in response.content.decode()
    decided.refresh_from_db()
    assert decided.title != "Renamed"


def test_the_board_shows_items_with_and_without_an_incident(
    browser_client, both, django_assert_max_num_queries
):
    with django_assert_max_num_queries(20):
        response = browser_client.get("/remediations/")

    html = response.content.decode()
    assert response.status_code == 200
    assert SUMMARY in html and "Ops alerts review, October 2026" in html
    assert 'href="/alerts/reports/2026-10/?team=ops#review"' in html
    assert "Add a queue alert" in html and "Checkout outage" in html


def test_the_board_marks_a_review_item_done_and_goes_back(browser_client, decided):
    response = browser_client.post(
        f"/remediations/{decided.pk}/status/", {"status": "done", "next": "/remediations/"}
    )

    assert response.status_code == 302 and response.url == "/remediations/"
    decided.refresh_from_db()
    assert decided.status == RemediationStatus.DONE and decided.completed_at == NOW


def test_wont_do_without_a_reason_on_a_review_item_is_explained_not_a_crash(browser_client, decided):
    response = browser_client.post(f"/remediations/{decided.pk}/status/", {"status": "wont-do"}, follow=True)

    assert response.status_code == 200
    assert "reason is required" in response.content.decode()
    decided.refresh_from_db()
    assert decided.status == RemediationStatus.OPEN


def test_the_profile_lists_open_items_from_both_origins(browser_client, both):
    response = browser_client.get("/profile/")

    html = response.content.decode()
    assert response.status_code == 200
    assert SUMMARY in html and "Ops alerts review, October 2026" in html and "Checkout outage" in html


def test_the_csv_export_has_both_kinds_of_item(browser_client, both):
    response = browser_client.get("/remediations/export.csv")

    rows = list(csv.DictReader(io.StringIO(b"".join(response.streaming_content).decode())))
    assert response.status_code == 200
    by_title = {row["title"]: row for row in rows}
    assert by_title[SUMMARY]["incident_id"] == "" and by_title[SUMMARY]["severity"] == ""
    assert by_title[SUMMARY]["from"] == "Ops alerts review, October 2026"
    assert by_title["Add a queue alert"]["incident"] == "Checkout outage"


def test_the_digest_links_each_item_to_where_it_came_from(nina, ops, person):
    from_review = act(ops, person, owner=nina).remediation
    from_review.due_date = dt.date(2026, 11, 1)
    from_review.save()
    incident = IncidentFactory(title="Checkout outage")
    RemediationItemFactory(incident=incident, owner=nina, title="Queue alert", due_date=dt.date(2026, 11, 4))

    assert send_digest(owner=nina) is not None

    (message,) = mail.outbox
    assert "Ops alerts review, October 2026" in message.body
    assert "/alerts/reports/2026-10/?team=ops#review" in message.body
    assert f"/remediations/incident/{incident.pk}/#remediation-" in message.body
    assert "Checkout outage" in message.alternatives[0].content


def test_the_api_lists_the_item_with_no_incident(api, decided):
    response = api.get("/api/v1/remediations/?kind=ops")

    assert response.status_code == 200
    (body,) = response.json()["results"] if "results" in response.json() else response.json()
    assert body["id"] == decided.pk and body["incident"] is None and body["incident_title"] is None
    assert body["origin"] == "Ops alerts review, October 2026" and body["team"] == "ops"


def test_the_api_moves_a_review_item_to_done(api, decided):
    response = api.patch(f"/api/v1/remediations/{decided.pk}/", {"status": "done"}, format="json")

    assert response.status_code == 200 and response.json()["status"] == "done"


def test_remediation_metrics_count_review_items(api, decided):
    response = api.get("/api/v1/metrics/remediations/?since=2026-11-01&until=2026-12-01")

    body = response.json()
    assert response.status_code == 200
    assert body["opened"] == 1 and body["by_kind"]["ops"]["opened"] == 1


def test_the_admin_lists_items_without_an_incident(client, staff, decided):
    staff.is_superuser = True
    staff.save()
    client.force_login(staff)

    response = client.get("/admin/incidents/remediationitem/")

    assert response.status_code == 200 and "Ops alerts review, October 2026" in response.content.decode()


def test_review_items_cost_the_board_no_query(browser_client, ops, person):
    """Items record where they came from, so the board never reads the reviews."""
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    RemediationItemFactory(owner=person)
    with CaptureQueriesContext(connection) as incidents_only:
        browser_client.get("/remediations/")
    for number in range(6):
        act(ops, person, check=f"Check {number}", track=["dev", "ops"][number % 2])
    with CaptureQueriesContext(connection) as with_review_items:
        html = browser_client.get("/remediations/").content.decode()

    assert len(with_review_items) == len(incidents_only)
    assert html.count("Ops alerts review, October 2026") == 6
    assert not any("reviewaction" in query["sql"] for query in with_review_items.captured_queries)
