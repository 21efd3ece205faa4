import datetime as dt

import pytest
import time_machine
from django.db import connection
from django.test.utils import CaptureQueriesContext

from incidents.models import RemediationItem, RemediationStatus
from tests.factories import (
    IncidentFactory,
    ProfileFactory,
    RemediationItemFactory,
    TeamFactory,
    UserFactory,
)

NOW = dt.datetime(2026, 3, 2, 10, 0, tzinfo=dt.UTC)


@pytest.fixture
def incident(db):
    return IncidentFactory(severity=2, impact_started_at=NOW - dt.timedelta(days=3))


@pytest.fixture
def dana(db):
    return ProfileFactory(user=UserFactory(username="dana")).user


def _url(incident) -> str:
    return f"/api/v1/incidents/{incident.pk}/remediations/"


@time_machine.travel(NOW, tick=False)
def test_post_adds_an_item_with_owner_team_and_default_due_date(api, incident, dana):
    TeamFactory(slug="ops", name="Ops")

    response = api.post(
        _url(incident),
        {
            "title": "Page on replica lag",
            "kind": "ops",
            "category": "detect",
            "owner": "dana",
            "team": "ops",
            "ticket_url": "https://jira.example.com/browse/OPS-123",
        },
        format="json",
    )

    assert response.status_code == 201, response.json()
    body = response.json()
    assert body["owner"] == "dana"
    assert body["team"] == "ops"
    assert body["ticket_key"] == "OPS-123"
    assert body["due_date"] == "2026-03-30"
    assert body["status"] == "open"
    assert body["blameless"] == []


def test_get_lists_the_incidents_items(api, incident, dana):
    RemediationItemFactory(incident=incident, owner=dana, kind="dev")
    RemediationItemFactory(incident=incident, owner=dana, kind="ops")
    RemediationItemFactory(owner=dana)  # another incident

    response = api.get(_url(incident))

    assert response.status_code == 200
    assert sorted(item["kind"] for item in response.json()["results"]) == ["dev", "ops"]


def test_unknown_owner_is_a_400_naming_it(api, incident):
    response = api.post(
        _url(incident), {"title": "x", "kind": "dev", "category": "prevent", "owner": "nobody"}, format="json"
    )

    assert response.status_code == 400
    assert "nobody" in response.json()["errors"]["owner"][0]
    assert not RemediationItem.objects.exists()


def test_bad_input_gives_a_sentence_per_field_and_saves_nothing(api, incident, dana):
    response = api.post(
        _url(incident),
        {"title": "x", "kind": "qa", "category": "prevent", "owner": "ghost"},
        format="json",
    )

    body = response.json()
    assert response.status_code == 400
    assert set(body["errors"]) == {"kind", "owner"}
    assert "dev or ops" in body["errors"]["kind"][0]
    assert "kind" in body["detail"]
    assert not RemediationItem.objects.exists()


def test_due_date_before_the_incident_started_is_a_400(api, incident, dana):
    response = api.post(
        _url(incident),
        {"title": "x", "kind": "dev", "category": "prevent", "owner": "dana", "due_date": "2020-01-01"},
        format="json",
    )

    assert response.status_code == 400
    assert "before the incident started" in response.json()["errors"]["due_date"][0]
    assert not RemediationItem.objects.exists()


def test_wont_do_without_reason_is_a_400_and_leaves_the_item_alone(api, incident, dana):
    item = RemediationItemFactory(incident=incident, owner=dana, title="Before")

    response = api.patch(
        f"/api/v1/remediations/{item.pk}/", {"title": "After", "status": "wont-do"}, format="json"
    )

    assert response.status_code == 400
    assert "wont_do_reason" in response.json()["errors"]
    item.refresh_from_db()
    assert (item.title, item.status) == ("Before", "open")


def test_patch_marks_done_and_mutes(api, incident, dana):
    item = RemediationItemFactory(incident=incident, owner=dana)

    with time_machine.travel(NOW, tick=False):
        response = api.patch(
            f"/api/v1/remediations/{item.pk}/", {"status": "done", "reminders_muted": True}, format="json"
        )

    assert response.status_code == 200
    body = response.json()
    assert body["status"] == "done"
    assert body["completed_at"] == "2026-03-02T10:00:00Z"
    assert body["reminders_muted"] is True


