"""The production rehearsal: Morgue as the README runs it, driven like users and senders, with faults.

On loopback: its own PostgreSQL and Redis, two gunicorn processes with
DEBUG=0, two Celery workers and one beat, a real SMTP server and Chromium.
Each step is bounded in time and prints what it counted. `.ci/run` runs it
(MORGUE_REHEARSAL=1); elsewhere it is skipped, since it takes minutes.
"""

import concurrent.futures
import contextlib
import datetime as dt
import json
import os
import re
import shutil
import subprocess
import tempfile
import time
import urllib.error
import urllib.parse
import urllib.request
import uuid
from http.cookiejar import CookieJar
from pathlib import Path

import pytest

from .stack import PASSWORD, PNG, GraphServer, Mailbox, Stack, http, post_oversized, wait_until

pytestmark = [
    pytest.mark.production,
    pytest.mark.skipif(
        os.environ.get("MORGUE_REHEARSAL") != "1",
        reason="the production rehearsal runs in .ci/run (MORGUE_REHEARSAL=1): it takes minutes",
    ),
]

SETUP = f"""
import datetime as dt
from django.contrib.auth.models import User
from django.utils import timezone
from morgue.models import Profile, Team
from oncall import services

team = Team.objects.create(name="Ops", slug="ops")
members = []
for name in ("ana", "ben"):
    user = User.objects.create_user(name, f"{{name}}@example.com", "{PASSWORD}")
    Profile.objects.get_or_create(user=user)
    team.members.add(user)  # responders of Ops: they declare and run its incidents
    members.append(services.MemberSpec(user, True))
now = timezone.now()
services.create_rotation(
    team=team, name="Ops primary", slug="ops-primary",
    first_shift_date=(now - dt.timedelta(days=1)).date(), members=members, now=now,
)
"""


def alert_batch(name: str, *, status: str = "firing") -> dict:
    """An Alertmanager webhook with one critical alert (the default paging policy pages it)."""
    now = dt.datetime.now(dt.UTC).isoformat().replace("+00:00", "Z")
    labels = {"alertname": name, "severity": "critical", "instance": "db1:9100"}
    return {
        "version": "4",
        "groupKey": f'{{}}:{{alertname="{name}"}}',
        "truncatedAlerts": 0,
        "status": status,
        "receiver": "morgue",
        "groupLabels": {"alertname": name},
        "commonLabels": labels,
        "commonAnnotations": {},
        "externalURL": "http://alertmanager.rehearsal:9093",
        "alerts": [
            {
                "status": status,
                "labels": labels,
                "annotations": {"summary": f"{name} on db1"},
                "startsAt": now,
                "endsAt": "0001-01-01T00:00:00Z",
                "generatorURL": "http://prometheus.rehearsal:9090/graph",
                "fingerprint": uuid.uuid5(uuid.NAMESPACE_URL, name).hex[:16],
            }
        ],
    }


@pytest.fixture(scope="module")
def stack():
    mailbox = Mailbox()
    mailbox.controller.start()
    graphs = GraphServer()
    # Not under pytest's own temporary folder, which only its owner may enter:
    # PostgreSQL runs as the postgres user when the tests run as root.
    folder = Path(tempfile.mkdtemp(prefix="morgue-rehearsal-"))
    folder.chmod(0o755)
    stack = Stack(folder=folder, mailbox=mailbox, graphs=graphs)
    started = time.monotonic()
    try:
        stack.init_postgres()
        stack.start_redis()
        commands = stack.production_commands()
        for step in ("migrate", "collectstatic", "store_media_files"):
            stack.run_once(commands[step])
        stack.run_once(f"{'.venv/bin/python'} manage.py shell -c '{SETUP}'")
        token = stack.run_once(
            ".venv/bin/python manage.py create_alert_source prometheus --kind alertmanager --team ops"
        )
        stack.alert_token = token.strip().splitlines()[-1]
        stack.start_web(0, commands["gunicorn"])
        stack.start_web(1, commands["gunicorn"])
        stack.start_worker("worker1", commands["worker"])
        stack.start_worker("worker2", commands["worker"])
        stack.start_beat(commands["beat"])
        stack.wait_for_web()
        print(f"\nrehearsal: stack up in {time.monotonic() - started:.0f} s")
        yield stack
    finally:
        stack.stop()
        if stack.pgdata.exists():
            with contextlib.suppress(subprocess.CalledProcessError):  # already stopped by a failed step
                stack.stop_postgres()
        mailbox.controller.stop()
        graphs.shutdown()
        shutil.rmtree(folder, ignore_errors=True)


