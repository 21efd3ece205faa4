"""A production-shaped Morgue on loopback: its own PostgreSQL and Redis, two gunicorns, workers and beat.

Everything is started from the README's production commands, in a temporary
folder, on free ports; nothing touches the machine's own PostgreSQL or Redis,
so the rehearsal can stop and restart them.
"""

import asyncio
import contextlib
import json
import os
import re
import select
import shlex
import shutil
import signal
import socket
import subprocess
import threading
import time
import urllib.error
import urllib.parse
import urllib.request
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import TypeVar

import psycopg
import pytest
from aiosmtpd.controller import Controller

from tests.integration.conftest import Daemon, free_port, need, readme_block

ROOT = Path(__file__).resolve().parents[2]
PYTHON_BIN = Path(ROOT / ".venv" / "bin")
PASSWORD = "rehearsal-password-1"
T = TypeVar("T")
# A PNG's signature and enough bytes to look like a small graph.
PNG = b"\x89PNG\r\n\x1a\n" + bytes(range(256)) * 16


def postgres_bin(program: str) -> str:
    found = sorted(Path("/usr/lib/postgresql").glob(f"*/bin/{program}"))
    if not found:
        return need(program, "postgresql")
    return str(found[-1])


def wait_until(what: str, probe: Callable[[], T | None], timeout: float, logs: Callable[[], str]) -> T:
    deadline = time.monotonic() + timeout
    while True:
        result = probe()
        if result:
            return result
        if time.monotonic() > deadline:
            pytest.fail(f"Timed out after {timeout:.0f} s waiting for {what}\n{logs()}")
        time.sleep(0.25)


# --- Outside the application: a mail server and a graph server --------------------------------------


class Mailbox:
    """An SMTP server on loopback that keeps every message it accepted.

    Messages whose subject contains `slow[0]` are answered after `slow[1]`
    seconds, so a sender can be killed mid-send; such a message counts as
    accepted only if the 250 reached a client still waiting for it (one whose
    sender died is `abandoned`), as a real mail server's delivery would.
    """

    def __init__(self) -> None:
        self.messages: list[tuple[str, str]] = []  # (recipient, subject)
        self.abandoned: list[tuple[str, str]] = []
        self.slow: tuple[str, float] = ("", 0.0)
        self.in_flight: dict[int, str] = {}  # a slow message's client port: its subject
        self.lock = threading.Lock()
        self.controller = Controller(self, hostname="127.0.0.1", port=free_port())

    async def handle_DATA(self, server, session, envelope):
        text = envelope.content.decode("utf-8", "replace")
        found = re.search(r"^Subject: (.*)$", text, flags=re.M)
        subject = found.group(1).strip() if found else ""
        keys = [(recipient, subject) for recipient in envelope.rcpt_tos]
        marker, delay = self.slow
        if marker and marker in subject:
            port = session.peer[1]
            with self.lock:
                self.in_flight[port] = subject
            try:
                await asyncio.sleep(delay)
            except asyncio.CancelledError:  # the client went away: aiosmtpd cancels its handler
                with self.lock:
                    self.abandoned.extend(keys)
                raise
            finally:
                with self.lock:
                    self.in_flight.pop(port, None)
            if server.transport is None or server.transport.is_closing():
                with self.lock:
                    self.abandoned.extend(keys)
                return "451 The client left"
        with self.lock:
            self.messages.extend(keys)
        return "250 Message accepted for delivery"

    def sending_from(self) -> list[int]:
        """The client ports of slow messages being received now."""
        with self.lock:
            return list(self.in_flight)

    def count(self) -> Counter:
        with self.lock:
            return Counter(self.messages)


class GraphServer(ThreadingHTTPServer):
    """Serves one PNG at /render.png, as a Grafana render endpoint would."""

    def __init__(self) -> None:
        class Handler(BaseHTTPRequestHandler):
            def do_GET(self) -> None:
                self.send_response(200)
                self.send_header("Content-Type", "image/png")
                self.send_header("Content-Length", str(len(PNG)))
                self.end_headers()
                self.wfile.write(PNG)

            def log_message(self, *args) -> None:
                pass

        super().__init__(("127.0.0.1", 0), Handler)
        self.thread = threading.Thread(target=self.serve_forever, daemon=True)
        self.thread.start()

    @property
    def address(self) -> str:
        return f"127.0.0.1:{self.server_address[1]}"


