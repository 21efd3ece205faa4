"""Whole requests through gunicorn on PostgreSQL, each against a minimal view serving the same rows.

Serves Morgue under gunicorn (2 workers, settings `bench.settings`) on a
database seeded by `manage.py seed_scale` (BENCH_DATABASE_URL, default
postgres://postgres@127.0.0.1:5432/morgue_bench; seeded at BENCH_SCALE,
default 1, when it holds no teams), signs in, and times each page and API
list turn about with its floor (bench/floor.py: session auth, one SELECT, a
trivial template or JSON), BENCH_ROUNDS times (default 15). Goals:
- every request within 5× its floor, median and p95; no page over 300 KB;
- with BENCH_GROWTH=1, the same requests on 10× the data (a second database,
  `<name>_x10`, seeded at 10 × BENCH_SCALE, served beside the first): at most
  1.5× slower, reports 2×, and no goal ("-") for a request whose output grows
  more than 20% with the data (one row per rotation, every awaiting incident);
- Alertmanager ingest (payloads of 100 alerts) at least ½ the rate of a bare
  multi-row INSERT of the same rows;
- 1, 4 and 16 concurrent senders: no drop in throughput as senders are added;
- who is on call (GET /api/v1/oncall/, every rotation) at least 8× faster than
  expanding each rotation as a recurring iCalendar event with
  `recurring_ical_events` and asking who holds it now.
"""

import contextlib
import datetime as dt
import http.client
import json
import os
import re
import socket
import statistics
import subprocess
import sys
import threading
import time
import urllib.parse
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from bench.harness import Skipped

ROOT = Path(__file__).resolve().parent.parent
DATABASE_URL = os.environ.get("BENCH_DATABASE_URL", "postgres://postgres@127.0.0.1:5432/morgue_bench")
SCALE = float(os.environ.get("BENCH_SCALE", "1"))
ROUNDS = int(os.environ.get("BENCH_ROUNDS", "15"))
GROWTH = os.environ.get("BENCH_GROWTH") == "1"
# BENCH_ONLY="home,ingest": only the measurements whose name contains one of these (all when unset).
ONLY = [part.strip() for part in os.environ.get("BENCH_ONLY", "").split(",") if part.strip()]
PAGE_LIMIT = 300 * 1024
RATIO_GOAL = 5
BATCH = 100  # alerts per Alertmanager payload
PASSWORD = "morgue-scale"


# --- The database and the server -----------------------------------------------


def chosen(name: str) -> bool:
    return not ONLY or any(part in name for part in ONLY)


def _database_name(url: str) -> str:
    return urllib.parse.urlparse(url).path.lstrip("/")


def _with_name(url: str, name: str) -> str:
    return urllib.parse.urlparse(url)._replace(path=f"/{name}").geturl()


def _manage(url: str, *args: str) -> str:
    environment = {
        **os.environ,
        "DATABASE_URL": url,
        "DEBUG": "1",
        "DJANGO_SETTINGS_MODULE": "morgue.settings",
    }
    done = subprocess.run(
        [sys.executable, "manage.py", *args], cwd=ROOT, env=environment, capture_output=True, text=True
    )
    if done.returncode:
        raise RuntimeError(f"manage.py {' '.join(args)} failed:\n{done.stdout}\n{done.stderr}")
    return done.stdout


def prepare_database(url: str, scale: float) -> None:
    """Create, migrate and seed the database at `scale` unless it is already seeded at that scale."""
    import psycopg

    name = _database_name(url)
    with psycopg.connect(_with_name(url, "postgres"), autocommit=True) as admin:
        if not admin.execute("SELECT 1 FROM pg_database WHERE datname = %s", [name]).fetchone():
            admin.execute(f'CREATE DATABASE "{name}"')
    _manage(url, "migrate", "--noinput")
    with psycopg.connect(url) as database:
        teams, incidents = database.execute(
            "SELECT (SELECT count(*) FROM oncall_team), (SELECT count(*) FROM incidents_incident)"
        ).fetchone() or (0, 0)
    if not teams:
        print(f"   seeding {name} at scale {scale:g} (minutes at scale 1) …", flush=True)
        started = time.monotonic()
        _manage(url, "seed_scale", "--scale", f"{scale:g}")
        print(f"   seeded in {time.monotonic() - started:.0f} s", flush=True)
    else:
        from morgue.scale import scaled

        if incidents != scaled(20_000, scale, minimum=20):
            raise Skipped(f"{name} holds another scale ({incidents} incidents): drop it or set BENCH_SCALE")


