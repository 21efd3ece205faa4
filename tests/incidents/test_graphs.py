import datetime as dt
from urllib.parse import parse_qs, urlsplit

import pytest
import time_machine
from django.core.files.uploadedfile import SimpleUploadedFile

from incidents.fetch import FetchError
from incidents.models import EventKind, GraphSnapshot, SnapshotStatus, TimelineEvent
from incidents.services.graph import add_graph_snapshot, capture_graph_snapshot, requeue_lost_snapshots
from incidents.tasks.graph import capture_graph
from tests.factories import GraphSnapshotFactory, IncidentFactory, UserFactory
from tests.incidents.graph_server import PNG, SVG, graph_server

pytestmark = pytest.mark.django_db

IMPACT = dt.datetime(2026, 10, 3, 14, 0, tzinfo=dt.UTC)
NOW = dt.datetime(2026, 10, 3, 18, 0, tzinfo=dt.UTC)


@pytest.fixture
def server(settings):
    with graph_server() as (base, requests):
        settings.GRAPH_FETCH_ALLOWED_HOSTS = [base.removeprefix("http://")]
        yield base, requests


@pytest.fixture
def incident():
    return IncidentFactory(
        impact_started_at=IMPACT,
        detected_at=IMPACT + dt.timedelta(minutes=10),
        resolved_at=IMPACT + dt.timedelta(hours=1),
    )


@time_machine.travel(NOW, tick=False)
def test_a_graph_url_is_captured_by_the_task_and_stored(
    api, server, incident, django_capture_on_commit_callbacks
):
    base, _ = server
    with django_capture_on_commit_callbacks() as callbacks:
        response = api.post(
            f"/api/v1/incidents/{incident.pk}/graphs/",
            {"title": "5xx", "url": f"{base}/graph.png"},
            format="json",
        )
    assert response.status_code == 201, response.json()
    assert response.json()["status"] == "pending"
    assert len(callbacks) == 1  # the fetch is enqueued once the snapshot is committed

    assert capture_graph(response.json()["id"]) == "captured"
    snapshot = GraphSnapshot.objects.get()
    assert snapshot.status == SnapshotStatus.CAPTURED
    assert snapshot.content_type == "image/png"
    assert snapshot.size == len(PNG)
    assert snapshot.fetched_at == NOW
    with snapshot.image.open("rb") as stored:
        assert stored.read() == PNG
    body = api.get(f"/api/v1/incidents/{incident.pk}/graphs/{snapshot.pk}/").json()
    assert body["status"] == "captured"
    assert body["image_url"] == f"http://testserver/graphs/{snapshot.pk}/image"
    event = TimelineEvent.objects.get(incident=incident)
    assert (event.kind, event.link) == (EventKind.GRAPH, f"{base}/graph.png")


@time_machine.travel(NOW, tick=False)
def test_a_graphite_render_url_is_fetched_for_the_incident_window(server, incident):
    base, requests = server
    url = f"{base}/render?target=sumSeries(stats.web.*.http_5xx)&from=-1h&width=800"
    snapshot = add_graph_snapshot(incident=incident, title="5xx", url=url)
    assert snapshot.url == url
    capture_graph_snapshot(snapshot_id=snapshot.pk)

    query = parse_qs(urlsplit(requests[0][0]).query)
    assert query["from"] == [str(int((IMPACT - dt.timedelta(minutes=30)).timestamp()))]
    assert query["until"] == [str(int((IMPACT + dt.timedelta(minutes=90)).timestamp()))]
    assert query["target"] == ["sumSeries(stats.web.*.http_5xx)"]


@time_machine.travel(NOW, tick=False)
def test_an_unresolved_incident_is_graphed_up_to_now(server):
    base, _ = server
    incident = IncidentFactory(impact_started_at=IMPACT)
    snapshot = add_graph_snapshot(incident=incident, title="5xx", url=f"{base}/render?target=a.b&from=-1h")
    assert parse_qs(urlsplit(snapshot.fetch_url).query)["until"] == [str(int(NOW.timestamp()))]


