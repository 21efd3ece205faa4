import datetime as dt

import pytest

from incidents.models import Deploy, DeployLink, EventKind, Status, TimelineEvent
from incidents.selectors.deploy import deploy_related_incidents, deploys_per_day, suggested_deploys
from incidents.services.deploy import link_deploy, record_deploy, unlink_deploy
from tests.factories import DeployFactory, IncidentFactory

pytestmark = pytest.mark.django_db

UTC = dt.UTC
IMPACT = dt.datetime(2026, 10, 3, 14, 0, tzinfo=UTC)

PAYLOAD = {
    "stack": "web",
    "environment": "production",
    "deployer": "rlee",
    "old_revision": "3ee7f99bb3",
    "new_revision": "4add615720",
    "started_at": "2026-10-03T14:00:00+00:00",
    "finished_at": "2026-10-03T14:04:30+00:00",
    "diff_url": "https://github.example.com/web/compare/3ee7f99bb3...4add615720",
    "log_url": "https://deploy.example.com/log/123",
    "message": "listing page tweaks",
}


def test_a_deploy_is_recorded_with_its_duration(api):
    response = api.post("/api/v1/deploys/", PAYLOAD, format="json")
    assert response.status_code == 201, response.json()
    body = response.json()
    assert body["duration_seconds"] == 270
    assert body["new_revision"] == "4add615720"


def test_reporting_the_same_deploy_twice_records_it_once(api):
    first = api.post("/api/v1/deploys/", PAYLOAD, format="json")
    second = api.post("/api/v1/deploys/", PAYLOAD, format="json")
    assert (first.status_code, second.status_code) == (201, 200)
    assert first.json()["id"] == second.json()["id"]
    assert Deploy.objects.count() == 1


def test_the_same_revision_at_another_time_is_another_deploy(api):
    api.post("/api/v1/deploys/", PAYLOAD, format="json")
    response = api.post(
        "/api/v1/deploys/",
        {**PAYLOAD, "started_at": "2026-10-03T15:00:00Z", "finished_at": None},
        format="json",
    )
    assert response.status_code == 201


@pytest.mark.parametrize(
    ("change", "field"),
    [
        ({"stack": None}, "stack"),
        ({"environment": None}, "environment"),
        ({"finished_at": "2026-10-03T13:00:00Z"}, "finished_at"),
        ({"diff_url": "not a url"}, "diff_url"),
        ({"started_at": "yesterday"}, "started_at"),
    ],
)
def test_bad_deploys_are_refused_naming_the_field(api, change, field):
    payload = {key: value for key, value in {**PAYLOAD, **change}.items() if value is not None}
    response = api.post("/api/v1/deploys/", payload, format="json")
    assert response.status_code == 400
    assert field in response.json()["errors"]
    assert response.json()["detail"]
    assert Deploy.objects.count() == 0


def test_the_service_refuses_a_deploy_that_finished_before_it_started():
    from morgue.exceptions import MorgueError

    with pytest.raises(MorgueError):
        record_deploy(
            stack="web",
            environment="qa",
            new_revision="abc",
            started_at=IMPACT,
            finished_at=IMPACT - dt.timedelta(seconds=1),
        )


def test_the_deploy_list_filters_by_stack_environment_deployer_and_time(api):
    DeployFactory(stack="web", environment="production", deployer="alice", started_at=IMPACT)
    DeployFactory(stack="search", environment="production", deployer="bob", started_at=IMPACT)
    DeployFactory(stack="web", environment="qa", deployer="alice", started_at=IMPACT - dt.timedelta(days=2))

    def stacks(query: str) -> list[str]:
        return [
            deploy["stack"] + "/" + deploy["environment"]
            for deploy in api.get(f"/api/v1/deploys/?{query}").json()["results"]
        ]

    assert stacks("stack=web") == ["web/production", "web/qa"]
    assert stacks("environment=production&deployer=bob") == ["search/production"]
    assert stacks("since=2026-10-02T00:00:00Z") == ["web/production", "search/production"] or stacks(
        "since=2026-10-02T00:00:00Z"
    ) == ["search/production", "web/production"]
    assert stacks("until=2026-10-02T00:00:00Z") == ["web/qa"]
    assert api.get("/api/v1/deploys/?since=soon").status_code == 400


