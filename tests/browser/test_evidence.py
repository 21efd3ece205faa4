"""From the browser: the deploy log, linking the culprit deploy, a captured Graphite graph, a war-room log."""

import datetime as dt

import pytest
from django.http import HttpResponse
from django.shortcuts import get_object_or_404
from django.template import RequestContext, Template
from django.urls import path
from playwright.sync_api import expect

from incidents.models import DeployLink, EventKind, GraphSnapshot, Incident, TimelineEvent
from incidents.selectors.evidence import evidence_panel
from incidents.tasks.graph import capture_graph
from morgue.urls import urlpatterns as site_urlpatterns
from tests.factories import DeployFactory, IncidentFactory, ProfileFactory, UserFactory, responder
from tests.incidents.graph_server import graph_server

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True), pytest.mark.urls(__name__)]

PANEL = Template(
    '{% extends "base.html" %}{% block content %}<h1>{{ incident.title }}</h1>'
    '{% include "incidents/_evidence.html" %}{% endblock %}'
)


def evidence_page(request, incident_id: int) -> HttpResponse:
    """The evidence panel on a bare page, as the incident page includes it."""
    incident = get_object_or_404(Incident, pk=incident_id)
    context = {"incident": incident, "evidence": evidence_panel(incident=incident)}
    return HttpResponse(PANEL.render(RequestContext(request, context)))


urlpatterns = [path("evidence-panel/<int:incident_id>/", evidence_page), *site_urlpatterns]


def test_link_the_deploy_add_a_graph_and_import_the_war_room_log(page, live_server, login, settings, sample):
    responder(ProfileFactory(user=UserFactory(username="pat"), time_zone="UTC").user)
    impact = dt.datetime(2026, 10, 3, 14, 0, tzinfo=dt.UTC)
    incident = IncidentFactory(
        title="Listings 500s",
        impact_started_at=impact,
        detected_at=impact + dt.timedelta(minutes=2),
        resolved_at=impact + dt.timedelta(minutes=15),
    )
    culprit = DeployFactory(
        started_at=impact - dt.timedelta(minutes=4),
        deployer="rlee",
        old_revision="3ee7f99bb3",
        new_revision="4add615720",
    )
    DeployFactory(started_at=impact - dt.timedelta(days=1), deployer="akim", environment="qa")
    panel = f"{live_server.url}/evidence-panel/{incident.pk}/"
    login("pat")

    # The deploy log, newest first.
    page.goto(f"{live_server.url}/deploys/")
    rows = page.locator("table.deploy-log tbody tr")
    expect(rows).to_have_count(2)
    expect(rows.first).to_contain_text("3ee7f99bb3 → 4add615720")
    expect(rows.first).to_contain_text("rlee")
    page.select_option("#id_environment", "qa")
    page.click("text=Filter")
    expect(rows).to_have_count(1)
    expect(rows.first).to_contain_text("akim")

    # One click links the suggested deploy.
    page.goto(panel)
    page.get_by_role("button", name=f"Link deploy {culprit.summary()}").click()
    page.wait_for_load_state()
    assert DeployLink.objects.filter(incident=incident, deploy=culprit).exists()
    page.goto(panel)
    expect(page.locator(".linked-deploys")).to_contain_text("4add615720")

    # A Graphite graph from a metrics server allowed by the setting, captured for the incident window.
    with graph_server() as (base, requests):
        settings.GRAPH_FETCH_ALLOWED_HOSTS = [base.removeprefix("http://")]
        page.fill("#graph-title", "5xx per minute")
        page.fill("#graph-url", f"{base}/render?target=sumSeries(stats.web.*.http_5xx)&from=-1h")
        page.click("text=Add graph")
        page.wait_for_load_state()
        snapshot = GraphSnapshot.objects.get(incident=incident)
        capture_graph(snapshot.pk)  # what the worker does
        assert f"from={int((impact - dt.timedelta(minutes=30)).timestamp())}" in requests[0][0]
    page.goto(panel)
    figure = page.locator(f"#graph-{snapshot.pk}")
    expect(figure).to_contain_text("Captured")
    expect(figure.get_by_role("link", name="Live graph")).to_be_visible()
    # The stored image loads lazily: scrolled to, it must arrive and decode.
    image = figure.locator("img")
    image.scroll_into_view_if_needed()
    page.wait_for_function(
        "image => image.complete && image.naturalWidth > 0", arg=image.element_handle(), timeout=10_000
    )

    # A war-room log: preview first, then import.
    page.fill("#chatlog-text", sample("irc-warroom.log"))
    page.fill("#chatlog-zone", "UTC")
    page.click("text=Preview")
    expect(page.locator("main")).to_contain_text("9 lines will be added")
    expect(page.locator("table.unparsed")).to_contain_text("this line has no time")
    page.click("text=Import 9 lines")
    expect(page.locator(".messages")).to_contain_text("Imported 9 lines into the timeline")
    assert TimelineEvent.objects.filter(incident=incident, kind=EventKind.COMMUNICATION).count() == 9


