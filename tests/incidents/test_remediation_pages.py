import csv
import datetime as dt
import io

import pytest
import time_machine

from incidents.models import RemediationItem, RemediationStatus
from tests.factories import (
    IncidentFactory,
    ProfileFactory,
    RemediationItemFactory,
    TeamFactory,
    UserFactory,
)

NOW = dt.datetime(2026, 3, 2, 10, 0, tzinfo=dt.UTC)
pytestmark = pytest.mark.usefixtures("frozen")


@pytest.fixture
def frozen():
    with time_machine.travel(NOW, tick=False):
        yield


@pytest.fixture
def dana(db):
    return ProfileFactory(user=UserFactory(username="dana"), display_name="Dana Reyes").user


def _many(count: int, owner):
    team = TeamFactory(slug="ops")
    for number in range(count):
        RemediationItemFactory(
            owner=owner,
            team=team,
            incident=IncidentFactory(severity=2),
            kind="dev" if number % 2 else "ops",
            due_date=dt.date(2026, 2, 1) + dt.timedelta(days=number),
            status=[RemediationStatus.OPEN, RemediationStatus.IN_PROGRESS][number % 2],
        )


def test_board_shows_columns_with_counts(browser_client, dana):
    _many(4, dana)
    RemediationItemFactory(
        owner=dana, incident=IncidentFactory(severity=2), status=RemediationStatus.DONE, completed_at=NOW
    )

    response = browser_client.get("/remediations/")

    html = response.content.decode()
    assert response.status_code == 200
    assert 'data-status="open"' in html
    assert [column.count for column in response.context["columns"]] == [2, 2, 1, 0]
    assert "Dana Reyes" in html
    assert html.count('<span class="badge sev-2">sev 2</span>') == 5  # each card's incident severity


@pytest.mark.parametrize("query", ["", "?overdue=on&kind=dev", "?mine=on", "?team=ops&category=detect"])
def test_board_query_count_does_not_grow_with_items(
    browser_client, dana, person, django_assert_max_num_queries, query
):
    _many(3, dana)
    _many(3, person)
    with django_assert_max_num_queries(20) as few:
        assert browser_client.get(f"/remediations/{query}").status_code == 200
    _many(60, dana)
    _many(60, person)
    with django_assert_max_num_queries(len(few.captured_queries)):
        response = browser_client.get(f"/remediations/{query}")
    assert response.status_code == 200
    assert sum(len(column.items) for column in response.context["columns"]) > 3
    assert response.content.decode().count('class="card board-item"') > 3


def test_board_filters_overdue_and_kind(browser_client, dana):
    late = RemediationItemFactory(owner=dana, kind="dev", due_date=dt.date(2026, 3, 1))
    RemediationItemFactory(owner=dana, kind="ops", due_date=dt.date(2026, 3, 1))
    RemediationItemFactory(owner=dana, kind="dev", due_date=dt.date(2026, 3, 2))  # due today: not overdue

    response = browser_client.get("/remediations/?overdue=on&kind=dev")

    shown = [card.item.pk for column in response.context["columns"] for card in column.items]
    assert shown == [late.pk]


def test_mine_shows_only_the_signed_in_persons_items(browser_client, dana, person):
    mine = RemediationItemFactory(owner=person)
    RemediationItemFactory(owner=dana)

    response = browser_client.get("/remediations/?mine=on")

    assert [card.item.pk for column in response.context["columns"] for card in column.items] == [mine.pk]


def test_board_sorts_by_due_date_both_ways(browser_client, dana):
    later = RemediationItemFactory(owner=dana, due_date=dt.date(2026, 5, 1))
    sooner = RemediationItemFactory(owner=dana, due_date=dt.date(2026, 4, 1))

    ascending = browser_client.get("/remediations/?status=open").context["columns"][0].items
    descending = browser_client.get("/remediations/?status=open&sort=-due").context["columns"][0].items

    assert [card.item.pk for card in ascending] == [sooner.pk, later.pk]
    assert [card.item.pk for card in descending] == [later.pk, sooner.pk]