def test_suggested_deploys_are_production_deploys_from_an_hour_before_impact_to_detection():
    incident = IncidentFactory(impact_started_at=IMPACT, detected_at=IMPACT + dt.timedelta(minutes=10))
    too_early = DeployFactory(started_at=IMPACT - dt.timedelta(minutes=61))
    early = DeployFactory(started_at=IMPACT - dt.timedelta(minutes=60))
    late = DeployFactory(started_at=IMPACT + dt.timedelta(minutes=5))
    DeployFactory(started_at=IMPACT - dt.timedelta(minutes=5), environment="staging")
    DeployFactory(started_at=IMPACT + dt.timedelta(minutes=11))

    assert list(suggested_deploys(incident=incident)) == [late, early]
    assert too_early in suggested_deploys(incident=incident, minutes=90)


def test_suggested_deploys_endpoint_answers_the_window(api):
    incident = IncidentFactory(impact_started_at=IMPACT)
    deploy = DeployFactory(started_at=IMPACT - dt.timedelta(minutes=20))
    response = api.get(f"/api/v1/incidents/{incident.pk}/suggested-deploys/")
    assert response.status_code == 200
    assert [row["id"] for row in response.json()] == [deploy.pk]
    assert api.get(f"/api/v1/incidents/{incident.pk}/suggested-deploys/?minutes=0").status_code == 400
    assert api.get("/api/v1/incidents/999999/suggested-deploys/").status_code == 404


def test_linking_a_deploy_puts_it_on_the_timeline_once(api):
    incident = IncidentFactory()
    deploy = DeployFactory(started_at=IMPACT - dt.timedelta(minutes=3), deployer="rlee")
    first = api.post(f"/api/v1/incidents/{incident.pk}/deploys/", {"deploy": deploy.pk}, format="json")
    second = api.post(f"/api/v1/incidents/{incident.pk}/deploys/", {"deploy": deploy.pk}, format="json")
    assert (first.status_code, second.status_code) == (201, 200)
    event = TimelineEvent.objects.get(incident=incident)
    assert event.kind == EventKind.DEPLOY
    assert event.occurred_at == deploy.started_at
    assert "rlee" in event.text
    assert list(deploy_related_incidents()) == [incident]
    assert [row["id"] for row in api.get(f"/api/v1/incidents/{incident.pk}/deploys/").json()] == [deploy.pk]


def test_linking_an_unknown_deploy_is_a_clear_400(api):
    incident = IncidentFactory()
    response = api.post(f"/api/v1/incidents/{incident.pk}/deploys/", {"deploy": 424242}, format="json")
    assert response.status_code == 400
    assert "deploy" in response.json()["errors"]


def test_unlinking_removes_the_timeline_entry():
    incident = IncidentFactory()
    deploy = DeployFactory()
    link_deploy(incident=incident, deploy=deploy)
    unlink_deploy(incident=incident, deploy=deploy)
    assert not DeployLink.objects.exists()
    assert not TimelineEvent.objects.exists()
    assert not deploy_related_incidents().exists()


def test_soft_deleted_incidents_are_not_deploy_related():
    incident = IncidentFactory(deleted_at=IMPACT)
    link_deploy(incident=incident, deploy=DeployFactory())
    assert not deploy_related_incidents().exists()


def test_deploy_metrics_for_a_period(api):
    for day in range(3):
        DeployFactory(started_at=IMPACT + dt.timedelta(days=day))
    DeployFactory(started_at=IMPACT, environment="qa")
    DeployFactory(started_at=IMPACT + dt.timedelta(days=40))
    first = IncidentFactory(
        impact_started_at=IMPACT,
        detected_at=IMPACT + dt.timedelta(minutes=10),
        resolved_at=IMPACT + dt.timedelta(minutes=70),
        status=Status.RESOLVED,
    )
    second = IncidentFactory(
        impact_started_at=IMPACT + dt.timedelta(days=1),
        detected_at=IMPACT + dt.timedelta(days=1, minutes=20),
        resolved_at=IMPACT + dt.timedelta(days=1, minutes=140),
        status=Status.RESOLVED,
    )
    IncidentFactory(impact_started_at=IMPACT)  # not deploy related
    for incident in (first, second):
        link_deploy(incident=incident, deploy=Deploy.objects.filter(environment="production").first())

    response = api.get("/api/v1/metrics/deploys/?since=2026-10-01T00:00:00Z&until=2026-10-31T00:00:00Z")
    assert response.status_code == 200
    assert response.json() == {
        "deploys": 3,
        "deploy_related_incidents": 2,
        "time_to_detect_median_seconds": 900.0,
        "time_to_resolve_median_seconds": 5400.0,
    }
    bad = api.get("/api/v1/metrics/deploys/?since=2026-10-31T00:00:00Z&until=2026-10-01T00:00:00Z")
    assert bad.status_code == 400
    assert "until" in bad.json()["errors"]