@contextlib.contextmanager
def use_database(url: str) -> Iterator[None]:
    """Point this process's default connection at `url` (the benchmark reads and writes there)."""
    import dj_database_url
    from django.db import connections

    old = connections.settings["default"]
    connections["default"].close()
    parsed = dj_database_url.parse(url)
    connections.settings["default"] = {**old, **parsed, "OPTIONS": parsed.get("OPTIONS", {})}
    del connections["default"]
    try:
        yield
    finally:
        connections["default"].close()
        connections.settings["default"] = old
        del connections["default"]


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


@contextlib.contextmanager
def gunicorn(url: str, workers: int = 2) -> Iterator[int]:
    """Morgue under gunicorn on a free loopback port, as in production but for TLS: yields the port."""
    port = _free_port()
    environment = {
        **os.environ,
        "DJANGO_SETTINGS_MODULE": "bench.settings",
        "DATABASE_URL": url,
        "DEBUG": "0",
        "SECRET_KEY": "bench-only-not-a-secret",
        "ALLOWED_HOSTS": "127.0.0.1",
        # Plain HTTP on loopback: the cookies must travel without TLS.
        "SESSION_COOKIE_SECURE": "0",
        "CSRF_COOKIE_SECURE": "0",
        "SECURE_SSL_REDIRECT": "0",
    }
    server = subprocess.Popen(
        [
            str(Path(sys.executable).parent / "gunicorn"),
            "morgue.wsgi:application",
            "--workers",
            str(workers),
            "--bind",
            f"127.0.0.1:{port}",
            "--timeout",
            "300",
            "--log-level",
            "warning",
        ],
        cwd=ROOT,
        env=environment,
    )
    try:
        deadline = time.monotonic() + 60
        while True:
            try:
                # 503 is a running server whose beat has not ticked (none runs here).
                if Client(port).get("/healthz").status in (200, 503):
                    break
            except OSError:
                pass
            if server.poll() is not None or time.monotonic() > deadline:
                raise RuntimeError("gunicorn did not start")
            time.sleep(0.3)
        yield port
    finally:
        server.terminate()
        server.wait(timeout=30)


# --- A small HTTP client (a new connection per request, as gunicorn's sync workers close them) ----


@dataclass
class Response:
    status: int
    body: bytes
    headers: dict[str, str]
    seconds: float


@dataclass
class Client:
    port: int
    cookies: dict[str, str] = field(default_factory=dict)
    headers: dict[str, str] = field(default_factory=dict)

    def request(self, method: str, path: str, body: str | bytes | None = None, **headers: str) -> Response:
        connection = http.client.HTTPConnection("127.0.0.1", self.port, timeout=600)
        sent = {**self.headers, **headers}
        if self.cookies:
            sent["Cookie"] = "; ".join(f"{name}={value}" for name, value in self.cookies.items())
        started = time.perf_counter()
        connection.request(method, path, body=body, headers=sent)
        reply = connection.getresponse()
        content = reply.read()
        seconds = time.perf_counter() - started
        connection.close()
        for header, value in reply.getheaders():
            if header.lower() == "set-cookie":
                name, _, rest = value.partition("=")
                self.cookies[name] = rest.split(";", 1)[0]
        return Response(reply.status, content, {k.lower(): v for k, v in reply.getheaders()}, seconds)

    def get(self, path: str) -> Response:
        return self.request("GET", path)

    def sign_in(self, username: str) -> None:
        page = self.get("/accounts/login/")
        token = re.search(rb'name="csrfmiddlewaretoken" value="([^"]+)"', page.body)
        assert token, "no CSRF token on the sign-in page"
        form = urllib.parse.urlencode(
            {"username": username, "password": PASSWORD, "csrfmiddlewaretoken": token.group(1).decode()}
        )
        reply = self.request(
            "POST", "/accounts/login/", form, **{"Content-Type": "application/x-www-form-urlencoded"}
        )
        assert reply.status == 302 and "sessionid" in self.cookies, f"sign-in failed: {reply.status}"