# --- The stack ---------------------------------------------------------------------------------------


@dataclass
class Stack:
    folder: Path
    mailbox: Mailbox
    graphs: GraphServer
    postgres_port: int = field(default_factory=free_port)
    redis_port: int = field(default_factory=free_port)
    web_ports: tuple[int, int] = field(default_factory=lambda: (free_port(), free_port()))
    daemons: dict[str, Daemon] = field(default_factory=dict)

    @property
    def pgdata(self) -> Path:
        return self.folder / "pgdata"

    @property
    def database_url(self) -> str:
        return f"postgres://postgres@127.0.0.1:{self.postgres_port}/morgue"

    def web(self, index: int) -> str:
        return f"http://127.0.0.1:{self.web_ports[index]}"

    def environment(self) -> dict[str, str]:
        origins = ",".join(self.web(index) for index in (0, 1))
        return {
            **{key: value for key, value in os.environ.items() if not key.startswith(("DJANGO_", "PYTEST"))},
            "DJANGO_SETTINGS_MODULE": "morgue.settings",
            "PYTHONUNBUFFERED": "1",  # each daemon's log is current when a step fails
            "DEBUG": "0",
            "SECRET_KEY": "rehearsal-only-" + "x" * 40,
            "ALLOWED_HOSTS": "127.0.0.1",
            "CSRF_TRUSTED_ORIGINS": origins,
            "MORGUE_BASE_URL": self.web(0),
            "DATABASE_URL": self.database_url,
            "CELERY_BROKER_URL": f"redis://127.0.0.1:{self.redis_port}/0",
            # A task a killed worker held is handed to another after this long, and the
            # send it had claimed may be taken over after the claim leases: seconds,
            # not the production defaults, so the kill -9 step ends within a minute.
            "CELERY_VISIBILITY_TIMEOUT": "10",
            "NOTIFICATION_CLAIM_LEASE_SECONDS": "5",
            "EMAIL_CLAIM_LEASE_SECONDS": "4",
            "EMAIL_BACKEND": "django.core.mail.backends.smtp.EmailBackend",
            "EMAIL_HOST": "127.0.0.1",
            "EMAIL_PORT": str(self.mailbox.controller.port),
            "DEFAULT_FROM_EMAIL": "morgue@example.com",
            "GRAPH_FETCH_ALLOWED_HOSTS": self.graphs.address,
            "MORGUE_VAR_DIR": str(self.folder / "var"),
            "STATIC_ROOT": str(self.folder / "static"),
            # Plain HTTP on loopback: the cookies must travel without TLS.
            "SESSION_COOKIE_SECURE": "0",
            "CSRF_COOKIE_SECURE": "0",
            "SECURE_SSL_REDIRECT": "0",
        }

    def logs(self) -> str:
        answers = "\n".join(f"{url}: {answer!r}"[:500] for url, answer in LAST_ANSWER.items())
        return answers + "\n" + "\n".join(daemon.tail(30) for daemon in self.daemons.values())

    # PostgreSQL -------------------------------------------------------------

    def _as_postgres(self, argv: list[str]) -> list[str]:
        # initdb and postgres refuse to run as root; as anyone else they run as that user.
        return ["runuser", "-u", "postgres", "--", *argv] if os.geteuid() == 0 else argv

    def init_postgres(self) -> None:
        self.pgdata.mkdir()
        if os.geteuid() == 0:
            shutil.chown(self.pgdata, "postgres", "postgres")
            self.folder.chmod(0o755)
        subprocess.run(
            self._as_postgres(
                [
                    postgres_bin("initdb"),
                    "-D",
                    str(self.pgdata),
                    "-A",
                    "trust",
                    "-U",
                    "postgres",
                    "-E",
                    "UTF8",
                ]
            ),
            check=True,
            capture_output=True,
            timeout=120,
        )
        self.start_postgres()
        subprocess.run(
            [
                postgres_bin("createdb"),
                "-h",
                "127.0.0.1",
                "-p",
                str(self.postgres_port),
                "-U",
                "postgres",
                "morgue",
            ],
            check=True,
            timeout=60,
        )

    def start_postgres(self) -> None:
        log = str(self.pgdata / "log")
        options = f"-p {self.postgres_port} -k {self.pgdata} -c listen_addresses=127.0.0.1 -c fsync=off"
        subprocess.run(
            self._as_postgres(
                [postgres_bin("pg_ctl"), "-D", str(self.pgdata), "-o", options, "-l", log, "-w", "start"]
            ),
            check=True,
            capture_output=True,
            timeout=120,
        )

    def stop_postgres(self) -> None:
        subprocess.run(
            self._as_postgres([postgres_bin("pg_ctl"), "-D", str(self.pgdata), "-m", "fast", "-w", "stop"]),
            check=True,
            capture_output=True,
            timeout=120,
        )

    def sql(self, query: str, *params) -> list[tuple]:
        url = self.database_url.replace("postgres://", "postgresql://", 1)
        with psycopg.connect(url, connect_timeout=10) as database:
            return database.execute(query, params).fetchall()

    # Redis --------------------------------------------------------------------

    def start_redis(self) -> None:
        binary = need("redis-server", "redis-server")
        self.daemons["redis"] = Daemon(
            "redis",
            [
                binary,
                "--port",
                str(self.redis_port),
                "--bind",
                "127.0.0.1",
                "--save",
                "",
                "--appendonly",
                "no",
            ],
            self.folder / "redis.log",
        )
        wait_until("Redis", lambda: _redis_answers(self.redis_port), 30, self.logs)

    def stop_redis(self) -> None:
        self.daemons.pop("redis").stop()

    # Morgue, as the README's production section runs it ------------------------------------------

    def production_commands(self) -> dict[str, str]:
        return production_commands()

    def argv(self, command: str) -> list[str]:
        return program_argv(command)

    def run_once(self, command: str) -> str:
        result = subprocess.run(
            self.argv(command), cwd=ROOT, env=self.environment(), capture_output=True, text=True, timeout=600
        )
        assert result.returncode == 0, f"{command}\n{result.stdout}\n{result.stderr}"
        return result.stdout

    def start_web(self, index: int, command: str) -> None:
        port = self.web_ports[index]
        argv = self.argv(
            command.replace("0.0.0.0:8000", f"127.0.0.1:{port}").replace("--workers 4", "--workers 2")
        )
        self.daemons[f"web{index}"] = Daemon(
            f"web{index}", argv, self.folder / f"web{index}.log", cwd=ROOT, env=self.environment()
        )

    def start_worker(self, name: str, command: str) -> Daemon:
        argv = [*self.argv(command), "--concurrency", "1", "--hostname", f"{name}@rehearsal"]
        daemon = Daemon(
            name,
            argv,
            self.folder / f"{name}.log",
            cwd=ROOT,
            env=self.environment(),
            start_new_session=True,  # its own process group, so a kill -9 reaches its pool too
        )
        self.daemons[name] = daemon
        return daemon

    def kill_9(self, name: str) -> None:
        """kill -9 a worker and its pool process, as a host losing power would."""
        daemon = self.daemons.pop(name)
        os.killpg(daemon.process.pid, signal.SIGKILL)
        daemon.process.wait(timeout=10)
        daemon.stop()  # closes its log

    def worker_connected_from(self, port: int) -> str | None:
        """The worker (main or pool process) holding the TCP connection whose local port is `port`."""
        sockets = set()
        for table in ("/proc/net/tcp", "/proc/net/tcp6"):
            for line in Path(table).read_text().splitlines()[1:]:
                fields = line.split()
                if int(fields[1].rsplit(":", 1)[1], 16) == port:
                    sockets.add(f"socket:[{fields[9]}]")
        for name, daemon in self.daemons.items():
            if not name.startswith("worker"):
                continue
            for pid in process_group(daemon.process.pid):
                try:
                    links = {os.readlink(fd) for fd in Path(f"/proc/{pid}/fd").iterdir()}
                except OSError:  # the process ended meanwhile
                    continue
                if links & sockets:
                    return name
        return None

    def start_beat(self, command: str) -> None:
        argv = self.argv(command)
        self.daemons["beat"] = Daemon(
            "beat", argv, self.folder / "beat.log", cwd=ROOT, env=self.environment()
        )

    def wait_for_web(self) -> None:
        for index in (0, 1):
            wait_until(
                f"gunicorn {index} to answer",
                lambda index=index: _answers(f"{self.web(index)}/healthz"),
                # Four web workers, two Celery workers and beat import Django at once.
                240,
                self.logs,
            )

    def stop(self) -> None:
        for daemon in reversed(list(self.daemons.values())):
            daemon.stop()
        self.daemons.clear()


