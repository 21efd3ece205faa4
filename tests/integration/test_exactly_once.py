"""Each notification per person, method and step goes out once, with real Celery workers on Redis.

Workers are `celery -A morgue worker` processes (tests/integration/worker_settings.py)
on the suite's PostgreSQL database and a Redis broker (MORGUE_TEST_REDIS_URL),
each test on a queue of its own. What went out is counted where it arrives: the
Twilio and ntfy fakes (tests/oncall/fakes.py) and a real SMTP server (aiosmtpd).
A fake or the sink counts a message as taken only when it answered a caller
still waiting: a caller killed or timed out before the answer created nothing.
"""

import asyncio
import datetime as dt
import email
import email.policy
import os
import signal
import sys
import time
import uuid
from collections import Counter
from pathlib import Path

import pytest
from aiosmtpd.controller import Controller
from django.db import connection
from django.utils import timezone

from morgue.celery import app
from oncall import selectors, services
from oncall.models import Notification, NotificationStatus, Page
from oncall.services import notifications
from tests.brokers import broker
from tests.factories import make_rotation
from tests.oncall.fakes import fake_server

from .conftest import Daemon, free_port, wait_for

pytestmark = [pytest.mark.integration, pytest.mark.celery_worker, pytest.mark.django_db(transaction=True)]

# The workers' claim lease (tests/integration/worker_settings.py reads the same variable).
WORKER_CLAIM_LEASE_SECONDS = int(os.environ.get("MORGUE_TEST_CLAIM_LEASE", "6"))

ROOT = Path(__file__).resolve().parents[2]
TOKEN = "twilio-auth-token"


def required(reason: str) -> None:
    if os.environ.get("MORGUE_REQUIRE_REAL_PROGRAMS") == "1":
        pytest.fail(f"{reason}; CI requires it (MORGUE_REQUIRE_REAL_PROGRAMS=1)", pytrace=False)
    pytest.skip(reason)


@pytest.fixture
def redis_url() -> str:
    if connection.vendor != "postgresql":
        # Two worker processes and the test share one database: SQLite's in-memory test database cannot.
        pytest.skip("needs the suite on PostgreSQL (DATABASE_URL=postgres://…); .ci/run's second run is")
    url = os.environ.get("MORGUE_TEST_REDIS_URL", "")
    if not url:
        required("MORGUE_TEST_REDIS_URL is not set (a Redis database for real Celery workers)")
    import redis

    try:
        redis.Redis.from_url(url, socket_timeout=2).ping()
    except redis.RedisError as error:
        required(f"Redis at MORGUE_TEST_REDIS_URL does not answer: {error}")
    return url


class Sink:
    """A real SMTP server's handler, slow when told: a message is taken when 250 reaches a waiting client."""

    def __init__(self) -> None:
        self.arrived: list[email.message.EmailMessage] = []
        self.accepted: list[email.message.EmailMessage] = []
        self.delays = [0.0]

    async def handle_DATA(self, server, session, envelope):
        message = email.message_from_bytes(envelope.content, policy=email.policy.default)
        self.arrived.append(message)  # type: ignore[arg-type]
        delay = self.delays.pop(0) if len(self.delays) > 1 else self.delays[0]
        if delay:
            await asyncio.sleep(delay)
            if server.transport is None or server.transport.is_closing():
                return "451 The client left"
        self.accepted.append(message)  # type: ignore[arg-type]
        return "250 OK"


@pytest.fixture
def outside(settings):
    """The SMTP sink and the Twilio and ntfy fakes, on loopback."""
    sink = Sink()
    controller = Controller(sink, hostname="127.0.0.1", port=free_port())
    controller.start()
    with fake_server() as twilio, fake_server() as ntfy:
        twilio.answers = [(201, {"sid": "SM0001", "status": "queued"})]
        ntfy.answers = [(200, {"id": "ntfy0001", "event": "message"})]
        yield sink, twilio, ntfy, controller.port
    controller.stop()