def test_patch_reports_blameless_findings_but_saves(api, incident, dana):
    item = RemediationItemFactory(incident=incident, owner=dana)

    response = api.patch(
        f"/api/v1/remediations/{item.pk}/", {"title": "dana broke the deploy"}, format="json"
    )

    assert response.status_code == 200
    assert response.json()["blameless"][0]["phrase"] == "person as the cause"


def test_put_is_not_allowed(api, incident, dana):
    item = RemediationItemFactory(incident=incident, owner=dana)

    assert api.put(f"/api/v1/remediations/{item.pk}/", {}, format="json").status_code == 405


@time_machine.travel(NOW, tick=False)
def test_list_filters_by_kind_status_owner_team_overdue_and_incident(api, incident, dana, person):
    team = TeamFactory(slug="payments")
    overdue = RemediationItemFactory(
        incident=incident, owner=dana, kind="dev", team=team, due_date=dt.date(2026, 3, 1)
    )
    RemediationItemFactory(incident=incident, owner=dana, kind="ops", due_date=dt.date(2026, 3, 1))
    RemediationItemFactory(owner=person, kind="dev", due_date=dt.date(2026, 4, 1))

    def ids(query: str) -> list[int]:
        response = api.get(f"/api/v1/remediations/?{query}")
        assert response.status_code == 200, response.json()
        body = response.json()
        # The count comes from the board's kept counts, and must agree with the rows.
        assert body["count"] == len(body["results"]), query
        return [item["id"] for item in body["results"]]

    assert ids("kind=dev&overdue=true&owner=dana") == [overdue.pk]
    flags = {item["id"]: item["overdue"] for item in api.get("/api/v1/remediations/").json()["results"]}
    assert flags[overdue.pk] is True and list(flags.values()).count(True) == 2
    assert ids("team=payments") == [overdue.pk]
    assert len(ids(f"incident={incident.pk}")) == 2
    assert len(ids("status=open")) == 3
    assert api.get("/api/v1/remediations/?kind=qa").status_code == 400


def test_items_of_deleted_incidents_are_hidden(api, dana):
    item = RemediationItemFactory(owner=dana, incident=IncidentFactory(deleted_at=NOW))
    shown = RemediationItemFactory(owner=dana)

    assert api.get(f"/api/v1/remediations/{item.pk}/").status_code == 404
    assert api.get(f"/api/v1/remediations/{shown.pk}/").status_code == 200
    body = api.get("/api/v1/remediations/").json()
    assert (body["count"], [row["id"] for row in body["results"]]) == (1, [shown.pk])


def test_unknown_incident_is_a_404(api):
    assert api.get("/api/v1/incidents/999999/remediations/").status_code == 404


@time_machine.travel(NOW, tick=False)
def test_metrics_have_the_documented_shape_and_numbers(api, dana):
    incident = IncidentFactory(impact_started_at=dt.datetime(2026, 1, 1, tzinfo=dt.UTC))
    feb = dt.datetime(2026, 2, 1, tzinfo=dt.UTC)
    RemediationItemFactory(
        incident=incident, owner=dana, kind="dev", created_at=feb, due_date=dt.date(2026, 2, 10),
        status=RemediationStatus.DONE, completed_at=dt.datetime(2026, 2, 10, 23, tzinfo=dt.UTC),
    )  # fmt: skip
    RemediationItemFactory(
        incident=incident, owner=dana, kind="dev", created_at=feb, due_date=dt.date(2026, 2, 10),
        status=RemediationStatus.DONE, completed_at=dt.datetime(2026, 2, 12, tzinfo=dt.UTC),
    )  # fmt: skip
    RemediationItemFactory(
        incident=incident, owner=dana, kind="ops", created_at=feb, due_date=dt.date(2026, 2, 20)
    )
    RemediationItemFactory(
        incident=incident, owner=dana, kind="ops", created_at=dt.datetime(2026, 2, 21, tzinfo=dt.UTC),
        due_date=dt.date(2026, 4, 1),
    )  # fmt: skip

    response = api.get("/api/v1/metrics/remediations/?since=2026-02-01&until=2026-03-01")

    body = response.json()
    assert response.status_code == 200
    assert set(body) == {
        "opened", "completed", "completed_on_time", "open_overdue", "median_open_age_days", "by_kind",
    }  # fmt: skip
    assert (body["opened"], body["completed"], body["completed_on_time"], body["open_overdue"]) == (
        4,
        2,
        1,
        1,
    )
    assert body["median_open_age_days"] == 19.0  # 29 and 9 days
    assert body["by_kind"]["dev"] == {
        "opened": 2, "completed": 2, "completed_on_time": 1, "open_overdue": 0, "median_open_age_days": None,
    }  # fmt: skip
    assert body["by_kind"]["ops"]["open_overdue"] == 1


