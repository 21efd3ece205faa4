"""A loopback stand-in for each vendor's API, serving the fixture directory as that API does.

Each request must carry the vendor's own auth header; lists are paginated
the vendor's way, so the importer's pagination is exercised:
- PagerDuty (developer.pagerduty.com, "Pagination"): `limit`/`offset` in the
  query, `more` in the answer; auth `Authorization: Token token=<key>`.
- Opsgenie (docs.opsgenie.com, "Pagination" of the list APIs): `limit`/`offset`,
  the answer's `paging.next` while more follow; auth `Authorization: GenieKey <key>`.
- Grafana OnCall (its HTTP API reference): `results`, with a `next` link to
  `?page=N` while more follow; auth `Authorization: <token>`.
"""

import http.server
import json
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import parse_qs, urlsplit

AUTH = {"pagerduty": "Token token={token}", "opsgenie": "GenieKey {token}", "grafana-oncall": "{token}"}
GRAFANA_PAGE_SIZE = 2
# The list key of each PagerDuty answer that paginates.
PAGINATED = {"users", "schedules", "escalation_policies", "incidents", "overrides"}


@dataclass
class VendorFake:
    url: str
    requests: list[str] = field(default_factory=list)
    pages_served: int = 0


@contextmanager
def vendor_api(source: str, directory: Path, token: str) -> Iterator[VendorFake]:
    fake = VendorFake(url="")
    expected = AUTH[source].format(token=token)

    class Handler(http.server.BaseHTTPRequestHandler):
        def do_GET(self) -> None:
            parts = urlsplit(self.path)
            fake.requests.append(self.path)
            if self.headers.get("Authorization") != expected:
                return self.answer(401, {"error": {"message": "Unauthorized", "code": 2006}})
            file = directory / (parts.path.strip("/") + ".json")
            if not file.is_file() and parts.path.endswith("/"):
                return self.answer(404, {"detail": "Not found."})
            if not file.is_file():
                return self.answer(404, {"error": {"message": "Not Found", "code": 2100}})
            body = json.loads(file.read_text())
            query = parse_qs(parts.query)
            limit, offset = int(query.get("limit", ["0"])[0]), int(query.get("offset", ["0"])[0])
            if source == "pagerduty":
                key = next((name for name in PAGINATED if isinstance(body.get(name), list)), None)
                if key is not None and limit:
                    items = body[key]
                    body = {**body, key: items[offset : offset + limit], "limit": limit, "offset": offset}
                    body["more"] = offset + limit < len(items)
                    fake.pages_served += 1
            elif source == "grafana-oncall" and isinstance(body.get("results"), list):
                number = int(query.get("page", ["1"])[0])
                items = body["results"]
                start = (number - 1) * GRAFANA_PAGE_SIZE
                more = start + GRAFANA_PAGE_SIZE < len(items)
                host = self.headers.get("Host")
                link = f"http://{host}{parts.path}?page={number + 1}" if more else None
                body = {**body, "results": items[start : start + GRAFANA_PAGE_SIZE], "next": link}
                fake.pages_served += 1
            elif isinstance(body.get("data"), list) and limit:
                items = body["data"]
                more = offset + limit < len(items)
                base = f"https://api.opsgenie.com{parts.path}"
                paging = {"first": f"{base}?offset=0&limit={limit}"}
                if more:
                    paging["next"] = f"{base}?offset={offset + limit}&limit={limit}"
                body = {**body, "data": items[offset : offset + limit], "paging": paging}
                fake.pages_served += 1
            self.answer(200, body)

        def answer(self, status: int, body: dict) -> None:
            data = json.dumps(body).encode()
            self.send_response(status)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(data)))
            self.end_headers()
            self.wfile.write(data)

        def log_message(self, *args) -> None:
            pass

    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    fake.url = f"http://127.0.0.1:{server.server_address[1]}"
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield fake
    finally:
        server.shutdown()
        server.server_close()
