"""Local stand-ins for the providers a notification goes out through: a tiny threaded HTTP server.

Each fake answers as the provider's published API does (cited where used)
and records every request, so a test checks the request's shape.
"""

import http.server
import json
import select
import socket
import threading
import time
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
    # Seconds to think before answering (a slow provider): the last one repeats.
    delays: list[float] = field(default_factory=lambda: [0.0])
    # Requests the fake took: answered while their caller still waited. A caller that
    # hung up (timed out, or was killed) before the answer got nothing created.
    accepted: list[Received] = field(default_factory=list)
    lock: threading.Lock = field(default_factory=threading.Lock)


@contextmanager
def fake_server() -> Iterator[Fake]:
    fake = Fake(url="")

    class Handler(http.server.BaseHTTPRequestHandler):
        def do_POST(self) -> None:
            length = int(self.headers.get("Content-Length", 0))
            received = Received("POST", self.path, dict(self.headers.items()), self.rfile.read(length))
            with fake.lock:
                fake.requests.append(received)
                delay = fake.delays.pop(0) if len(fake.delays) > 1 else fake.delays[0]
                status, body = fake.answers.pop(0) if len(fake.answers) > 1 else fake.answers[0]
            if delay:
                time.sleep(delay)
                if self._caller_left():
                    return
            if status < 300:
                with fake.lock:
                    fake.accepted.append(received)
            data = json.dumps(body).encode()
            self.send_response(status)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(data)))
            self.end_headers()
            self.wfile.write(data)

        def _caller_left(self) -> bool:
            readable, _, _ = select.select([self.connection], [], [], 0)
            try:
                return bool(readable) and not self.connection.recv(1, socket.MSG_PEEK)
            except OSError:
                return True

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