# --- What is measured ------------------------------------------------------------


@dataclass
class Case:
    name: str
    path: str
    floor: str  # a name in bench.floor.FLOORS
    floor_query: dict[str, str] = field(default_factory=dict)
    report: bool = False  # a report's output grows with the data: 2× allowed for 10× the data
    page: bool = True  # HTML (the 300 KB limit applies)

    @property
    def floor_path(self) -> str:
        return f"/bench-floor/{self.floor}/?{urllib.parse.urlencode(self.floor_query)}"


def cases() -> tuple[str, list[Case]]:
    """The person to sign in as and the requests, read from the database in use."""
    from django.utils import timezone

    from alerts_review.selectors import last_shift
    from morgue.models import Team
    from oncall.models import Shift

    now = timezone.now()
    noisiest = Team.objects.order_by("pk").first()
    holder = (
        Shift.objects.filter(rotation__team=noisiest, level="L1", starts_at__lte=now - dt.timedelta(hours=12))
        .order_by("-starts_at")
        .select_related("user")
        .first()
    )
    assert holder is not None, "no shifts: is the database seeded?"
    shift = last_shift(user=holder.user, at=now)
    assert shift is not None
    this_month = now.date().replace(day=1)
    month = (this_month - dt.timedelta(days=1)).replace(day=1)
    today = now.date()
    year = {"since": f"{today - dt.timedelta(days=365)}", "until": f"{today + dt.timedelta(days=1)}"}
    shift_bounds = {
        "team": str(shift.rotation.team_id),
        "since": shift.starts_at.isoformat(),
        "until": min(shift.ends_at, now).isoformat(),
    }
    return holder.user.username, [
        case for case in _all_cases(month, this_month, year, shift_bounds) if chosen(case.name)
    ]


def _all_cases(
    month: dt.date, this_month: dt.date, year: dict[str, str], shift_bounds: dict[str, str]
) -> list[Case]:
    month_bounds = {"since": f"{month}T00:00:00Z", "until": f"{this_month}T00:00:00Z"}
    return [
        Case("home /", "/", "home"),
        Case("incident list /incidents/", "/incidents/", "incidents"),
        Case("search /incidents/?q=checkout", "/incidents/?q=checkout", "search", {"q": "checkout"}),
        Case("review queue", "/incidents/review-queue/", "review-queue"),
        Case("incident report (a year)", "/reports/incidents/", "incident-report", year, report=True),
        Case("alerts review /alerts/", "/alerts/", "shift-alerts", shift_bounds),
        Case(
            f"alerts report {month:%Y-%m}",
            f"/alerts/reports/{month:%Y-%m}/",
            "alerts-report",
            month_bounds,
            report=True,
        ),
        Case(
            "API alerts report",
            f"/api/v1/reports/alerts/?month={month:%Y-%m}",
            "alerts-report-api",
            month_bounds,
            report=True,
            page=False,
        ),
        Case("API alerts list", "/api/v1/alerts/", "alerts-api", page=False),
        Case("remediation board /remediations/", "/remediations/", "remediation-board"),
        Case("deploy log /deploys/", "/deploys/", "deploys"),
        Case("on call /oncall/", "/oncall/", "oncall"),
        Case("API incidents list", "/api/v1/incidents/", "incidents-api", page=False),
        Case("API deploys list", "/api/v1/deploys/", "deploys-api", page=False),
        Case("API remediations list", "/api/v1/remediations/", "remediations-api", page=False),
        Case("API who is on call", "/api/v1/oncall/", "oncall-api", page=False),
    ]