def production_commands() -> dict[str, str]:
    """The README's production block, keyed by what each line starts."""
    block = readme_block(".venv/bin/gunicorn morgue.wsgi")
    commands = {}
    for line in block.splitlines():
        command = line.split("  #", 1)[0].strip()
        for key in ("migrate", "collectstatic", "store_media_files", "gunicorn", "worker", "beat"):
            words = command.split()
            if command.startswith(".venv/bin/") and any(word.split("/")[-1] == key for word in words):
                commands[key] = command
    assert set(commands) == {
        "migrate",
        "collectstatic",
        "store_media_files",
        "gunicorn",
        "worker",
        "beat",
    }, block
    return commands


def program_argv(command: str) -> list[str]:
    """A README command's words, its program in this checkout's virtualenv."""
    words = shlex.split(command)
    return [str(PYTHON_BIN / words[0].removeprefix(".venv/bin/")), *words[1:]]


LAST_ANSWER: dict[str, object] = {}


def process_group(group: int) -> list[int]:
    """The processes of a process group (a worker started in a session of its own and its pool)."""
    members = []
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            # The fields after the command's closing parenthesis: state, parent, group, ...
            fields = stat.read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue
        if int(fields[2]) == group:
            members.append(int(stat.parent.name))
    return members


def _answers(url: str) -> bool:
    """True once a server answers at all (503 is a running Morgue whose beat has not ticked yet)."""
    try:
        LAST_ANSWER[url] = answer = http("GET", url)
    except OSError as error:
        LAST_ANSWER[url] = error
        return False
    return answer[0] in (200, 503)