def send_alert(stack: Stack, index: int, batch: dict) -> tuple[int, str]:
    return http(
        "POST",
        f"{stack.web(index % 2)}/api/v1/alerts/alertmanager/",
        batch,
        headers={"Authorization": f"Bearer {stack.alert_token}"},
    )


# --- 1. Two web processes, one session, every static file -----------------------------------------


def test_a_browser_signs_in_on_one_web_process_and_continues_on_the_other(stack):
    from playwright.sync_api import sync_playwright

    from tests.browser.conftest import CHROMIUM

    failed: list[str] = []
    loaded: list[str] = []
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM, args=["--no-sandbox"])
        page = browser.new_page()

        def seen(response):
            if "/static/" in response.url:
                (failed if response.status >= 400 else loaded).append(f"{response.status} {response.url}")

        page.on("response", seen)
        page.goto(f"{stack.web(0)}/accounts/login/")
        page.fill("input[name=username]", "ana")
        page.fill("input[name=password]", PASSWORD)
        page.click("button[type=submit], input[type=submit]")
        page.wait_for_url(f"{stack.web(0)}/")
        for path in ("/", "/incidents/", "/oncall/", "/alerts/"):
            response = page.goto(f"{stack.web(1)}{path}")
            assert response.status == 200, (path, response.status)
            assert "/accounts/login/" not in page.url, f"signed out on the second web process at {path}"
        styles = page.evaluate("getComputedStyle(document.body).fontFamily")
        browser.close()
    print(
        f"rehearsal: browser loaded {len(loaded)} static files from both web processes, {len(failed)} failed"
    )
    assert failed == []
    assert any(".css" in url for url in loaded) and styles


# --- 2. A graph captured by a worker, seen from both web processes ---------------------------------


def test_a_graph_captured_by_a_worker_is_served_by_both_web_processes(stack):
    session = SignedIn(stack, "ana")
    status, body = session.post(
        0,
        "/api/v1/incidents/",
        {"title": "Checkout slow", "impact_started_at": _ago(30), "detected_at": _ago(20)},
    )
    assert status == 201, body
    incident = json.loads(body)["id"]
    status, body = session.post(
        1,
        f"/api/v1/incidents/{incident}/graphs/",
        {"title": "Latency", "url": f"http://{stack.graphs.address}/render.png"},
    )
    assert status == 201, body

    def captured():
        status, body = session.get(1, f"/api/v1/incidents/{incident}/graphs/")
        graphs = json.loads(body) if status == 200 else []
        return graphs[0]["image_url"] if graphs and graphs[0].get("image_url") else None

    image_url = wait_until("a worker to capture the graph", captured, 60, stack.logs)
    path = "/" + image_url.split("/", 3)[3]
    images = [session.get_bytes(index, path) for index in (0, 1)]
    print(f"rehearsal: graph captured by a worker, {len(PNG)} bytes, served by both web processes")
    assert images == [PNG, PNG]


# --- 3. A worker killed with kill -9 in the middle of sending --------------------------------------