def test_deploys_per_day_counts_local_days_including_empty_ones():
    DeployFactory(started_at=dt.datetime(2026, 10, 3, 23, 30, tzinfo=UTC))
    DeployFactory(started_at=dt.datetime(2026, 10, 5, 9, 0, tzinfo=UTC))
    DeployFactory(started_at=dt.datetime(2026, 10, 7, 9, 0, tzinfo=UTC))
    from zoneinfo import ZoneInfo

    counts = deploys_per_day(Deploy.objects.all(), zone=ZoneInfo("Europe/Berlin"))
    assert counts == [
        (dt.date(2026, 10, 4), 1),
        (dt.date(2026, 10, 5), 1),
        (dt.date(2026, 10, 6), 0),
        (dt.date(2026, 10, 7), 1),
    ]


def test_incidents_can_be_annotated_as_deploy_related():
    from incidents.models import Incident
    from incidents.selectors.deploy import with_deploy_related

    related, unrelated = IncidentFactory(), IncidentFactory()
    link_deploy(incident=related, deploy=DeployFactory())
    flags = dict(with_deploy_related(Incident.objects.all()).values_list("pk", "deploy_related"))
    assert flags == {related.pk: True, unrelated.pk: False}


def test_the_deploy_log_offers_every_stack_and_environment_once_in_order(browser_client):
    from incidents.selectors.deploy import deploy_filter_choices

    for stack, environment in [("web", "production"), ("search", "qa"), ("web", "qa"), ("api", "staging")]:
        for minute in range(3):
            started = IMPACT + dt.timedelta(minutes=minute)
            DeployFactory(stack=stack, environment=environment, started_at=started)

    assert deploy_filter_choices() == (["api", "search", "web"], ["production", "qa", "staging"])
    html = browser_client.get("/deploys/").content.decode()
    assert '<option value="search">search</option>' in html
    assert '<option value="staging">staging</option>' in html


def test_the_deploy_log_filters_are_empty_without_deploys(db):
    from incidents.selectors.deploy import deploy_filter_choices

    assert deploy_filter_choices() == ([], [])


def _walk(api, url: str) -> list[dict]:
    rows: list[dict] = []
    while url:
        response = api.get(url)
        assert response.status_code == 200, response.content
        body = response.json()
        assert "count" not in body
        rows.extend(body["results"])
        url = body["next"]
    return rows


def test_the_deploy_list_pages_by_cursor_newest_first_without_repeats_or_gaps(api):
    hours = (1, 2, 2, 2, 3, 4, 4, 5, 6, 6, 6)
    deploys = [
        DeployFactory(new_revision=f"r{n}", started_at=IMPACT + dt.timedelta(hours=hour))
        for n, hour in enumerate(hours)
    ]
    expected = [d.pk for d in sorted(deploys, key=lambda d: (d.started_at, d.pk), reverse=True)]

    for size in (1, 2, 3, 11, 50):
        assert [row["id"] for row in _walk(api, f"/api/v1/deploys/?page_size={size}")] == expected
    filtered = _walk(api, "/api/v1/deploys/?page_size=2&since=2026-10-03T18:00:00Z")
    assert [row["id"] for row in filtered] == expected[:6]


def test_a_deep_deploy_page_costs_the_same_queries_and_counts_nothing(api, django_assert_max_num_queries):
    for n in range(60):
        DeployFactory(new_revision=f"r{n}", started_at=IMPACT + dt.timedelta(minutes=n // 2))
    url = "/api/v1/deploys/?page_size=5"
    for _ in range(10):
        with django_assert_max_num_queries(4) as queries:
            url = api.get(url).json()["next"]
        assert not [q for q in queries.captured_queries if "COUNT(" in q["sql"].upper()]
    assert url


@pytest.mark.parametrize("query", ["cursor=nonsense", "page=2", "page_size=0", "page_size=500"])
def test_a_bad_deploy_cursor_or_page_is_a_400_naming_it(api, query):
    DeployFactory()
    response = api.get(f"/api/v1/deploys/?{query}")
    assert response.status_code == 400
    assert query.split("=")[0] in response.json()["errors"]


def test_the_schema_documents_the_deploy_cursor(api):
    schema = api.get("/api/schema/?format=json").json()
    names = {p["name"] for p in schema["paths"]["/api/v1/deploys/"]["get"]["parameters"]}
    assert {"cursor", "page_size", "stack", "since"} <= names
    assert "page" not in names
