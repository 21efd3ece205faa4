"""Local stand-ins for the providers a notification goes out through: a tiny threaded HTTP server.

Each fake answers as the provider's published API does (cited where used)
and records every request, so a test checks the request's shape.
"""

import http.server
import json
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field


@dataclass
class Received:
    method: str
    path: str
    headers: dict[str, str]
    body: bytes


@dataclass
class Fake:
    url: str
    requests: list[Received] = field(default_factory=list)
    # What to answer: (status, JSON body); the last one repeats.
    answers: list[tuple[int, dict]] = field(default_factory=lambda: [(200, {})])


@contextmanager
def fake_server() -> Iterator[Fake]:
    fake = Fake(url="")

    class Handler(http.server.BaseHTTPRequestHandler):
        def do_POST(self) -> None:
            length = int(self.headers.get("Content-Length", 0))
            fake.requests.append(
                Received(
                    "POST",
                    self.path,
                    dict(self.headers.items()),
                    self.rfile.read(length),
                )
            )
            status, body = fake.answers.pop(0) if len(fake.answers) > 1 else fake.answers[0]
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