def test_a_worker_killed_mid_send_leaves_every_notification_sent_exactly_once(stack):
    names = [f"KillNine{index}" for index in range(6)]
    # Each page email takes 3 s at the mail server: a worker is always mid-send.
    stack.mailbox.slow = ("KillNine", 3.0)
    try:
        for index, name in enumerate(names):
            assert send_alert(stack, index, alert_batch(name))[0] == 200

        def worker_mid_send() -> str | None:
            for port in stack.mailbox.sending_from():
                if name := stack.worker_connected_from(port):
                    return name
            return None

        victim = wait_until("a worker to be sending a page email", worker_mid_send, 120, stack.logs)
        stack.kill_9(victim)
        killed_at = time.monotonic()

        def every_page_emailed() -> bool:
            subjects = [subject for _, subject in _page_emails(stack, "KillNine")]
            return all(any(f"{name} " in subject for subject in subjects) for name in names)

        # The dead worker's task comes back after CELERY_VISIBILITY_TIMEOUT (10 s here), its
        # claims lapse after NOTIFICATION_CLAIM_LEASE_SECONDS / EMAIL_CLAIM_LEASE_SECONDS.
        wait_until("an email for every page after the kill", every_page_emailed, 60, stack.logs)
        recovered = time.monotonic() - killed_at
        # Every task the dead worker had taken and not finished, the broker gives to another worker.
        held = _unfinished_tasks(stack.folder / f"{victim}.log")

        def redelivered() -> set[str]:
            others = "".join(
                path.read_text(errors="replace")
                for path in stack.folder.glob("worker*.log")
                if path.name != f"{victim}.log"
            )
            return {task for task in held if f"[{task}] received" in others}

        wait_until(
            "the broker to redeliver the dead worker's tasks", lambda: redelivered() == held, 60, stack.logs
        )
        time.sleep(5)  # anything sent twice would arrive now
    finally:
        stack.mailbox.slow = ("", 0.0)
    emails = _page_emails(stack, "KillNine")
    abandoned = [key for key in stack.mailbox.abandoned if "KillNine" in key[1]]
    attempts = stack.sql(
        "SELECT n.status, n.attempts, count(*) FROM oncall_notification n"
        " JOIN oncall_pagestep s ON n.step_id = s.id JOIN oncall_page p ON s.page_id = p.id"
        " WHERE p.message LIKE '%%KillNine%%' GROUP BY n.status, n.attempts ORDER BY n.attempts"
    )
    print(
        f"rehearsal: kill -9 of {victim} mid-send; {len(names)} pages, {sum(emails.values())} emails"
        f" accepted ({len(emails)} distinct), {len(abandoned)} abandoned by the dead worker; all sent"
        f" {recovered:.0f} s after the kill; {len(held)} tasks it held, all redelivered;"
        f" notifications by (status, attempts, count): {attempts}"
    )
    assert abandoned, "the kill did not land mid-send"
    assert any(".send_notification[" in line for line in _held_lines(stack, victim, held)), held
    assert all(count == 1 for count in emails.values()), emails
    assert {subject for _, subject in abandoned} <= {subject for _, subject in emails}
    assert all(status == "sent" for status, _, _ in attempts), attempts
    assert any(tries == 2 for _, tries, _ in attempts), "the killed send was not tried again"
    # A worker comes back, as a supervisor would start it.
    stack.start_worker("worker3", stack.production_commands()["worker"])


# --- 4. Redis restarted while alerts arrive -------------------------------------------------------


def test_alerts_sent_while_redis_is_down_are_stored_and_page_once_when_it_is_back(stack):
    names = [f"RedisOutage{index}" for index in range(4)]
    stack.stop_redis()
    started = time.monotonic()
    answers = [send_alert(stack, index, alert_batch(name)) for index, name in enumerate(names)]
    print(
        f"rehearsal: {len(answers)} alert batches sent with Redis down in {time.monotonic() - started:.1f} s"
    )
    assert [status for status, _ in answers] == [200] * len(names), answers
    stored = stack.sql("SELECT count(*) FROM alerts_review_alert WHERE check_name LIKE 'RedisOutage%%'")
    assert stored == [(len(names),)]
    stack.start_redis()

    def paged():
        rows = stack.sql(
            "SELECT count(DISTINCT page_id) FROM alerts_review_alert WHERE check_name LIKE 'RedisOutage%%'"
            " AND page_id IS NOT NULL"
        )
        return rows[0][0] == len(names)

    wait_until("the beat sweep to page what Redis lost", paged, 150, stack.logs)
    wait_until(
        "an email for each page",
        lambda: len(_page_emails(stack, "RedisOutage")) >= len(names),
        120,
        stack.logs,
    )
    time.sleep(5)  # anything sent twice would arrive now
    subjects = _page_emails(stack, "RedisOutage")
    print(f"rehearsal: Redis restarted; {len(names)} alerts stored, {len(subjects)} page emails, each once")
    assert all(count == 1 for count in subjects.values()), subjects
    assert len(subjects) == len(names)


