"""Debian's Prometheus scrapes a live Morgue's /metrics with the README's scrape configuration."""

import json
import urllib.parse
import urllib.request

import pytest

from .conftest import Daemon, free_port, need, readme_block, wait_for

pytestmark = [pytest.mark.integration, pytest.mark.django_db(transaction=True)]

TOKEN = "scrape-token-for-the-test"


def query(prometheus: str, expression: str) -> list[dict]:
    url = f"{prometheus}/api/v1/query?" + urllib.parse.urlencode({"query": expression})
    with urllib.request.urlopen(url, timeout=5) as response:  # noqa: S310 (loopback)
        return json.load(response)["data"]["result"]


def test_prometheus_scrapes_morgue_with_the_token(live_server, daemons, tmp_path, settings, client):
    binary = need("prometheus", "prometheus")
    # From loopback the token is not needed; refuse loopback so that only the token lets Prometheus in.
    settings.METRICS_ALLOWED_NETWORKS = []
    settings.METRICS_TOKEN = TOKEN
    target = live_server.url.removeprefix("http://")
    scrape = (
        readme_block("job_name: morgue")
        .replace("the METRICS_TOKEN value", TOKEN)
        .replace('["web1:8000", "web2:8000"]', f'["{target}"]')
    )
    assert f'credentials: "{TOKEN}"' in scrape and target in scrape, scrape
    config = tmp_path / "prometheus.yml"
    config.write_text("global: {scrape_interval: 1s}\n" + scrape)
    port = free_port()
    daemons.append(
        Daemon(
            "prometheus",
            [
                binary,
                f"--config.file={config}",
                f"--storage.tsdb.path={tmp_path / 'prometheus-data'}",
                f"--web.listen-address=127.0.0.1:{port}",
            ],
            tmp_path / "prometheus.log",
        )
    )
    prometheus = f"http://127.0.0.1:{port}"

    def scraped():
        try:
            result = query(prometheus, 'morgue_http_requests_total{view="metrics",status="200"}')
        except OSError:
            return None
        return result if result and float(result[0]["value"][1]) >= 2 else None

    wait_for("Prometheus to scrape Morgue twice", scraped, daemons=daemons)
    [up] = query(prometheus, 'up{job="morgue"}')
    assert up["value"][1] == "1"
    # The readings and the histogram arrive whole, in a format Prometheus parsed.
    assert query(prometheus, "morgue_queue_oldest_task_age_seconds")
    assert query(prometheus, 'morgue_http_request_duration_seconds_bucket{view="metrics",le="+Inf"}')
    # Without the token, Morgue refuses the same address.
    assert client.get("/metrics").status_code == 403