def _p95(samples: list[float]) -> float:
    ordered = sorted(samples)
    return ordered[min(len(ordered) - 1, round(0.95 * (len(ordered) - 1)))]


@dataclass
class Row:
    case: Case
    subject: list[float]
    floor: list[float]
    size: int
    queries: str
    floor_queries: str
    status: int
    growth: float | None = None
    grown_size: int | None = None  # bytes of the same request on 10× the data

    @property
    def median_ratio(self) -> float:
        return statistics.median(self.subject) / statistics.median(self.floor)

    @property
    def p95_ratio(self) -> float:
        return _p95(self.subject) / _p95(self.floor)

    @property
    def growth_goal(self) -> float | None:
        """Reports may take 2× on 10× the data; other requests 1.5×, unless their output grows with it."""
        if self.case.report:
            return 2.0
        if self.grown_size is not None and self.grown_size > 1.2 * self.size:
            return None  # more rows shown (one per rotation, every awaiting incident): no goal
        return 1.5

    @property
    def misses(self) -> list[str]:
        missed = []
        if self.status != 200:
            missed.append(f"HTTP {self.status}")
        if self.median_ratio > RATIO_GOAL:
            missed.append("median")
        if self.p95_ratio > RATIO_GOAL:
            missed.append("p95")
        if self.case.page and self.size > PAGE_LIMIT:
            missed.append("size")
        goal = self.growth_goal
        if self.growth is not None and goal is not None and self.growth > goal:
            missed.append("growth")
        return missed

    @property
    def missed_target(self) -> bool:
        return bool(self.misses)

    def __str__(self) -> str:
        growth = " " * 10
        if self.growth is not None:
            goal = self.growth_goal
            growth = f"{self.growth:6.2f}×/" + (f"{goal:g}" if goal is not None else "-")
        verdict = "met" if not self.misses else "MISSED " + ",".join(self.misses)
        median, p95 = statistics.median(self.subject) * 1000, _p95(self.subject) * 1000
        return (
            f"{self.case.name[:34]:34} {median:8.1f} {p95:8.1f}"
            f" {statistics.median(self.floor) * 1000:7.1f} {self.median_ratio:6.1f}× {self.p95_ratio:6.1f}×"
            f" {self.size / 1024:7.1f} {self.queries:>4}/{self.floor_queries:<3} {growth} {verdict}"
        )


HEADER = (
    f"{'request':34} {'median':>8} {'p95':>8} {'floor':>7} {'×floor':>7} {'×p95':>7} {'KB':>7}"
    f" {'queries':>8} {'10× data':>10} goal (≤{RATIO_GOAL}× floor, ≤300 KB)"
    f"\n   {'':34} {'ms':>8} {'ms':>8} {'ms':>7}"
)


def time_requests(client: Client, case: Case, rounds: int) -> Row:
    subject: list[float] = []
    floor: list[float] = []
    for _ in range(5):  # warm both workers' caches: each request goes to whichever worker accepts it
        client.get(case.path), client.get(case.floor_path)
    last = floor_last = None
    status = 200
    for number in range(rounds):
        # Turn about, each first in every other round, so a busy machine slows both alike.
        order = [(case.path, subject), (case.floor_path, floor)]
        for path, samples in order if number % 2 else order[::-1]:
            reply = client.get(path)
            samples.append(reply.seconds)
            if samples is subject:
                last = reply
                status = status if reply.status == 200 else reply.status
            else:
                floor_last = reply
    assert last is not None and floor_last is not None
    assert floor_last.status == 200, f"{case.floor_path}: {floor_last.status} {floor_last.body[:300]!r}"
    return Row(
        case,
        subject,
        floor,
        len(last.body),
        last.headers.get("x-bench-queries", "?"),
        floor_last.headers.get("x-bench-queries", "?"),
        status,  # the first answer other than 200, if any: its time is not the page's
    )


# --- Ingest and concurrency ---------------------------------------------------------