# --- 5. PostgreSQL restarted ---------------------------------------------------------------------


def test_while_postgres_is_down_requests_get_a_503_sentence_and_everything_recovers(stack):
    session = SignedIn(stack, "ben")
    before = stack.sql("SELECT count(*) FROM alerts_review_alert")[0][0]
    stack.stop_postgres()
    try:
        page = session.get(0, "/incidents/")
        api = session.get(1, "/api/v1/incidents/")
        receiver = send_alert(stack, 0, alert_batch("DuringOutage"))
        health = http("GET", f"{stack.web(1)}/healthz")
    finally:
        stack.start_postgres()
    print(
        f"rehearsal: during the outage: page {page[0]}, API {api[0]}, "
        f"receiver {receiver[0]}, healthz {health[0]}"
    )
    for status, body in (page, api, receiver):
        assert status == 503, body
        assert "cannot reach its database" in body and "Traceback" not in body
    assert health[0] == 503 and "The database does not answer." in health[1]

    assert session.get(0, "/incidents/")[0] == 200
    assert session.get(1, "/api/v1/incidents/")[0] == 200
    assert send_alert(stack, 1, alert_batch("AfterOutage"))[0] == 200
    after = stack.sql("SELECT count(*) FROM alerts_review_alert")[0][0]
    assert after == before + 1  # the refused alert was not half-saved; the later one was stored
    print("rehearsal: PostgreSQL back; both web processes answer without a restart")


# --- 6. 32 concurrent senders -------------------------------------------------------------------


def test_receivers_answer_32_concurrent_senders_for_20_seconds_and_lose_nothing(stack):
    seconds = float(os.environ.get("MORGUE_REHEARSAL_LOAD_SECONDS", "20"))
    deadline = time.monotonic() + seconds
    # Four of the senders send every other batch over DATA_UPLOAD_MAX_MEMORY_SIZE (2 MB by default).
    oversized = alert_batch("Oversized")
    oversized["alerts"][0]["annotations"]["description"] = "x" * (2 * 1024 * 1024)
    oversized_body = json.dumps(oversized).encode()

    def sender(number: int) -> list[tuple[str, int, str]]:
        answers = []
        sent = 0
        while time.monotonic() < deadline:
            if number >= 28 and sent % 2 == 0:
                status, body = post_oversized(
                    f"{stack.web((number + sent) % 2)}/api/v1/alerts/alertmanager/",
                    oversized_body,
                    {"Authorization": f"Bearer {stack.alert_token}"},
                )
                answers.append(("oversized", status, body))
            else:
                status, body = send_alert(stack, number + sent, alert_batch(f"Load-{number}-{sent}"))
                answers.append(("batch", status, body))
            sent += 1
        return answers

    with concurrent.futures.ThreadPoolExecutor(32) as pool:
        results = [answer for answers in pool.map(sender, range(32)) for answer in answers]
    batches = [status for kind, status, _ in results if kind == "batch"]
    refusals = [(status, body) for kind, status, body in results if kind == "oversized"]
    stored = stack.sql("SELECT count(*) FROM alerts_review_alert WHERE check_name LIKE 'Load-%%'")[0][0]
    stored_oversized = stack.sql("SELECT count(*) FROM alerts_review_alert WHERE check_name = 'Oversized'")
    sentence = "this Morgue takes at most"
    refused = sum(status == 413 and sentence in body for status, body in refusals)
    print(
        f"rehearsal: 32 senders for {seconds:.0f} s: {len(batches)} batches "
        f"({len(batches) / seconds:.0f}/s), {stored} alerts stored, statuses {sorted(set(batches))}; "
        f"{len(refusals)} oversized bodies, {refused} answered 413 with the sentence"
        f" (statuses {sorted({status for status, _ in refusals})})"
    )
    assert set(batches) == {200}
    assert stored == len(batches)
    assert refusals and refused == len(refusals), refusals[:3]
    assert stored_oversized == [(0,)]


