import datetime as dt

import pytest
import time_machine
from django.core.files.uploadedfile import SimpleUploadedFile
from django.db import connection
from django.template import Context, Template
from django.test import RequestFactory
from django.test.utils import CaptureQueriesContext

from incidents.models import DeployLink, GraphSnapshot, TimelineEvent
from incidents.selectors.evidence import evidence_panel
from incidents.views import evidence as evidence_views
from tests.factories import DeployFactory, IncidentFactory
from tests.incidents.graph_server import PNG

pytestmark = pytest.mark.django_db

IMPACT = dt.datetime(2026, 10, 3, 14, 0, tzinfo=dt.UTC)


@time_machine.travel(IMPACT + dt.timedelta(days=1), tick=False)
def test_the_deploy_log_lists_deploys_newest_first_with_a_chart(
    browser_client, django_assert_max_num_queries
):
    for hours in range(30):
        DeployFactory(started_at=IMPACT - dt.timedelta(hours=hours), deployer=f"person{hours}")
    with django_assert_max_num_queries(9):
        response = browser_client.get("/deploys/")
    assert response.status_code == 200
    html = response.content.decode()
    assert html.index("person0") < html.index("person1<")
    assert "Deploys per day" in html
    assert "PRODUCTION" in html


@time_machine.travel(IMPACT + dt.timedelta(days=1), tick=False)
def test_the_deploy_log_pages_by_cursor_without_counting_every_deploy(browser_client, monkeypatch):
    monkeypatch.setattr(evidence_views, "DEPLOYS_PER_PAGE", 2)
    for hours in range(5):
        DeployFactory(stack="web", started_at=IMPACT - dt.timedelta(hours=hours), deployer=f"person{hours}")
    DeployFactory(stack="search", started_at=IMPACT - dt.timedelta(days=90), deployer="old-search")

    with CaptureQueriesContext(connection) as queries:
        first = browser_client.get("/deploys/?stack=web")
    # The chart counts its days; nothing counts every deploy.
    counts = [query["sql"] for query in queries.captured_queries if "COUNT(" in query["sql"]]
    assert len(counts) == 1 and "GROUP BY" in counts[0] and '"started_at" >=' in counts[0]
    html = first.content.decode()
    assert "person0" in html and "person1<" in html and "person2" not in html
    assert "5 deploys on the chart's days" in html
    older = first.context["page"]["older"]
    assert older.startswith("/deploys/?stack=web&cursor=") and first.context["page"]["newest"] is None

    second = browser_client.get(older)
    html = second.content.decode()
    assert "person2" in html and "person3" in html and "person1<" not in html
    assert second.context["page"]["newest"] == "/deploys/?stack=web"
    last = browser_client.get(second.context["page"]["older"])
    assert "person4" in last.content.decode() and last.context["page"]["older"] is None
    assert "old-search" not in last.content.decode()  # the filter holds on every page

    # An address edited by hand shows the newest page, not an error.
    edited = browser_client.get("/deploys/?stack=web&cursor=not-a-cursor")
    assert edited.status_code == 200 and "person0" in edited.content.decode()


def test_the_deploy_log_filters(browser_client):
    DeployFactory(stack="search", deployer="bob", started_at=IMPACT)
    DeployFactory(stack="web", deployer="carol", started_at=IMPACT)
    response = browser_client.get("/deploys/?stack=search")
    html = response.content.decode()
    assert "bob" in html
    assert "carol" not in html
    assert browser_client.get("/deploys/?since=2026-10-04&until=2026-10-01").status_code == 200
    assert browser_client.get("/deploys/?since=nonsense").status_code == 200


def render_panel(incident, user):
    request = RequestFactory().get("/")
    request.user = user
    evidence = evidence_panel(incident=incident)
    return Template('{% include "incidents/_evidence.html" %}').render(
        Context({"incident": incident, "evidence": evidence, "request": request, "user": user})
    )


def test_the_evidence_panel_suggests_deploys_and_shows_snapshots(person, django_assert_max_num_queries):
    incident = IncidentFactory(impact_started_at=IMPACT)
    DeployFactory(started_at=IMPACT - dt.timedelta(minutes=5), deployer="rlee")
    GraphSnapshot.objects.create(
        incident=incident,
        title="5xx",
        url="https://g.example.com/a.png",
        status="failed",
        failure_reason="The graph server answered HTTP 404 Not Found.",
    )
    with django_assert_max_num_queries(5):
        html = render_panel(incident, person)
    assert "rlee" in html
    assert "Link</button>" in html
    assert "HTTP 404" in html


def test_one_click_links_a_suggested_deploy(browser_client):
    incident = IncidentFactory(impact_started_at=IMPACT)
    deploy = DeployFactory(started_at=IMPACT - dt.timedelta(minutes=5))
    response = browser_client.post(f"/incidents/{incident.pk}/evidence/deploys/", {"deploy": deploy.pk})
    assert response.status_code == 302
    assert DeployLink.objects.filter(incident=incident, deploy=deploy).exists()
    assert (
        browser_client.post(f"/incidents/{incident.pk}/evidence/deploys/", {"deploy": "x"}).status_code == 302
    )
    browser_client.post(f"/incidents/{incident.pk}/evidence/deploys/{deploy.pk}/unlink/")
    assert not DeployLink.objects.exists()


def test_a_dropped_image_is_stored_and_served_to_signed_in_people(browser_client, client):
    incident = IncidentFactory()
    upload = SimpleUploadedFile("errors.png", PNG, content_type="image/png")
    browser_client.post(f"/incidents/{incident.pk}/evidence/graphs/", {"image": upload})
    snapshot = GraphSnapshot.objects.get()
    assert snapshot.title == "errors.png"
    response = browser_client.get(f"/graphs/{snapshot.pk}/image")
    assert response.status_code == 200
    assert response["Content-Type"] == "image/png"
    assert b"".join(response.streaming_content) == PNG


def test_a_graph_form_with_a_bad_url_saves_nothing(browser_client):
    incident = IncidentFactory()
    response = browser_client.post(
        f"/incidents/{incident.pk}/evidence/graphs/", {"url": "javascript:alert(1)"}
    )
    # Shown again on the incident page, as typed, with the field's sentence.
    assert response.status_code == 400
    assert 'value="javascript:alert(1)"' in response.content.decode()
    assert "Graph URL: Enter a valid URL." in response.content.decode()
    assert not GraphSnapshot.objects.exists()


def test_a_pasted_log_is_previewed_then_imported(browser_client, sample):
    incident = IncidentFactory(impact_started_at=IMPACT)
    preview = browser_client.post(
        f"/incidents/{incident.pk}/evidence/chatlog/", {"text": sample("irc-warroom.log"), "time_zone": "UTC"}
    )
    html = preview.content.decode()
    assert "9 lines will be added" in html
    assert "this line has no time" in html
    assert not TimelineEvent.objects.exists()

    browser_client.post(
        f"/incidents/{incident.pk}/evidence/chatlog/",
        {"text": sample("irc-warroom.log"), "time_zone": "UTC", "action": "import"},
    )
    assert TimelineEvent.objects.count() == 9


def test_a_log_with_nothing_parseable_lists_its_lines(browser_client):
    incident = IncidentFactory()
    response = browser_client.post(f"/incidents/{incident.pk}/evidence/chatlog/", {"text": "hello there"})
    assert response.status_code == 400
    assert "hello there" in response.content.decode()