def test_a_loopback_url_fails_with_a_readable_reason(incident, settings):
    settings.GRAPH_FETCH_ALLOWED_HOSTS = []
    snapshot = add_graph_snapshot(incident=incident, title="local", url="http://127.0.0.1:9/graph.png")
    capture_graph(snapshot.pk)
    snapshot.refresh_from_db()
    assert snapshot.status == SnapshotStatus.FAILED
    assert "loopback" in snapshot.failure_reason
    assert not snapshot.image


def test_a_non_image_url_fails(server, incident):
    base, _ = server
    snapshot = add_graph_snapshot(incident=incident, title="dashboard", url=f"{base}/page")
    capture_graph_snapshot(snapshot_id=snapshot.pk)
    snapshot.refresh_from_db()
    assert snapshot.status == SnapshotStatus.FAILED
    assert "web page" in snapshot.failure_reason


def test_a_transient_failure_is_retried_and_recorded_on_the_last_attempt(server, incident):
    base, _ = server
    snapshot = add_graph_snapshot(incident=incident, title="busy", url=f"{base}/unavailable")
    with pytest.raises(FetchError):
        capture_graph_snapshot(snapshot_id=snapshot.pk, final_attempt=False)
    snapshot.refresh_from_db()
    assert (snapshot.status, snapshot.attempts) == (SnapshotStatus.PENDING, 1)
    capture_graph_snapshot(snapshot_id=snapshot.pk, final_attempt=True)
    snapshot.refresh_from_db()
    assert snapshot.status == SnapshotStatus.FAILED
    assert "503" in snapshot.failure_reason


def test_the_task_asks_celery_to_retry_transient_failures(server, incident, monkeypatch):
    base, _ = server
    snapshot = add_graph_snapshot(incident=incident, title="busy", url=f"{base}/unavailable")
    retries = []

    def retry(**kwargs):
        retries.append(kwargs["countdown"])
        return RuntimeError("retry")

    monkeypatch.setattr(capture_graph, "retry", retry)
    with pytest.raises(RuntimeError):
        capture_graph(snapshot.pk)
    assert retries == [10]


def test_a_captured_snapshot_is_not_fetched_again(server, incident):
    base, requests = server
    snapshot = add_graph_snapshot(incident=incident, title="5xx", url=f"{base}/graph.png")
    capture_graph(snapshot.pk)
    assert capture_graph(snapshot.pk) == "skipped"
    assert len(requests) == 1


def test_an_uploaded_image_is_checked_and_kept_at_once(api, incident):
    upload = SimpleUploadedFile("graph.png", PNG, content_type="image/png")
    response = api.post(f"/api/v1/incidents/{incident.pk}/graphs/", {"title": "drop", "image": upload})
    assert response.status_code == 201, response.json()
    assert response.json()["status"] == "captured"
    assert response.json()["size"] == len(PNG)


def test_the_admin_links_a_stored_image_through_the_signed_in_view(api, client, incident):
    upload = SimpleUploadedFile("graph.png", PNG, content_type="image/png")
    snapshot_id = api.post(
        f"/api/v1/incidents/{incident.pk}/graphs/", {"title": "drop", "image": upload}
    ).json()["id"]
    client.force_login(UserFactory(is_staff=True, is_superuser=True))
    page = client.get(f"/admin/incidents/graphsnapshot/{snapshot_id}/change/").content.decode()
    assert f'href="/graphs/{snapshot_id}/image"' in page
    assert "/media/" not in page
    assert b"".join(client.get(f"/graphs/{snapshot_id}/image").streaming_content) == PNG


def test_an_uploaded_svg_is_refused_and_nothing_is_saved(api, incident):
    upload = SimpleUploadedFile("graph.svg", SVG, content_type="image/svg+xml")
    response = api.post(f"/api/v1/incidents/{incident.pk}/graphs/", {"title": "drop", "image": upload})
    assert response.status_code == 400
    assert "SVG" in response.json()["errors"]["image"][0]
    assert not GraphSnapshot.objects.exists()
    assert not TimelineEvent.objects.exists()


