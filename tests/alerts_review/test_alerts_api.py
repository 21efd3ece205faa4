import datetime as dt

import pytest

from tests.factories import AlertFactory, TeamFactory, UserFactory, category

pytestmark = pytest.mark.django_db

UTC = dt.UTC


@pytest.fixture
def ops(person):
    team = TeamFactory(slug="ops")
    team.members.add(person)
    return team


def test_alerts_are_listed_with_the_documented_fields(api, ops, person, django_assert_max_num_queries):
    for hour in range(5):
        AlertFactory(team=ops, paged=person, fired_at=dt.datetime(2026, 10, 3, hour, tzinfo=UTC))
    with django_assert_max_num_queries(4):
        response = api.get("/api/v1/alerts/")
    assert response.status_code == 200
    body = response.json()
    assert len(body["results"]) == 5
    assert body["next"] is None
    first = body["results"][0]
    assert {
        "id",
        "source",
        "check",
        "host",
        "state",
        "fired_at",
        "resolved_at",
        "team",
        "paged",
        "category",
        "out_of_hours",
    } <= set(first)
    assert (first["team"], first["paged"], first["category"]) == ("ops", "pat", None)
    assert first["fired_at"] == "2026-10-03T04:00:00Z"


def test_alerts_are_filtered(api, ops, person):
    other = TeamFactory(slug="dev")
    AlertFactory(team=ops, paged=person, check_name="Disk", fired_at=dt.datetime(2026, 10, 3, tzinfo=UTC))
    AlertFactory(
        team=ops,
        check_name="Load",
        fired_at=dt.datetime(2026, 10, 5, tzinfo=UTC),
        category=category("threshold"),
    )
    AlertFactory(
        team=other, check_name="Disk", source="nagios", fired_at=dt.datetime(2026, 10, 7, tzinfo=UTC)
    )

    def checks(query):
        return sorted(
            f"{alert['team']}:{alert['check']}"
            for alert in api.get(f"/api/v1/alerts/?{query}").json()["results"]
        )

    assert checks("team=ops") == ["ops:Disk", "ops:Load"]
    assert checks("source=nagios") == ["dev:Disk"]
    assert checks("check=Disk") == ["dev:Disk", "ops:Disk"]
    assert checks("since=2026-10-04T00:00:00Z&until=2026-10-06T00:00:00Z") == ["ops:Load"]
    # The period includes its first instant and stops before its last.
    assert checks("since=2026-10-05T00:00:00Z&until=2026-10-07T00:00:00Z") == ["ops:Load"]
    assert checks("category=threshold") == ["ops:Load"]
    assert checks("unclassified=true") == ["dev:Disk", "ops:Disk"]
    assert checks("paged=pat") == ["ops:Disk"]


def test_a_bad_filter_is_a_400_naming_it(api):
    response = api.get("/api/v1/alerts/?since=yesterday")
    assert response.status_code == 400
    assert "since" in response.json()["errors"]


def test_the_alert_list_needs_a_person(client):
    assert client.get("/api/v1/alerts/").status_code in (401, 403)


def test_patch_classifies_an_alert(api, ops, person):
    alert = AlertFactory(team=ops)
    response = api.patch(
        f"/api/v1/alerts/{alert.pk}/",
        {"category": "threshold", "note": "raise to 95%", "woke_me_up": True},
        format="json",
    )
    assert response.status_code == 200, response.json()
    assert (response.json()["category"], response.json()["note"], response.json()["woke_me_up"]) == (
        "threshold",
        "raise to 95%",
        True,
    )
    alert.refresh_from_db()
    assert alert.classified_by == person and alert.classified_at is not None


def test_patch_of_only_the_note_keeps_the_category(api, ops):
    alert = AlertFactory(team=ops, category=category("issue"))
    response = api.patch(f"/api/v1/alerts/{alert.pk}/", {"note": "db failover"}, format="json")
    assert response.json()["category"] == "issue"


def test_an_unknown_category_is_a_400_naming_the_field(api, ops):
    alert = AlertFactory(team=ops)
    response = api.patch(f"/api/v1/alerts/{alert.pk}/", {"category": "meh"}, format="json")
    assert response.status_code == 400
    assert response.json()["errors"]["category"][0].startswith("meh is not a category; choose one of issue,")