def _payload(prefix: str, batch: int, started: dt.datetime) -> str:
    return json.dumps(
        {
            "version": "4",
            "status": "firing",
            "alerts": [
                {
                    "status": "firing",
                    "labels": {"alertname": f"BenchCheck{n % 7}", "instance": f"host{n}:9100"},
                    "annotations": {"summary": f"BenchCheck{n % 7} on host{n}"},
                    "startsAt": (started + dt.timedelta(seconds=batch)).isoformat(),
                    "endsAt": "0001-01-01T00:00:00Z",
                    "fingerprint": f"{prefix}-{batch}-{n}",
                }
                for n in range(BATCH)
            ],
        }
    )


@dataclass
class Throughput:
    name: str
    per_second: float
    compared: float | None = None
    compared_name: str = ""
    goal: float | None = None  # subject / compared must reach this

    @property
    def ratio(self) -> float | None:
        return self.per_second / self.compared if self.compared else None

    @property
    def missed_target(self) -> bool:
        return self.goal is not None and self.ratio is not None and self.ratio < self.goal

    def __str__(self) -> str:
        text = f"{self.name}: {self.per_second:,.0f} alerts/s"
        if self.ratio is not None:
            text += f" = {self.ratio:.2f} of {self.compared_name} ({self.compared:,.0f}/s)"
        if self.goal is not None:
            text += f" (goal ≥ {self.goal:g}: {'MISSED' if self.missed_target else 'met'})"
        return text


ALERT_COLUMNS = (
    "source, alert_source_id, identity, check_name, host, state, severity, labels, summary, fired_at, "
    "fired_quarter, team_id, out_of_hours, note, woke_me_up, is_test, problem_id, created_at, updated_at, "
    "paging"
)