# --- Helpers ------------------------------------------------------------------------------------


TASK_LINE = re.compile(r"Task ([\w.]+)\[([0-9a-f-]+)\] (received|succeeded|retry|raised|failed)")


def _unfinished_tasks(log: Path) -> set[str]:
    """The ids of the tasks a Celery worker's log says it received and did not finish."""
    states: dict[str, set[str]] = {}
    for _name, task, state in TASK_LINE.findall(log.read_text(errors="replace")):
        states.setdefault(task, set()).add(state)
    return {task for task, seen in states.items() if seen == {"received"}}


def _held_lines(stack: Stack, worker: str, tasks: set[str]) -> list[str]:
    """The dead worker's "received" lines of `tasks`."""
    lines = (stack.folder / f"{worker}.log").read_text(errors="replace").splitlines()
    return [line for line in lines if "received" in line and any(f"[{task}]" in line for task in tasks)]


def _ago(minutes: int) -> str:
    return (dt.datetime.now(dt.UTC) - dt.timedelta(minutes=minutes)).isoformat().replace("+00:00", "Z")


def _page_emails(stack: Stack, prefix: str) -> dict[tuple[str, str], int]:
    return {key: count for key, count in stack.mailbox.count().items() if prefix in key[1]}


class SignedIn:
    """A person's session, signed in on the first web process and used on both."""

    def __init__(self, stack: Stack, username: str) -> None:
        self.stack = stack
        self.jar = CookieJar()
        self.opener = urllib.request.build_opener(urllib.request.HTTPCookieProcessor(self.jar))
        login = f"{stack.web(0)}/accounts/login/"
        with self.opener.open(login, timeout=30) as response:
            token = re.search(r'name="csrfmiddlewaretoken" value="([^"]+)"', response.read().decode()).group(
                1
            )
        form = urllib.parse.urlencode(
            {"username": username, "password": PASSWORD, "csrfmiddlewaretoken": token}
        )
        request = urllib.request.Request(login, data=form.encode(), headers={"Referer": login})  # noqa: S310
        with self.opener.open(request, timeout=30) as response:
            assert "/accounts/login/" not in response.url, "sign-in failed"

    def _csrf(self) -> str:
        return next(cookie.value for cookie in self.jar if cookie.name == "csrftoken")

    def _open(self, method: str, index: int, path: str, body: object = None) -> tuple[int, bytes]:
        data = json.dumps(body).encode() if body is not None else None
        url = f"{self.stack.web(index)}{path}"
        request = urllib.request.Request(url, data=data, method=method)  # noqa: S310
        if data is not None:
            request.add_header("Content-Type", "application/json")
            request.add_header("X-CSRFToken", self._csrf())
        try:
            with self.opener.open(request, timeout=60) as response:
                return response.status, response.read()
        except urllib.error.HTTPError as error:
            return error.code, error.read()

    def get(self, index: int, path: str) -> tuple[int, str]:
        status, body = self._open("GET", index, path)
        return status, body.decode("utf-8", "replace")

    def get_bytes(self, index: int, path: str) -> bytes:
        status, body = self._open("GET", index, path)
        assert status == 200, (path, status)
        return body

    def post(self, index: int, path: str, body: object) -> tuple[int, str]:
        status, answer = self._open("POST", index, path, body)
        return status, answer.decode("utf-8", "replace")