def test_csv_export_follows_the_filters(browser_client, dana):
    RemediationItemFactory(
        owner=dana, kind="dev", title="Retry budget", ticket_url="https://t.example.com/DEV-42"
    )
    RemediationItemFactory(owner=dana, kind="ops", title="Runbook for failover")

    response = browser_client.get("/remediations/export.csv?kind=dev")

    rows = list(csv.DictReader(io.StringIO(b"".join(response.streaming_content).decode())))
    assert response["Content-Type"].startswith("text/csv")
    assert [(row["title"], row["ticket_key"], row["owner"]) for row in rows] == [
        ("Retry budget", "DEV-42", "dana")
    ]


def test_incident_panel_adds_an_item_and_returns_to_the_page(browser_client, dana):
    incident = IncidentFactory(severity=2)
    page = f"/remediations/incident/{incident.pk}/"

    response = browser_client.post(
        f"/remediations/incident/{incident.pk}/add/",
        {"title": "Canary deploys", "kind": "dev", "category": "prevent", "owner": "dana", "next": page},
    )

    assert response.status_code == 302
    assert response.url == page
    html = browser_client.get(page).content.decode()
    assert "Canary deploys" in html
    assert RemediationItem.objects.get().due_date == dt.date(2026, 3, 30)


def test_incident_panel_shows_errors_and_keeps_what_was_typed(browser_client):
    incident = IncidentFactory()

    response = browser_client.post(
        f"/remediations/incident/{incident.pk}/add/",
        {"title": "Canary deploys", "kind": "ops", "category": "prevent", "owner": "ghost"},
    )

    html = response.content.decode()
    assert response.status_code == 400
    assert "No person has the username “ghost”." in html
    assert 'value="Canary deploys"' in html
    assert not RemediationItem.objects.exists()


def test_next_must_stay_on_this_site(browser_client, dana):
    item = RemediationItemFactory(owner=dana)

    response = browser_client.post(
        f"/remediations/{item.pk}/status/", {"status": "done", "next": "https://evil.example.com/"}
    )

    assert response.url == f"/remediations/incident/{item.incident_id}/"


def test_status_form_needs_a_reason_for_wont_do(browser_client, dana):
    item = RemediationItemFactory(owner=dana)

    response = browser_client.post(f"/remediations/{item.pk}/status/", {"status": "wont-do", "reason": ""})

    assert response.status_code == 400
    assert "reason is required" in response.content.decode()


def test_edit_form_changes_the_item(browser_client, dana):
    item = RemediationItemFactory(owner=dana, kind="dev")

    response = browser_client.post(
        f"/remediations/{item.pk}/edit/",
        {"title": "Renamed", "kind": "ops", "category": "process", "owner": "dana", "priority": "high",
         "due_date": "2026-04-01", "reminders_muted": "on"},
    )  # fmt: skip

    assert response.status_code == 302
    item.refresh_from_db()
    assert (item.title, item.kind, item.priority, item.reminders_muted) == ("Renamed", "ops", "high", True)


def test_panel_shows_dev_and_ops_columns_with_blameless_findings(browser_client, dana):
    incident = IncidentFactory()
    RemediationItemFactory(incident=incident, owner=dana, kind="dev", title="Stop the human error")
    RemediationItemFactory(
        incident=incident, owner=dana, kind="ops", description="**bold** <script>x</script>"
    )

    html = browser_client.get(f"/remediations/incident/{incident.pk}/").content.decode()

    assert 'data-kind="dev"' in html and 'data-kind="ops"' in html
    assert "ends the inquiry" in html
    assert "<strong>bold</strong>" in html
    assert "<script>x" not in html


