"""A client sending a byte at a time holds one gunicorn worker for at most `--timeout` seconds.

gunicorn runs here exactly as the README's production block says, but with
its `--timeout` shortened so the test takes seconds: the sync worker reading
a slow request is killed and replaced once it has been silent that long, and
the other worker answers everyone else meanwhile.
"""

import os
import re
import socket
import subprocess
import threading
import time
import urllib.error
import urllib.request

import pytest

from .stack import ROOT, production_commands, program_argv

TIMEOUT = 4  # seconds, instead of the README's 30
# A well-formed CSRF cookie: Django's CSRF check then reads the form body, so the slow body is read.
CSRF_COOKIE = "csrftoken=" + "a" * 32


def _status(port: int, path: str) -> int:
    request = urllib.request.Request(f"http://127.0.0.1:{port}{path}")
    opener = urllib.request.build_opener(NoRedirect)
    try:
        with opener.open(request, timeout=10) as response:
            return response.status
    except urllib.error.HTTPError as error:
        return error.code


class NoRedirect(urllib.request.HTTPRedirectHandler):
    def redirect_request(self, *args, **kwargs):
        return None


def _trickle(port: int, request: bytes, *, before: bytes = b"") -> tuple[float, bytes]:
    """Send `before`, then `request` a byte every 0.2 s: the seconds until the server hung up, its answer."""
    started = time.monotonic()
    answer = b""
    with socket.create_connection(("127.0.0.1", port), timeout=30) as connection:
        try:
            connection.sendall(before)
            for byte in request:
                connection.sendall(bytes([byte]))
                connection.settimeout(0.2)
                try:
                    data = connection.recv(4096)
                except TimeoutError:
                    continue
                answer += data
                if not data:
                    break
            connection.settimeout(30)
            while data := connection.recv(4096):
                answer += data
        except OSError:  # reset by the worker being killed
            pass
    return time.monotonic() - started, answer


@pytest.fixture
def gunicorn(tmp_path):
    command = production_commands()["gunicorn"]
    assert "--worker-class sync" in command and re.search(r"--timeout \d+ ", command), command
    port = _free_port()
    argv = program_argv(command.replace("0.0.0.0:8000", f"127.0.0.1:{port}"))
    argv[argv.index("--workers") + 1] = "2"
    argv[argv.index("--timeout") + 1] = str(TIMEOUT)
    environment = {
        **{key: value for key, value in os.environ.items() if not key.startswith(("DJANGO_", "PYTEST"))},
        "DJANGO_SETTINGS_MODULE": "morgue.settings",
        "DEBUG": "0",
        "SECRET_KEY": "slow-clients-test-not-a-secret",
        "ALLOWED_HOSTS": "127.0.0.1",
        # Nothing here reads the database: signed-out pages redirect before any query.
        "DATABASE_URL": f"sqlite:///{tmp_path / 'empty.sqlite3'}",
        "CELERY_BROKER_URL": "memory://",
        "SECURE_SSL_REDIRECT": "0",
        "MORGUE_VAR_DIR": str(tmp_path / "var"),
        "STATIC_ROOT": str(tmp_path / "static"),
    }
    log = (tmp_path / "gunicorn.log").open("wb")
    server = subprocess.Popen(argv, cwd=ROOT, env=environment, stdout=log, stderr=subprocess.STDOUT)
    try:
        deadline = time.monotonic() + 60
        while True:
            try:
                if _status(port, "/incidents/") == 302:
                    break
            except OSError:
                pass
            assert server.poll() is None and time.monotonic() < deadline, (
                tmp_path / "gunicorn.log"
            ).read_text()
            time.sleep(0.2)
        yield port, tmp_path / "gunicorn.log"
    finally:
        server.terminate()
        server.wait(timeout=20)
        log.close()


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def _served_meanwhile(port: int, slow) -> tuple[float, bytes, list[int]]:
    """Run the slow client; meanwhile fetch a page every 0.2 s. Its time, its answer, the others' statuses."""
    result: dict[str, tuple[float, bytes]] = {}
    thread = threading.Thread(target=lambda: result.setdefault("slow", slow()))
    thread.start()
    time.sleep(0.5)  # the slow client has its worker
    statuses = []
    while thread.is_alive():
        statuses.append(_status(port, "/incidents/"))
        time.sleep(0.2)
    thread.join()
    return *result["slow"], statuses


def test_a_client_sending_its_headers_a_byte_at_a_time_is_cut_off_at_the_timeout(gunicorn):
    port, log = gunicorn
    request = b"GET /incidents/ HTTP/1.1\r\nHost: 127.0.0.1\r\n" + b"X-Slow: " + b"z" * 200 + b"\r\n\r\n"

    held, answer, others = _served_meanwhile(port, lambda: _trickle(port, request))

    print(
        f"\nslow headers: held a worker {held:.1f} s (timeout {TIMEOUT} s);"
        f" {len(others)} other requests meanwhile, answered {set(others)}"
    )
    assert held < TIMEOUT + 6  # sending it all would take 50 s: cut off, on a busy machine too
    assert not re.match(rb"HTTP/1.1 [23]", answer), answer[:100]
    assert len(others) >= 3 and set(others) == {302}
    assert "WORKER TIMEOUT" in log.read_text()


def test_a_client_sending_its_body_a_byte_at_a_time_is_cut_off_at_the_timeout(gunicorn):
    port, log = gunicorn
    body = b"username=ana&password=" + b"p" * 200
    head = (
        b"POST /accounts/login/ HTTP/1.1\r\nHost: 127.0.0.1\r\n"
        b"Content-Type: application/x-www-form-urlencoded\r\n"
        b"Cookie: " + CSRF_COOKIE.encode() + b"\r\nContent-Length: " + str(len(body)).encode() + b"\r\n\r\n"
    )

    held, answer, others = _served_meanwhile(port, lambda: _trickle(port, body, before=head))

    print(
        f"\nslow body: held a worker {held:.1f} s (timeout {TIMEOUT} s);"
        f" {len(others)} other requests meanwhile, answered {set(others)}"
    )
    assert held < TIMEOUT + 6  # sending it all would take 44 s
    assert not re.match(rb"HTTP/1.1 [23]", answer), answer[:100]
    assert len(others) >= 3 and set(others) == {302}
    assert "WORKER TIMEOUT" in log.read_text()