def test_metrics_refuse_a_window_that_ends_before_it_starts(api):
    response = api.get("/api/v1/metrics/remediations/?since=2026-02-01&until=2026-01-01")

    assert response.status_code == 400
    assert "until" in response.json()["errors"]


def test_list_query_count_does_not_grow_with_items(api, incident, dana, django_assert_max_num_queries):
    RemediationItemFactory.create_batch(2, incident=incident, owner=dana)
    with django_assert_max_num_queries(20) as few:
        api.get("/api/v1/remediations/")
    RemediationItemFactory.create_batch(20, incident=incident, owner=dana, team=TeamFactory())
    with django_assert_max_num_queries(len(few.captured_queries)):
        assert len(api.get("/api/v1/remediations/").json()["results"]) == 22


def test_patch_with_unknown_owner_or_team_names_them(api, incident, dana):
    item = RemediationItemFactory(incident=incident, owner=dana)

    url = f"/api/v1/remediations/{item.pk}/"
    response = api.patch(url, {"owner": "ghost", "team": "nope"}, format="json")

    errors = response.json()["errors"]
    assert response.status_code == 400
    assert "ghost" in errors["owner"][0] and "nope" in errors["team"][0]
    item.refresh_from_db()
    assert item.owner == dana


@pytest.mark.django_db
def test_items_are_checked_against_the_teams_own_phrases(api, person):
    from incidents.models import BlamelessPhrase
    from tests.factories import RemediationItemFactory

    BlamelessPhrase.objects.create(text="sloppy", reason="Judges a person.")
    item = RemediationItemFactory(title="Stop sloppy config pushes", owner=person)

    response = api.get(f"/api/v1/remediations/{item.pk}/")

    assert [finding["phrase"] for finding in response.json()["blameless"]] == ["sloppy"]


def test_an_open_item_on_a_closed_incident_is_refused_with_a_sentence(api, dana):
    from incidents.models import Status

    incident = IncidentFactory(status=Status.CLOSED)
    body = {"title": "Alert on 5xx", "kind": "dev", "category": "detect", "owner": dana.username}
    response = api.post(f"/api/v1/incidents/{incident.pk}/remediations/", body, format="json")
    assert response.status_code == 400
    assert f"Incident #{incident.pk} is closed" in response.json()["detail"]
    assert not incident.remediation_items.exists()


@time_machine.travel(NOW, tick=False)
def test_the_list_reads_each_incidents_title_not_its_postmortem(api, incident, dana):
    RemediationItemFactory(incident=incident, owner=dana)
    RemediationItemFactory(incident=None, owner=dana, origin_title="Alerts review", origin_url="/alerts/")
    with CaptureQueriesContext(connection) as captured:
        rows = api.get("/api/v1/remediations/").json()["results"]
    queries = [query["sql"] for query in captured.captured_queries]
    assert sorted((row["incident"], row["incident_title"]) for row in rows if row["incident"]) == [
        (incident.pk, incident.title)
    ]
    assert [row["incident_title"] for row in rows if not row["incident"]] == [None]
    assert not [query for query in queries if "what_happened" in query]


def test_the_list_flags_a_person_as_the_cause_and_reads_names_only_for_a_cause_verb(api, incident, dana):
    RemediationItemFactory(incident=incident, owner=dana, title="Add a runbook")
    with CaptureQueriesContext(connection) as quiet:
        body = api.get("/api/v1/remediations/").json()
    assert [item["blameless"] for item in body["results"]] == [[]]

    RemediationItemFactory(incident=incident, owner=dana, title="dana broke the deploy")
    with CaptureQueriesContext(connection) as named:
        body = api.get("/api/v1/remediations/").json()
    flagged = [finding["phrase"] for item in body["results"] for finding in item["blameless"]]
    assert flagged == ["person as the cause"]
    # People's names are read once for the whole list, and only when a text has a cause verb.
    assert [_reads_names(query["sql"]) for query in quiet.captured_queries].count(True) == 0
    assert [_reads_names(query["sql"]) for query in named.captured_queries].count(True) == 1


def _reads_names(sql: str) -> bool:
    return sql.startswith('SELECT "auth_user"."username"') and '"morgue_profile"."display_name"' in sql