def _redis_answers(port: int) -> bool:
    import socket

    try:
        with socket.create_connection(("127.0.0.1", port), timeout=1) as connection:
            connection.sendall(b"PING\r\n")
            return connection.recv(16).startswith(b"+PONG")
    except OSError:
        return False


def http(
    method: str, url: str, body: object = None, headers: dict[str, str] | None = None
) -> tuple[int, str]:
    """One request; the status and body, whatever the status."""
    data = json.dumps(body).encode() if body is not None and not isinstance(body, bytes) else body
    request = urllib.request.Request(url, data=data, method=method, headers=headers or {})  # noqa: S310
    if body is not None and not isinstance(body, bytes):
        request.add_header("Content-Type", "application/json")
    try:
        with urllib.request.urlopen(request, timeout=60) as response:  # noqa: S310 (loopback)
            return response.status, response.read().decode("utf-8", "replace")
    except urllib.error.HTTPError as error:
        return error.code, error.read().decode("utf-8", "replace")


def post_oversized(url: str, body: bytes, headers: dict[str, str]) -> tuple[int, str]:
    """POST a body as a sender does, but read the answer as soon as it comes.

    A server refusing a body by its Content-Length answers before reading it
    and closes; a client that insists on writing the rest first would see its
    connection reset instead of the answer.
    """
    parts = urllib.parse.urlsplit(url)
    head = (
        f"POST {parts.path} HTTP/1.1\r\nHost: {parts.netloc}\r\nContent-Type: application/json\r\n"
        f"Content-Length: {len(body)}\r\nConnection: close\r\n"
        + "".join(f"{name}: {value}\r\n" for name, value in headers.items())
        + "\r\n"
    ).encode()
    answer = b""
    with socket.create_connection((parts.hostname, parts.port), timeout=60) as connection:
        connection.sendall(head)
        sent = 0
        while sent < len(body):
            readable, writable, _ = select.select([connection], [connection], [], 60)
            if readable:
                break
            if writable:
                try:
                    sent += connection.send(body[sent : sent + 65536])
                except OSError:
                    break
        with contextlib.suppress(OSError):
            while data := connection.recv(65536):
                answer += data
    head_text, _, text = answer.decode("utf-8", "replace").partition("\r\n\r\n")
    status = re.match(r"HTTP/1\.[01] (\d{3})", head_text)
    return (int(status.group(1)) if status else 0), text