@pytest.fixture
def workers(redis_url, outside, tmp_path, monkeypatch, daemons):
    """Start real Celery workers: `workers()` starts one and returns its Daemon; all stop at teardown."""
    _sink, twilio, ntfy, smtp_port = outside
    queue = f"morgue-test-{uuid.uuid4().hex[:8]}"
    database = connection.settings_dict
    env = {
        **os.environ,
        "DJANGO_SETTINGS_MODULE": "tests.integration.worker_settings",
        "PYTHONPATH": str(ROOT),
        "DATABASE_URL": (
            f"postgres://{database['USER']}:{database['PASSWORD'] or ''}@{database['HOST'] or '127.0.0.1'}:"
            f"{database['PORT'] or 5432}/{database['NAME']}"
        ),
        "CELERY_BROKER_URL": redis_url,
        "CELERY_RESULT_BACKEND": "",
        "MORGUE_VAR_DIR": str(tmp_path / "var"),
        "EMAIL_HOST": "127.0.0.1",
        "EMAIL_PORT": str(smtp_port),
        "TWILIO_ACCOUNT_SID": "AC0123",
        "TWILIO_AUTH_TOKEN": TOKEN,
        "TWILIO_FROM": "+15005550006",
        "TWILIO_API_URL": twilio.url,
        "NTFY_URL": ntfy.url,
        "MORGUE_TEST_EMAIL_TIMEOUT": "2",
        "MORGUE_TEST_QUEUE": queue,
    }
    # What the test process enqueues goes to the same Redis, on this test's queue only.
    stack = broker(redis_url)
    stack.__enter__()
    send_task = app.send_task
    monkeypatch.setattr(app, "send_task", lambda name, **options: send_task(name, queue=queue, **options))
    started: list[Daemon] = []

    def start(name: str = "w1", concurrency: int = 2) -> Daemon:
        log = tmp_path / f"worker-{name}.log"
        daemon = Daemon(
            f"celery worker {name}",
            [
                sys.executable,
                "-m",
                "celery",
                "-A",
                "morgue",
                "worker",
                "-Q",
                queue,
                "-n",
                f"{name}-{queue}@%h",
                f"--concurrency={concurrency}",
                "--pool=prefork",
                "--without-mingle",
                "--without-gossip",
                "--without-heartbeat",
                "--loglevel=INFO",
            ],
            log,
            cwd=ROOT,
            env=env,
            start_new_session=True,  # its own process group, so a kill -9 reaches the pool too
        )
        daemons.append(daemon)
        started.append(daemon)
        wait_for(
            f"worker {name} to be ready", lambda: "ready." in log.read_text(), daemons=[daemon], timeout=40
        )
        return daemon

    yield start
    for daemon in started:
        daemon.stop()  # before the queue goes: a warm shutdown puts back what it held
    stack.__exit__(None, None, None)
    import redis

    redis.Redis.from_url(redis_url).delete(
        queue, f"_kombu.binding.{queue}", f"_kombu.binding_permanent.{queue}"
    )


def kill_9(daemon: Daemon) -> None:
    """kill -9 a worker and its pool processes, as a machine losing power would."""
    os.killpg(daemon.process.pid, signal.SIGKILL)
    daemon.process.wait(timeout=10)


@pytest.fixture
def team():
    now = timezone.now()
    team = make_rotation(
        slug="payments-primary",
        people=("gus", "hana"),
        escalation_timeout_minutes=5,
        first_shift_date=now.date() - dt.timedelta(days=7),
        now=now,
    ).team
    team.email = ""
    team.save()
    return team


def on_call(team):
    return selectors.person_on_call(team=team, at=timezone.now())


def reach_by_everything(user) -> None:
    for kind, address in (("sms", "+14155550123"), ("push", f"{user.username}-pages"), ("email", user.email)):
        method = notifications.add_contact_method(user=user, kind=kind, address=address)
        notifications.add_notification_rule(user=user, contact_method=method, delay_minutes=0)


def counted(sink: Sink, twilio, ntfy) -> Counter:
    """What arrived and was taken, by (person's address, method)."""
    taken: Counter = Counter()
    for message in sink.accepted:
        taken[(str(message["To"]), "email")] += 1
    for request in twilio.accepted:
        taken[(request.body.decode().split("To=")[1].split("&")[0], "sms")] += 1
    for request in ntfy.accepted:
        taken[(request.path.strip("/"), "push")] += 1
    return taken


def all_sent(rows, count: int):
    return lambda: rows.filter(status=NotificationStatus.SENT).count() == count


def test_a_task_delivered_twice_sends_each_notification_once(workers, outside, team):
    sink, twilio, ntfy, _ = outside
    workers("w1", concurrency=2)
    reach_by_everything(on_call(team))
    page = services.page_team(team=team, message="Checkout down")
    step = page.steps.get()
    # Each task is published twice, as a broker redelivering it would; and each send once more.
    for _ in range(2):
        app.send_task("oncall.tasks.notify_page_step", args=(step.pk,))
    rows = Notification.objects.filter(step=step)
    wait_for("the step's three notifications to be planned", lambda: rows.count() == 3, daemons=[])
    for row_id in rows.values_list("pk", flat=True):
        for _ in range(2):
            app.send_task("oncall.tasks.send_notification", args=(row_id,))
    wait_for("all three sent", all_sent(rows, 3), daemons=[])
    time.sleep(2)  # let any duplicate finish
    taken = counted(sink, twilio, ntfy)
    print(
        f"\ntaken at the fakes and the sink: {dict(taken)}; arrived: "
        f"{len(sink.arrived)} emails, {len(twilio.requests)} SMS, {len(ntfy.requests)} pushes"
    )
    assert taken == {(step.user.email, "email"): 1, ("%2B14155550123", "sms"): 1, ("gus-pages", "push"): 1}
    assert (len(sink.arrived), len(twilio.requests), len(ntfy.requests)) == (1, 1, 1)