@pytest.mark.parametrize(
    ("payload", "field"),
    [
        ({"title": "x", "url": "not a url"}, "url"),
        ({"title": "x", "url": "ftp://graphs.example.com/a.png"}, "url"),
        ({"title": "x"}, "url"),
        ({"url": "https://graphs.example.com/a.png"}, "title"),
    ],
)
def test_bad_graph_requests_are_refused_naming_the_field(api, incident, payload, field):
    response = api.post(f"/api/v1/incidents/{incident.pk}/graphs/", payload, format="json")
    assert response.status_code == 400
    assert field in response.json()["errors"]


def test_a_snapshot_can_be_pinned_to_a_timeline_moment(api, incident):
    moment = "2026-10-03T14:05:00+00:00"
    response = api.post(
        f"/api/v1/incidents/{incident.pk}/graphs/",
        {"title": "x", "url": "https://graphs.example.com/a.png", "pinned_at": moment},
        format="json",
    )
    assert response.json()["pinned_at"] == "2026-10-03T14:05:00Z"
    assert TimelineEvent.objects.get().occurred_at == dt.datetime.fromisoformat(moment)


def test_lost_snapshots_are_requeued_and_hopeless_ones_given_up(incident, monkeypatch):
    from morgue.celery import app

    queued = []
    monkeypatch.setattr(app, "send_task", lambda name, args: queued.append((name, *args)))
    lost = GraphSnapshotFactory(incident=incident, created_at=NOW - dt.timedelta(hours=1))
    hopeless = GraphSnapshotFactory(incident=incident, created_at=NOW - dt.timedelta(hours=1), attempts=8)
    GraphSnapshotFactory(incident=incident, created_at=NOW)

    assert requeue_lost_snapshots(now=NOW) == [lost.pk]
    assert queued == [("incidents.tasks.graph.capture_graph", lost.pk)]
    hopeless.refresh_from_db()
    assert hopeless.status == SnapshotStatus.FAILED


def test_a_snapshot_can_be_pinned_later_and_its_timeline_entry_moves(api, incident):
    snapshot = add_graph_snapshot(incident=incident, title="x", url="https://graphs.example.com/a.png")
    url = f"/api/v1/incidents/{incident.pk}/graphs/{snapshot.pk}/"
    response = api.patch(url, {"pinned_at": "2026-10-03T14:20:00Z"}, format="json")
    assert response.status_code == 200
    assert TimelineEvent.objects.get().occurred_at == IMPACT + dt.timedelta(minutes=20)
    assert api.patch(url, {"pinned_at": "soon"}, format="json").status_code == 400
    assert api.get(f"/api/v1/incidents/{incident.pk}/graphs/999999/").status_code == 404


@time_machine.travel(NOW, tick=False)
def test_a_grafana_panel_link_is_captured_as_the_panels_image_for_the_incident_window(server, incident):
    base, requests = server
    url = f"{base}/d/Kx7bT2/checkout?orgId=1&viewPanel=4&from=now-6h&to=now"
    snapshot = add_graph_snapshot(incident=incident, title="checkout", url=url)
    assert snapshot.url == url

    assert capture_graph_snapshot(snapshot_id=snapshot.pk).status == SnapshotStatus.CAPTURED

    path, _, query_string = requests[0][0].partition("?")
    query = parse_qs(query_string)
    assert path == "/render/d-solo/Kx7bT2/checkout"
    assert query["panelId"] == ["4"]
    assert query["from"] == [str(int((IMPACT - dt.timedelta(minutes=30)).timestamp()) * 1000)]
    assert query["to"] == [str(int((IMPACT + dt.timedelta(minutes=90)).timestamp()) * 1000)]


@time_machine.travel(NOW, tick=False)
def test_a_grafana_link_to_a_host_not_allowed_is_still_refused(settings, incident):
    settings.GRAPH_FETCH_ALLOWED_HOSTS = []
    snapshot = add_graph_snapshot(
        incident=incident, title="checkout", url="http://127.0.0.1:3000/d/Kx7bT2/checkout?orgId=1&viewPanel=4"
    )
    assert snapshot.fetch_url.startswith("http://127.0.0.1:3000/render/d-solo/Kx7bT2/checkout?")

    captured = capture_graph_snapshot(snapshot_id=snapshot.pk)

    assert captured.status == SnapshotStatus.FAILED
    assert not captured.image