def test_people_outside_the_team_may_not_classify(api):
    payments = TeamFactory(slug="payments", name="Payments")
    alert = AlertFactory(team=payments, paged=UserFactory(username="gus"))
    response = api.patch(f"/api/v1/alerts/{alert.pk}/", {"category": "issue"}, format="json")
    assert response.status_code == 403
    assert response.json()["detail"] == (
        "Only a responder of Payments, or the person paged, may classify its alerts."
    )


def test_a_missing_alert_is_404(api):
    assert api.patch("/api/v1/alerts/999999/", {"category": "issue"}, format="json").status_code == 404


def walk(api, url: str) -> list[dict]:
    """Every alert of a list, following `next` to the end."""
    seen: list[dict] = []
    while url:
        response = api.get(url)
        assert response.status_code == 200, response.content
        body = response.json()
        assert set(body) == {"next", "results"}  # no count of the whole table
        seen += body["results"]
        url = body["next"]
    return seen


def test_the_list_pages_by_cursor_newest_first_without_repeats_or_gaps(api, ops):
    # Alerts sharing a firing instant are ordered by id, so a page may end between them.
    instants = [dt.datetime(2026, 10, 3, hour, tzinfo=UTC) for hour in (1, 2, 2, 2, 3, 4, 4, 5, 6, 6, 6)]
    alerts = [AlertFactory(team=ops, fired_at=at) for at in instants]
    expected = sorted(alerts, key=lambda alert: (alert.fired_at, alert.pk), reverse=True)

    for size in (1, 2, 3, 4, 11, 50):
        listed = walk(api, f"/api/v1/alerts/?page_size={size}")
        assert [row["id"] for row in listed] == [alert.pk for alert in expected], size


def test_following_next_keeps_the_filters(api, ops):
    other = TeamFactory(slug="dev")
    for hour in range(6):
        AlertFactory(team=ops, check_name="Disk", fired_at=dt.datetime(2026, 10, 3, hour, tzinfo=UTC))
        AlertFactory(team=other, check_name="Disk", fired_at=dt.datetime(2026, 10, 3, hour, tzinfo=UTC))
    listed = walk(api, "/api/v1/alerts/?team=ops&page_size=4")
    assert len(listed) == 6
    assert {row["team"] for row in listed} == {"ops"}


def test_alerts_arriving_between_pages_neither_repeat_nor_hide_older_ones(api, ops):
    older = [AlertFactory(team=ops, fired_at=dt.datetime(2026, 10, 3, hour, tzinfo=UTC)) for hour in range(4)]
    first = api.get("/api/v1/alerts/?page_size=2").json()
    AlertFactory(team=ops, fired_at=dt.datetime(2026, 10, 4, tzinfo=UTC))  # newer than every page
    rest = walk(api, first["next"])
    ids = [row["id"] for row in first["results"] + rest]
    assert ids == [alert.pk for alert in reversed(older)]


def test_a_page_deep_in_a_long_list_costs_the_same_queries_and_counts_nothing(
    api, ops, django_assert_max_num_queries
):
    for day in range(1, 29):
        AlertFactory.create_batch(3, team=ops, fired_at=dt.datetime(2026, 10, day, tzinfo=UTC))
    url = "/api/v1/alerts/?page_size=5"
    for _ in range(10):
        with django_assert_max_num_queries(4) as queries:
            url = api.get(url).json()["next"]
        assert not [query for query in queries.captured_queries if "COUNT(" in query["sql"].upper()]
    assert url


@pytest.mark.parametrize(
    ("query", "field"),
    [
        ("cursor=not-a-cursor", "cursor"),
        ("cursor=MjAyNi0xMC0wMw", "cursor"),  # base64 of a date without an id
        ("page=2", "page"),
        ("page_size=0", "page_size"),
        ("page_size=1000", "page_size"),
        ("page_size=ten", "page_size"),
    ],
)
def test_a_bad_cursor_or_page_is_refused_naming_it(api, ops, query, field):
    AlertFactory(team=ops)
    response = api.get(f"/api/v1/alerts/?{query}")
    assert response.status_code == 400
    assert field in response.json()["errors"]


def test_the_api_schema_documents_the_cursor(api):
    schema = api.get("/api/schema/?format=json").json()
    operation = schema["paths"]["/api/v1/alerts/"]["get"]
    names = {parameter["name"] for parameter in operation["parameters"]}
    assert {"cursor", "page_size", "team", "since"} <= names
    assert "page" not in names