def test_a_worker_killed_mid_send_leaves_the_notification_to_another_worker(workers, outside, team):
    _sink, _twilio, ntfy, _ = outside
    ntfy.delays = [8.0, 0.0]  # the first push hangs at the provider: the kill lands mid-send
    first = workers("w1", concurrency=1)
    l1 = on_call(team)
    method = notifications.add_contact_method(user=l1, kind="push", address="gus-pages")
    notifications.add_notification_rule(user=l1, contact_method=method, delay_minutes=0)
    page = services.page_team(team=team, message="Checkout down")
    step = page.steps.get()
    wait_for("the push to reach the slow provider", lambda: ntfy.requests, daemons=[first])
    kill_9(first)
    killed_at = time.monotonic()
    row = Notification.objects.get(step=step)
    assert row.status == NotificationStatus.SENDING  # claimed by the dead worker, not sent
    # The dead worker's claim holds for the claim lease: a redelivery that ran
    # before it ends would rightly leave the row alone. Start the second worker
    # once it has ended; the broker hands it the task (kombu restores unacked
    # messages past the visibility timeout every 10 s).
    time.sleep(WORKER_CLAIM_LEASE_SECONDS + 1)
    workers("w2", concurrency=1)
    rows = Notification.objects.filter(step=step)
    wait_for("a second worker to send it", all_sent(rows, 1), daemons=[], timeout=90)
    time.sleep(1)
    row.refresh_from_db()
    print(
        f"\nkilled mid-send; redelivered and sent {time.monotonic() - killed_at:.0f} s later; "
        f"pushes arrived {len(ntfy.requests)}, taken {len(ntfy.accepted)}; attempts {row.attempts}"
    )
    assert len(ntfy.accepted) == 1 and row.attempts == 2


def test_a_send_that_timed_out_is_retried_and_taken_once(workers, outside, team):
    sink, _twilio, _ntfy, _ = outside
    sink.delays = [4.0, 0.0]  # longer than the worker's 2 s SMTP timeout, once
    workers("w1", concurrency=2)
    page = services.page_team(team=team, message="Checkout down")
    step = page.steps.get()
    rows = Notification.objects.filter(step=step)
    wait_for(
        "the email to time out once",
        lambda: rows.filter(status=NotificationStatus.RETRYING).exists(),
        daemons=[],
    )
    # Its retry comes after the first backoff (30 s), from the worker's own countdown.
    wait_for("the retry to send it", all_sent(rows, 1), daemons=[], timeout=50)
    row = rows.get()
    print(f"\nemails arrived {len(sink.arrived)}, taken {len(sink.accepted)}; attempts {row.attempts}")
    assert len(sink.accepted) == 1 and row.attempts == 2


def test_a_late_escalation_racing_an_acknowledgement_notifies_nobody_twice(workers, outside, team):
    sink, _twilio, _ntfy, _ = outside
    workers("w1", concurrency=2)
    past = timezone.now() - dt.timedelta(minutes=10)
    pages = []
    for number in range(8):
        page = services.page_team(team=team, message=f"Checkout down {number}", now=past)
        pages.append(page)
    for page in pages:
        wait_for(
            "the L1's email",
            lambda page=page: Notification.objects.filter(
                step__page=page, status=NotificationStatus.SENT
            ).exists(),
            daemons=[],
        )
    # Each page's L1 step ran out long ago: its escalation task (twice) arrives as the L1 acknowledges,
    # a little later for each page, so some escalations win the race and some lose it.
    for number, page in enumerate(pages):
        app.send_task("oncall.tasks.escalate_page_step", args=(page.pk, 1))
        app.send_task("oncall.tasks.escalate_page_step", args=(page.pk, 1))
        time.sleep(number * 0.1)
        services.acknowledge_page(page=page, user=page.steps.get(number=1).user, silence=False)
    time.sleep(6)  # what the worker does with the escalations, and any L2 notice
    escalated = sum(Page.objects.get(pk=page.pk).steps.count() > 1 for page in pages)
    l2 = {step.user.email for page in pages for step in page.steps.filter(number=2)}
    by_page = Counter(str(message["Subject"]) for message in sink.accepted)
    sent_rows = Notification.objects.filter(step__page__in=pages, status=NotificationStatus.SENT).count()
    print(
        f"\n{len(pages)} pages, {escalated} escalated before the acknowledgement landed; "
        f"emails taken {len(sink.accepted)}, sent rows {sent_rows}, L2 addresses {sorted(l2)}"
    )
    assert len(sink.accepted) == sent_rows
    assert all(count == 1 for count in by_page.values()), by_page
    for page in Page.objects.filter(pk__in=[page.pk for page in pages]):
        for step in page.steps.all():
            assert step.notifications.filter(status=NotificationStatus.SENT).count() <= 1
        # Nothing was claimed for sending after the acknowledgement: the rest was cancelled.
        late = Notification.objects.filter(step__page=page, claimed_at__gt=page.acknowledged_at)
        assert not late.exists(), list(late.values("kind", "status", "claimed_at"))
