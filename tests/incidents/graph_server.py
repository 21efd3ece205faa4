"""A tiny graph server on 127.0.0.1 for the snapshot tests: real sockets, no network."""

import contextlib
import http.server
import struct
import threading
import zlib


def tiny_png(width: int = 2, height: int = 2) -> bytes:
    """A valid grey PNG built with the standard library."""

    def chunk(kind: bytes, data: bytes) -> bytes:
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))

    rows = b"".join(b"\x00" + b"\x80" * width for _ in range(height))
    header = struct.pack(">IIBBBBB", width, height, 8, 0, 0, 0, 0)
    return (
        b"\x89PNG\r\n\x1a\n"
        + chunk(b"IHDR", header)
        + chunk(b"IDAT", zlib.compress(rows))
        + chunk(b"IEND", b"")
    )


PNG = tiny_png()
SVG = b'<?xml version="1.0"?><svg xmlns="http://www.w3.org/2000/svg"><script>alert(1)</script></svg>'


class Handler(http.server.BaseHTTPRequestHandler):
    requests: list  # (path, Host header) of every request, set per server

    def log_message(self, *args):
        pass

    def _send(self, status: int, body: bytes = b"", content_type: str = "image/png", headers=None):
        self.send_response(status)
        self.send_header("Content-Type", content_type)
        self.send_header("Content-Length", str(len(body)))
        for name, value in (headers or {}).items():
            self.send_header(name, value)
        self.end_headers()
        self.wfile.write(body)

    def do_GET(self):
        self.requests.append((self.path, self.headers.get("Host")))
        path = self.path.split("?")[0]
        if path in ("/graph.png", "/render", "/render/") or path.startswith("/render/d-solo/"):
            self._send(200, PNG)
        elif path == "/page" or path.startswith("/d/"):
            self._send(200, b"<!doctype html><html><body>Login</body></html>", "text/html")
        elif path == "/svg":
            self._send(200, SVG, "image/svg+xml")
        elif path == "/big":
            self.send_response(200)
            self.send_header("Content-Type", "image/png")
            self.end_headers()  # no Content-Length: the reader must stop by itself
            self.wfile.write(b"\x89PNG\r\n\x1a\n" + b"\x00" * (5 * 1024 * 1024 + 10))
        elif path == "/unavailable":
            self._send(503, b"busy", "text/plain")
        elif path == "/too-many":
            self._send(429, b"slow down", "text/plain", headers={"Retry-After": "30"})
        elif path == "/missing":
            self._send(404, b"no", "text/plain")
        elif path.startswith("/redirect-to/"):
            self._send(302, headers={"Location": self.path.removeprefix("/redirect-to/")})
        elif path == "/loop":
            self._send(302, headers={"Location": "/loop"})
        else:
            self._send(404, b"", "text/plain")


@contextlib.contextmanager
def graph_server():
    """Yields (base URL, requests seen); served from a thread on a free port."""
    requests: list = []
    handler = type("RecordingHandler", (Handler,), {"requests": requests})
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
    thread = threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.02}, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}", requests
    finally:
        server.shutdown()
        server.server_close()