def ingest(port: int, rounds: int) -> list[Throughput]:
    """Alertmanager payloads through gunicorn vs a bare multi-row INSERT; then 1, 4 and 16 senders."""
    from django.db import connection

    from alerts_review.models import AlertSource
    from morgue.models import Team

    team = Team.objects.order_by("pk").first()
    assert team is not None, "no teams: is the database seeded?"
    source = AlertSource(name=f"bench-ingest-{os.getpid()}", kind="alertmanager", team=team)
    source.issue_token()  # the plain token stays on this instance; only its hash is saved
    source.save()
    started = dt.datetime(2001, 1, 1, tzinfo=dt.UTC)  # outside every month the pages show
    client = Client(
        port, headers={"Authorization": f"Token {source.token}", "Content-Type": "application/json"}
    )
    numbers = iter(range(10**9))

    def send() -> float:
        reply = client.request(
            "POST", "/api/v1/alerts/alertmanager/", _payload("ingest", next(numbers), started)
        )
        assert reply.status == 200, reply.body[:300]
        return reply.seconds

    def insert() -> float:
        batch = next(numbers)
        at = started + dt.timedelta(seconds=batch)
        rows: list[Any] = []
        for n in range(BATCH):
            labels = json.dumps({"alertname": f"BenchCheck{n % 7}", "instance": f"host{n}:9100"})
            rows += ["alertmanager", source.pk, f"floor-{batch}-{n}", f"BenchCheck{n % 7}", f"host{n}:9100"]
            rows += ["firing", "", labels, f"BenchCheck{n % 7} on host{n}", at, int(at.timestamp()) // 900]
            # Recorded: history the paging sweep leaves be (the column has no database default).
            rows += [team.pk, False, "", False, False, "", at, at, "recorded"]
        values = ", ".join(["(" + ", ".join(["%s"] * 20) + ")"] * BATCH)
        begun = time.perf_counter()
        with connection.cursor() as cursor:  # autocommit: one statement, one commit
            cursor.execute(f"INSERT INTO alerts_review_alert ({ALERT_COLUMNS}) VALUES {values}", rows)
        return time.perf_counter() - begun

    try:
        for _ in range(3):
            send(), insert()
        sent, inserted = [], []
        for _ in range(rounds):
            sent.append(send())
            inserted.append(insert())
        results = [
            Throughput(
                f"Alertmanager ingest, payloads of {BATCH}",
                BATCH / statistics.median(sent),
                BATCH / statistics.median(inserted),
                "a bare multi-row INSERT",
                goal=0.5,
            )
        ]
        best = 0.0
        total = 48  # payloads at each level, shared among the senders
        for senders in (1, 4, 16):
            payloads = [
                [_payload(f"senders{senders}-{index}", batch, started) for batch in range(total // senders)]
                for index in range(senders)
            ]

            def sender(mine: list[str]) -> None:
                own = Client(port, headers=dict(client.headers))
                for body in mine:
                    reply = own.request("POST", "/api/v1/alerts/alertmanager/", body)
                    assert reply.status == 200, reply.body[:300]

            threads = [threading.Thread(target=sender, args=(mine,)) for mine in payloads]
            begun = time.perf_counter()
            for thread in threads:
                thread.start()
            for thread in threads:
                thread.join()
            rate = total * BATCH / (time.perf_counter() - begun)
            results.append(
                Throughput(
                    f"{senders:2} concurrent sender(s), 2 workers",
                    rate,
                    best or None,
                    "the best with fewer senders",
                    goal=0.9 if best else None,
                )
            )
            best = max(best, rate)
        return results
    finally:
        with connection.cursor() as cursor:
            cursor.execute("DELETE FROM alerts_review_alert WHERE alert_source_id = %s", [source.pk])
        source.delete()


# --- Who is on call against recurring iCalendar events ---------------------------------


def on_call_by_icalendar(at: dt.datetime) -> dict[str, str]:
    """Each rotation as recurring events (one per member's turn), expanded at `at`: rotation -> L1 holder."""
    import icalendar
    import recurring_ical_events  # type: ignore[import-untyped]

    from oncall.models import Rotation

    holders = {}
    for rotation in Rotation.objects.prefetch_related("members__user").order_by("pk"):
        members = sorted(rotation.members.all(), key=lambda member: (member.position, member.pk))
        length = dt.timedelta(days=rotation.shift_length_days)
        first = dt.datetime.combine(rotation.first_shift_date, rotation.handoff_time, tzinfo=rotation.zone)
        calendar = icalendar.Calendar()
        for index, member in enumerate(members):
            event = icalendar.Event()
            event.add("uid", f"{rotation.slug}-{member.pk}")
            event.add("summary", member.user.username)
            event.add("dtstart", first + index * length)
            event.add("dtend", first + (index + 1) * length)
            event.add("rrule", {"freq": "daily", "interval": rotation.shift_length_days * len(members)})
            calendar.add_component(event)
        events = recurring_ical_events.of(calendar).at((at.year, at.month, at.day, at.hour))
        holders[rotation.slug] = next((str(event["summary"]) for event in events), "")
    return holders


def who_is_on_call(client: Client, rounds: int) -> "list[Throughput | SpeedUp | str]":
    from django.utils import timezone

    from oncall.selectors import on_call_now

    now = timezone.now()
    icalendar_seconds, request_seconds, selector_seconds = [], [], []
    for _ in range(rounds):
        begun = time.perf_counter()
        on_call_by_icalendar(now)
        icalendar_seconds.append(time.perf_counter() - begun)
        reply = client.get("/api/v1/oncall/")
        assert reply.status == 200
        request_seconds.append(reply.seconds)
        begun = time.perf_counter()
        on_call_now(at=now)
        selector_seconds.append(time.perf_counter() - begun)
    icalendar_median = statistics.median(icalendar_seconds)
    return [
        f"who is on call, every rotation: recurring_ical_events {icalendar_median * 1000:.1f} ms, "
        f"GET /api/v1/oncall/ {statistics.median(request_seconds) * 1000:.1f} ms, "
        f"on_call_now() in process {statistics.median(selector_seconds) * 1000:.1f} ms",
        SpeedUp("who is on call: the whole request", icalendar_median / statistics.median(request_seconds)),
        SpeedUp(
            "who is on call: on_call_now() alone", icalendar_median / statistics.median(selector_seconds)
        ),
    ]


@dataclass
class SpeedUp:
    name: str
    times: float
    goal: float = 8

    @property
    def missed_target(self) -> bool:
        return self.times < self.goal

    def __str__(self) -> str:
        verdict = "MISSED" if self.missed_target else "met"
        goal = f"goal ≥ {self.goal:g}×: {verdict}"
        return f"{self.name}: {self.times:.1f}× faster than recurring_ical_events ({goal})"


# --- The run ---------------------------------------------------------------------------


def _measure_pages(port: int, rounds: int) -> list[Row]:
    username, requests = cases()
    client = Client(port)
    client.sign_in(username)
    rows = []
    for case in requests:
        row = time_requests(client, case, rounds)
        print(f"   {row}", flush=True)
        rows.append(row)
    return rows


def _bigger(url: str) -> str:
    return _with_name(url, f"{_database_name(url)}_x10")


def _growth(rows: list[Row], port: int, rounds: int) -> None:
    """Each request's median on 10× the data over its median on the data above, the two servers turn about."""
    bigger = _bigger(DATABASE_URL)
    username, requests = cases()
    with use_database(bigger):
        big_username, big_requests = cases()
    small = Client(port)
    small.sign_in(username)
    with gunicorn(bigger) as big_port:
        big = Client(big_port)
        big.sign_in(big_username)
        for row, case, big_case in zip(rows, requests, big_requests, strict=True):
            small.get(case.path), big.get(big_case.path)
            small_seconds: list[float] = []
            big_seconds: list[float] = []
            for _ in range(rounds):
                for client, path, samples in (
                    (small, case.path, small_seconds),
                    (big, big_case.path, big_seconds),
                ):
                    reply = client.get(path)
                    samples.append(reply.seconds)
                    if reply.status != 200 and row.status == 200:
                        row.status = reply.status
            row.growth = statistics.median(big_seconds) / statistics.median(small_seconds)
            row.grown_size = len(big.get(big_case.path).body)


def run(report: Callable[[str], None] = print) -> list:
    try:
        import psycopg

        psycopg.connect(_with_name(DATABASE_URL, "postgres")).close()
    except Exception as error:  # any reason the server is unreachable
        raise Skipped(f"needs PostgreSQL at BENCH_DATABASE_URL ({error})") from error
    prepare_database(DATABASE_URL, SCALE)
    if GROWTH:
        prepare_database(_bigger(DATABASE_URL), SCALE * 10)
    load = os.getloadavg()
    report(
        f"   {_database_name(DATABASE_URL)} at scale {SCALE:g}, {ROUNDS} rounds, {os.cpu_count()} cores, "
        f"load average {load[0]:.1f} {load[1]:.1f} {load[2]:.1f}"
    )
    results: list = []
    with use_database(DATABASE_URL), gunicorn(DATABASE_URL) as port:
        report(f"   {HEADER}")
        rows = _measure_pages(port, ROUNDS)
        signed_in = Client(port)
        signed_in.sign_in(cases()[0])
        extra: list[Throughput | SpeedUp | str] = []
        if chosen("who is on call"):
            extra += who_is_on_call(signed_in, ROUNDS)
        if chosen("ingest"):
            extra += ingest(port, max(ROUNDS, 20))
        if GROWTH:
            _growth(rows, port, ROUNDS)
            report(f"   again, beside the time on 10× the data ({_database_name(_bigger(DATABASE_URL))}):")
            for row in rows:
                report(f"   {row}")
    # The rows were printed as they were measured; the rest prints through the harness.
    for item in extra:
        if isinstance(item, str):
            report(f"   {item}")
        else:
            results.append(item)
    results += [_Summary(rows)]
    return results


@dataclass
class _Summary:
    rows: list[Row]

    @property
    def missed_target(self) -> bool:
        return any(row.missed_target for row in self.rows)

    def __str__(self) -> str:
        missed = [f"{row.case.name} ({', '.join(row.misses)})" for row in self.rows if row.missed_target]
        return "pages and lists missing a goal: " + ("; ".join(missed) if missed else "none")