def test_profile_lists_the_persons_open_items_marking_the_overdue_ones(browser_client, person):
    RemediationItemFactory(owner=person, title="Automate cert renewal", due_date=dt.date(2026, 3, 1))
    RemediationItemFactory(owner=person, title="Due today", due_date=dt.date(2026, 3, 2))
    RemediationItemFactory(owner=person, title="Finished", status=RemediationStatus.DONE, completed_at=NOW)

    response = browser_client.get("/profile/")

    html = response.content.decode()
    assert response.status_code == 200
    assert "Automate cert renewal" in html and "Due today" in html
    assert "Finished" not in html
    assert html.count('<span class="badge error">overdue</span>') == 1
    assert [row.overdue for row in response.context["open_remediation_items"]] == [True, False]


def test_profile_query_count_does_not_grow_with_items(browser_client, person, django_assert_max_num_queries):
    RemediationItemFactory(owner=person)
    with django_assert_max_num_queries(20) as few:
        assert browser_client.get("/profile/").status_code == 200
    RemediationItemFactory.create_batch(10, owner=person, team=TeamFactory())
    with django_assert_max_num_queries(len(few.captured_queries)):
        html = browser_client.get("/profile/").content.decode()
    assert html.count("Add an alert on queue depth") == 11


def test_board_figures_agree_with_the_metrics_api(browser_client, api, dana):
    RemediationItemFactory(owner=dana, kind="dev", due_date=dt.date(2026, 3, 1))
    yesterday = NOW - dt.timedelta(days=1)
    RemediationItemFactory(
        owner=dana, kind="ops", due_date=dt.date(2026, 3, 1), status="done", completed_at=yesterday
    )

    board = browser_client.get("/remediations/").context["figures"]
    metrics = api.get("/api/v1/metrics/remediations/?since=2025-04-01").json()

    assert board == {name: metrics[name] for name in board}
    assert (board["opened"], board["completed"], board["completed_on_time"], board["open_overdue"]) == (
        2,
        1,
        1,
        1,
    )


@pytest.mark.parametrize(
    ("page", "panel"),
    [("/remediations/incident/{pk}/", 'id="remediations"'), ("/incidents/{pk}/", 'id="evidence"')],
)
def test_incident_panel_query_count_does_not_grow_with_items(
    browser_client, dana, django_assert_max_num_queries, page, panel
):
    incident = IncidentFactory()
    url = page.format(pk=incident.pk)
    RemediationItemFactory(incident=incident, owner=dana)
    with django_assert_max_num_queries(30) as few:
        assert browser_client.get(url).status_code == 200
    RemediationItemFactory.create_batch(10, incident=incident, owner=dana, kind="ops", team=TeamFactory())
    with django_assert_max_num_queries(len(few.captured_queries)):
        response = browser_client.get(url)
    assert response.status_code == 200
    html = response.content.decode()
    assert html.count('class="card remediation-item') == 11
    assert panel in html


def test_board_draws_monthly_charts_per_kind(browser_client, dana):
    RemediationItemFactory(owner=dana, kind="dev", created_at=NOW - dt.timedelta(days=40))

    response = browser_client.get("/remediations/")

    charts = response.context["charts"]
    assert charts[0].title == "Remediation items opened per month"
    assert charts[0].rows[-3] == ["Jan 2026", 1, 0]
    assert "<svg" in response.content.decode()


def test_panel_says_which_items_keep_the_incident_open(browser_client, dana):
    incident = IncidentFactory()
    RemediationItemFactory(incident=incident, owner=dana, title="Runbook for failover")
    RemediationItemFactory(incident=incident, owner=dana, title="Done", status="done", completed_at=NOW)

    html = browser_client.get(f"/remediations/incident/{incident.pk}/").content.decode()

    assert "cannot be closed until 1 item is done" in html
    assert "Runbook for failover</a>." in html


def test_a_refused_filter_is_named_and_the_others_still_apply(browser_client, dana):
    RemediationItemFactory(owner=dana, kind="dev")
    RemediationItemFactory(owner=dana, kind="ops")

    response = browser_client.get("/remediations/?kind=dev&severity=9")

    assert response.status_code == 400
    html = response.content.decode()
    assert "Severity: Select a valid choice. 9 is not one of the available choices." in html
    assert sum(column.count for column in response.context["columns"]) == 1  # kind=dev still applies


