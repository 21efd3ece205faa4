import datetime as dt
from urllib.parse import parse_qs, urlsplit

from incidents.graphite import is_render_url, pin_to_window

START = dt.datetime(2026, 10, 3, 13, 30, tzinfo=dt.UTC)
END = dt.datetime(2026, 10, 3, 15, 0, tzinfo=dt.UTC)


def test_every_sample_render_url_is_pinned_to_the_window(sample):
    urls = [line for line in sample("graphite-render-urls.txt").splitlines() if line.startswith("http")]
    assert len(urls) == 3
    for url in urls:
        assert is_render_url(url)
        query = parse_qs(urlsplit(pin_to_window(url, start=START, end=END)).query)
        assert query["from"] == [str(int(START.timestamp()))]
        assert query["until"] == [str(int(END.timestamp()))]
        assert query["target"] == parse_qs(urlsplit(url).query)["target"]


def test_other_query_parameters_are_kept():
    pinned = pin_to_window(
        "http://graphite.internal/render?target=a.b&from=-6h&until=now&format=png&width=800",
        start=START,
        end=END,
    )
    query = parse_qs(urlsplit(pinned).query)
    assert query["format"] == ["png"]
    assert query["width"] == ["800"]


def test_urls_that_are_not_graphite_renders_are_unchanged():
    for url in ("https://grafana.example.com/d/abc?from=now-1h", "http://graphite.internal/render?from=-1h"):
        assert not is_render_url(url)
        assert pin_to_window(url, start=START, end=END) == url
