"""Grafana links pinned to the incident window and turned into image-renderer URLs.

Shapes from Grafana's "Share a panel" docs
(https://grafana.com/docs/grafana/v7.5/sharing/share-panel/): the direct link
`/d/<uid>/<slug>?orgId=1&viewPanel=<id>`, the embed `/d-solo/<uid>/<slug>?panelId=<id>`,
and the rendered image `/render/d-solo/…?panelId=<id>&width=…&height=…&tz=…`, whose
example carries `from=1568719680173&to=1568726880174`: epoch milliseconds.
"""

import datetime as dt
from urllib.parse import parse_qs, urlsplit

import pytest

from incidents.grafana import is_grafana_url, pin_to_window

START = dt.datetime(2026, 10, 3, 13, 30, tzinfo=dt.UTC)
END = dt.datetime(2026, 10, 3, 15, 0, tzinfo=dt.UTC)
FROM_MS, TO_MS = str(int(START.timestamp()) * 1000), str(int(END.timestamp()) * 1000)


def pinned(url: str) -> tuple[str, dict[str, list[str]]]:
    parts = urlsplit(pin_to_window(url, start=START, end=END))
    return parts.path, parse_qs(parts.query)


def test_a_render_link_with_relative_times_is_pinned_in_milliseconds():
    path, query = pinned(
        "https://grafana.example.com/render/d-solo/Kx7bT2/checkout?orgId=1&panelId=2"
        "&from=now-6h&to=now&width=800&height=300&tz=Europe%2FParis"
    )
    assert path == "/render/d-solo/Kx7bT2/checkout"
    assert query == {
        "orgId": ["1"],
        "panelId": ["2"],
        "from": [FROM_MS],
        "to": [TO_MS],
        "width": ["800"],
        "height": ["300"],
        "tz": ["Europe/Paris"],
    }


def test_a_dashboard_panel_link_becomes_the_panels_image():
    path, query = pinned(
        "https://grafana.example.com/d/Kx7bT2/checkout?orgId=1&viewPanel=4&from=now-1h&to=now&var-env=prod&refresh=30s"
    )
    assert path == "/render/d-solo/Kx7bT2/checkout"
    assert query == {
        "orgId": ["1"],
        "panelId": ["4"],
        "var-env": ["prod"],
        "from": [FROM_MS],
        "to": [TO_MS],
        "width": ["1000"],
        "height": ["500"],
    }


def test_an_embed_link_under_a_sub_path_keeps_the_sub_path():
    path, query = pinned("https://example.com/grafana/d-solo/Kx7bT2/checkout?orgId=1&panelId=7")
    assert path == "/grafana/render/d-solo/Kx7bT2/checkout"
    assert query["panelId"] == ["7"]
    assert (query["from"], query["to"]) == ([FROM_MS], [TO_MS])


def test_a_whole_dashboard_link_renders_the_dashboard():
    path, query = pinned("https://grafana.example.com/d/Kx7bT2/checkout?orgId=1&from=now-24h&to=now")
    assert path == "/render/d/Kx7bT2/checkout"
    assert "panelId" not in query
    assert (query["from"], query["to"]) == ([FROM_MS], [TO_MS])


@pytest.mark.parametrize(
    "url",
    [
        "https://cdn.example.com/d/abc/graph.png",
        "https://cdn.example.com/d/abc",
        "http://graphite.internal/render?target=a.b&from=-1h",
        "https://grafana.example.com/dashboards",
    ],
)
def test_other_urls_are_left_as_given(url):
    assert not is_grafana_url(url)
    assert pin_to_window(url, start=START, end=END) == url


def test_a_grafana_11_panel_name_is_given_to_the_renderer_as_its_number():
    path, query = pinned("https://grafana.example.com/d/Kx7bT2/checkout?orgId=1&viewPanel=panel-12")
    assert path == "/render/d-solo/Kx7bT2/checkout"
    assert query["panelId"] == ["12"]