def test_an_export_with_a_refused_filter_is_refused_not_everything(browser_client, dana):
    RemediationItemFactory(owner=dana, kind="dev")

    response = browser_client.get("/remediations/export.csv?kind=dev&status=bogus")

    assert response.status_code == 400
    assert (
        "Status: Select a valid choice. bogus is not one of the available choices."
        in response.content.decode()
    )


def test_overdue_items_are_marked_on_the_board_the_panel_and_the_csv(browser_client, dana):
    incident = IncidentFactory(severity=1)
    RemediationItemFactory(incident=incident, owner=dana, title="Late", due_date=dt.date(2026, 3, 1))
    RemediationItemFactory(incident=incident, owner=dana, title="Due today", due_date=dt.date(2026, 3, 2))
    RemediationItemFactory(
        incident=incident, owner=dana, title="Done late", due_date=dt.date(2026, 2, 1),
        status=RemediationStatus.DONE, completed_at=NOW,
    )  # fmt: skip
    badge = '<span class="badge error">overdue</span>'

    board = browser_client.get("/remediations/").content.decode()
    panel = browser_client.get(f"/remediations/incident/{incident.pk}/").content.decode()
    export = browser_client.get("/remediations/export.csv")
    rows = csv.DictReader(io.StringIO(b"".join(export.streaming_content).decode()))

    assert board.count(badge) == 1 and panel.count(badge) == 1
    assert {row["title"]: row["overdue"] for row in rows} == {
        "Late": "True",
        "Due today": "False",
        "Done late": "False",
    }


def test_the_add_form_offers_the_due_date_the_severity_gives(browser_client):
    incident = IncidentFactory(severity=1)

    html = browser_client.get(f"/remediations/incident/{incident.pk}/").content.decode()

    assert 'placeholder="2026-03-30"' in html  # four weeks for severity 1
    assert "empty: 30 Mar 2026, from the severity" in html


def test_the_board_export_writes_formula_like_titles_as_text(browser_client, dana):
    RemediationItemFactory(owner=dana, title="-2+3+cmd|' /C calc'!A0")

    response = browser_client.get("/remediations/export.csv")

    body = b"".join(response.streaming_content).decode()
    assert ",'-2+3+cmd" in body


def test_the_owner_field_suggests_the_incidents_people_not_everyone(
    browser_client, dana, django_assert_max_num_queries
):
    incident = IncidentFactory(facilitator=UserFactory(username="fran"))
    RemediationItemFactory(incident=incident, owner=dana)
    UserFactory(username="left", is_active=False)
    with django_assert_max_num_queries(40) as few:
        browser_client.get(f"/incidents/{incident.pk}/")
    UserFactory.create_batch(300)

    with django_assert_max_num_queries(len(few)):
        html = browser_client.get(f"/incidents/{incident.pk}/").content.decode()

    start = html.index('<datalist id="remediation-people"')
    datalist = html[start : html.index("</datalist>", start)]
    assert datalist.count("<option") == 2
    assert 'value="dana"' in datalist and 'value="fran"' in datalist
    assert 'data-suggest="/people/suggest/"' in datalist


def test_people_are_suggested_by_any_part_of_their_name_twenty_at_most(browser_client, dana):
    UserFactory.create_batch(30, first_name="Danielle")
    UserFactory(username="zed", first_name="Dan", is_active=False)

    found = browser_client.get("/people/suggest/", {"q": "dan"}).json()["people"]
    by_name = browser_client.get("/people/suggest/", {"q": "REYES"}).json()["people"]

    assert len(found) == 20
    assert found[0] == {"username": "dana", "name": "Dana Reyes"}  # usernames that start so come first
    assert "zed" not in {person["username"] for person in found}
    assert by_name == [{"username": "dana", "name": "Dana Reyes"}]
    assert browser_client.get("/people/suggest/", {"q": " "}).json() == {"people": []}