def test_a_slack_export_zip_on_a_phone_then_a_log_with_far_dates(page, live_server, login):
    from tests.incidents.slack_zip import message, slack_zip

    responder(ProfileFactory(user=UserFactory(username="sam"), time_zone="UTC").user)
    impact = dt.datetime(2026, 11, 27, 13, 55, tzinfo=dt.UTC)
    incident = IncidentFactory(
        title="Checkout down", impact_started_at=impact, resolved_at=impact + dt.timedelta(hours=1)
    )
    export = slack_zip(
        {
            "warroom/2026-11-27": [
                message(
                    60,
                    "checkout is timing out, <@U02BOB> see "
                    "<https://grafana.example.com/d/Kx7bT2/checkout?orgId=1&viewPanel=4|the latency panel>",
                    user="U01ALICE",
                ),
                message(120, "on it", user="U02BOB"),
            ],
            "general/2026-11-27": [message(0, "lunch?", user="U02BOB")],
        }
    )
    page.set_viewport_size({"width": 390, "height": 844})
    login("sam")
    page.goto(f"{live_server.url}/evidence-panel/{incident.pk}/")
    page.set_input_files(
        "#chatlog-file", files=[{"name": "export.zip", "mimeType": "application/zip", "buffer": export}]
    )
    page.fill("#chatlog-zone", "UTC")
    page.click("text=Preview")
    expect(page.locator("main")).to_contain_text("#warroom")
    expect(page.locator("main")).to_contain_text("2 lines will be added")
    expect(page.locator("table.chatlog-preview")).to_contain_text("Bob Lee")
    # No sideways scroll at 390 px, long links and all.
    page.wait_for_load_state("load")  # the stylesheets, not only the text
    assert page.evaluate("document.documentElement.scrollWidth <= document.documentElement.clientWidth")
    page.click("text=Import 2 lines")
    expect(page.locator(".messages")).to_contain_text("Imported 2 lines into the timeline")
    assert list(TimelineEvent.objects.filter(incident=incident).values_list("speaker", flat=True)) == [
        "alice",
        "Bob Lee",
    ]

    # A weechat log from the wrong year: reported, and imported only once the box is ticked.
    page.goto(f"{live_server.url}/evidence-panel/{incident.pk}/")
    page.fill("#chatlog-text", "2017-11-27 14:02:11\tcarol\tlast year's log\n")
    page.click("text=Preview")
    expect(page.locator("main")).to_contain_text("1 line is dated 2017; the incident is in 2026.")
    page.click("text=Import 1 line")
    expect(page.locator("p.error[role=alert]")).to_contain_text(
        "1 line is dated 2017; the incident is in 2026."
    )
    page.check("input[name=confirm_dates]")
    page.click("text=Import 1 line")
    expect(page.locator(".messages")).to_contain_text("Imported 1 line into the timeline")
