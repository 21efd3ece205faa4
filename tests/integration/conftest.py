"""Real alerting programs (Debian's packages) on loopback, talking to a live Morgue.

Each test starts its own daemons with generated configuration, data in
`tmp_path` and free ports on 127.0.0.1, and stops them at teardown; nothing
uses the packages' own services, configuration or ports. A test whose program
is not installed is skipped with the apt-get line that installs it.
"""

import os
import re
import shutil
import socket
import subprocess
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import TypeVar

import pytest
from django.db import OperationalError

from alerts_review.models import Alert

README = Path(__file__).resolve().parents[2] / "README.md"

T = TypeVar("T")


def need(program: str, package: str) -> str:
    """The program's path, or skip the test naming the Debian package that has it."""
    path = shutil.which(program) or shutil.which(program, path="/usr/sbin:/usr/bin:/sbin:/bin")
    if path is None:
        reason = f"{program} is not installed (apt-get install -y --no-install-recommends {package})"
        if os.environ.get("MORGUE_REQUIRE_REAL_PROGRAMS") == "1":
            pytest.fail(f"{reason}; CI requires it (MORGUE_REQUIRE_REAL_PROGRAMS=1)", pytrace=False)
        pytest.skip(reason)
    return path


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def readme_block(marker: str) -> str:
    """The README's fenced code block that contains `marker`, so the tests use what people copy."""
    for block in re.findall(r"```[a-z]*\n(.*?)```", README.read_text(), flags=re.DOTALL):
        if marker in block:
            return block
    raise AssertionError(f"README.md has no code block containing {marker!r}")


class Daemon:
    """One program started in the foreground, its output in a log file, stopped at teardown."""

    def __init__(self, name: str, argv: list[str], log: Path, **popen):
        self.name = name
        self.argv = argv
        self.log = log
        self.extra_logs: list[Path] = []
        self._out = log.open("wb")
        self.process = subprocess.Popen(
            argv, stdout=self._out, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL, **popen
        )

    def tail(self, lines: int = 40) -> str:
        text = []
        for path in [self.log, *self.extra_logs]:
            content = path.read_text(errors="replace").splitlines() if path.exists() else ["(no file)"]
            text.append(f"--- {self.name}: {path.name} (last {lines} lines)\n" + "\n".join(content[-lines:]))
        return "\n".join(text)

    def stop(self) -> None:
        if self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait(timeout=10)
        self._out.close()


@pytest.fixture
def daemons() -> Iterator[list[Daemon]]:
    """Start daemons with `daemons.append(Daemon(...))`; all are stopped after the test."""
    started: list[Daemon] = []
    yield started
    for daemon in reversed(started):
        daemon.stop()


def morgue_alerts() -> str:
    """What Morgue has stored, for a failure message."""
    rows = Alert.objects.order_by("id").values_list(
        "source", "identity", "check_name", "host", "state", "paging", "fired_at", "resolved_at"
    )
    return "--- Morgue's alerts (source, identity, check, host, state, paging, fired, resolved)\n" + (
        "\n".join(map(repr, rows)) or "(none)"
    )


def wait_for(what: str, probe: Callable[[], T | None], *, daemons: list[Daemon], timeout: float = 30.0) -> T:
    """Poll `probe` until it returns something truthy; else fail saying what, with the daemons' logs."""
    deadline = time.monotonic() + timeout
    while True:
        for daemon in daemons:
            if daemon.process.poll() is not None:
                pytest.fail(
                    f"{daemon.name} exited with {daemon.process.returncode} while waiting for "
                    f"{what}\n{daemon.tail()}"
                )
        # A probe that meets a table the live server's thread holds locked (SQLite) tries again.
        result = settled(probe)()
        if result:
            return result
        if time.monotonic() > deadline:
            logs = "\n".join(daemon.tail() for daemon in daemons)
            pytest.fail(f"Timed out after {timeout:.0f} s waiting for {what}\n{morgue_alerts()}\n{logs}")
        time.sleep(0.2)


def settled(probe: Callable[[], T]) -> Callable[[], T | None]:
    """`probe`, answering None while the live server's thread holds SQLite's in-memory tables locked."""

    def attempt() -> T | None:
        try:
            return probe()
        except OperationalError:
            return None

    return attempt


def paged(
    probe: Callable[[], T | None], *, beat: Callable[[], object], after: float = 10.0
) -> Callable[[], T | None]:
    """`probe`, with the beat's paging sweep run once it has waited `after` seconds, as in production.

    The receiver's own paging task may meet a locked table (SQLite's shared
    in-memory test database, a busy PostgreSQL): it then fails, and the beat's
    sweep decides the alert a minute later. The test plays that beat sooner.
    """
    started = time.monotonic()

    def attempt() -> T | None:
        result = settled(probe)()
        if not result and time.monotonic() - started > after:
            settled(beat)()
            result = settled(probe)()
        return result

    return attempt
