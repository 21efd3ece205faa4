"""From a firing alert in the real Alertmanager (Debian's) to a resolved page, in one test.

Alertmanager sends to a live Morgue; the page reaches the L1 by SMS (a local
Twilio fake, its status callback signed with the `twilio` package's own
RequestValidator), by push (an ntfy fake) and by email (a real SMTP server,
aiosmtpd, on loopback). Nobody acknowledges, so the beat's sweep escalates to
the L2; the L2 taps the acknowledge link in the email the sink received (GET
asks, POST acknowledges), which stops escalation and silences the alert in
Alertmanager (read back with amtool). When the alert ends, the page resolves,
its silence expires and everyone it reached is told.

Tasks Morgue enqueues run at once in the process that enqueued them; those
with a countdown (escalation timers) are left to the beat's sweep, which the
test calls at the instant the step runs out, as the beat would a minute later.
"""

import datetime as dt
import email
import email.policy
import json
import re
import urllib.error
import urllib.parse
import urllib.request
from collections import Counter
from urllib.parse import parse_qs

import pytest
from aiosmtpd.controller import Controller
from django.utils import timezone
from twilio.request_validator import RequestValidator

import alerts_review.tasks
import oncall.tasks
from alerts_review.models import Alert, AlertSilence
from morgue.celery import app
from oncall import selectors, services
from oncall.models import Notification, NotificationStatus, Page, PageStatus
from oncall.services import notifications
from tests.factories import make_rotation
from tests.oncall.fakes import fake_server

from . import test_alertmanager
from .conftest import free_port, paged, settled, wait_for
from .test_alertmanager import amtool, rfc3339

pytestmark = [pytest.mark.integration, pytest.mark.django_db(transaction=True)]

UTC = dt.UTC
TOKEN = "twilio-auth-token"
TASKS = (alerts_review.tasks, oncall.tasks)  # registered with the app, so they run by name below
alertmanager = test_alertmanager.alertmanager
start_alertmanager = test_alertmanager.start_alertmanager
source = test_alertmanager.source


def recipients(message: email.message.EmailMessage) -> list[str]:
    return [address.strip() for address in str(message["To"]).split(",")]


class Sink:
    """A real SMTP server's handler: every message it accepted, parsed."""

    def __init__(self) -> None:
        self.messages: list[email.message.EmailMessage] = []

    async def handle_DATA(self, server, session, envelope):
        message = email.message_from_bytes(envelope.content, policy=email.policy.default)
        self.messages.append(message)  # type: ignore[arg-type]
        return "250 OK"

    def to(self, address: str, subject_part: str = "") -> list[email.message.EmailMessage]:
        return [
            message
            for message in self.messages
            if address in recipients(message) and subject_part in str(message["Subject"])
        ]


@pytest.fixture
def sink(settings):
    handler = Sink()
    controller = Controller(handler, hostname="127.0.0.1", port=free_port())
    controller.start()
    settings.EMAIL_BACKEND = "django.core.mail.backends.smtp.EmailBackend"
    settings.EMAIL_HOST, settings.EMAIL_PORT, settings.EMAIL_TIMEOUT = "127.0.0.1", controller.port, 5
    yield handler
    controller.stop()


@pytest.fixture
def providers(settings):
    """The Twilio and ntfy fakes, and Morgue pointed at them."""
    settings.MORGUE_OUTBOUND_ALLOW_LOOPBACK = True
    settings.TWILIO_ACCOUNT_SID, settings.TWILIO_AUTH_TOKEN = "AC0123", TOKEN
    settings.TWILIO_FROM = "+15005550006"
    with fake_server() as twilio, fake_server() as ntfy:
        twilio.answers = [(201, {"sid": "SM0001", "status": "queued"})]
        ntfy.answers = [(200, {"id": "ntfy0001", "event": "message"})]
        settings.TWILIO_API_URL, settings.NTFY_URL = twilio.url, ntfy.url
        yield twilio, ntfy


@pytest.fixture
def run_tasks(monkeypatch):
    """What Morgue enqueues runs at once, in the enqueuing thread; countdowns are the sweep's job."""

    def send_task(name, args=(), countdown=None, **options):
        if countdown is None:
            app.tasks[name].apply(args=args, throw=True)

    monkeypatch.setattr(app, "send_task", send_task)


def form(request) -> dict[str, str]:
    return {key: values[0] for key, values in parse_qs(request.body.decode()).items()}


def fetch(url: str, *, data: bytes | None = None, headers: dict[str, str] | None = None) -> tuple[int, str]:
    request = urllib.request.Request(url, data=data, headers=headers or {})  # noqa: S310 (loopback)
    try:
        with urllib.request.urlopen(request, timeout=20) as response:  # noqa: S310 (loopback)
            return response.status, response.read().decode()
    except urllib.error.HTTPError as error:
        return error.code, error.read().decode()


def test_a_firing_alert_pages_escalates_is_acknowledged_silenced_and_resolves_itself(
    alertmanager, daemons, source, sink, providers, run_tasks, settings, live_server
):
    twilio, ntfy = providers
    settings.MORGUE_BASE_URL = live_server.url  # the links people tap, and what Twilio signs
    settings.ALERTMANAGER_ALLOWED_HOSTS = [alertmanager.removeprefix("http://")]
    now = timezone.now()
    rotation = make_rotation(
        slug="ops-primary",
        people=("ana", "ben"),
        has_l2=True,
        escalation_timeout_minutes=5,
        first_shift_date=now.date() - dt.timedelta(days=7),
        now=now,
    )
    ops = rotation.team
    ops.email = ""
    # Unacknowledged at L2, the page would go on to the fallback team's L1.
    ops.fallback_team = make_rotation(
        slug="dba-primary",
        people=("cy",),
        has_l2=False,
        first_shift_date=now.date() - dt.timedelta(days=7),
        now=now,
    ).team
    ops.save()
    source.team, source.alertmanager_url = ops, alertmanager
    source.full_clean()
    source.save()
    l1, l2 = (selectors.person_on_call(team=ops, at=now, level=level) for level in ("L1", "L2"))
    assert l1 and l2 and l1 != l2
    # The L1 is reached at once by SMS, push and email; the L2 by email only (a new person's default).
    for kind, address in (("sms", "+14155550123"), ("push", "ana-pages"), ("email", l1.email)):
        method = notifications.add_contact_method(user=l1, kind=kind, address=address)
        notifications.add_notification_rule(user=l1, contact_method=method, delay_minutes=0)

    # 1. Alertmanager fires; Morgue pages the L1.
    started = dt.datetime.now(UTC).replace(microsecond=0) - dt.timedelta(minutes=1)
    labels = ["alertname=DatabaseDown", "instance=db12:9100", "severity=critical", "team=ops"]
    amtool(alertmanager, "alert", "add", *labels, f"--start={rfc3339(started)}")
    page = wait_for(
        "Morgue to page ops' L1",
        paged(Page.objects.first, beat=alerts_review.tasks.sweep_paging.apply),
        daemons=daemons,
    )
    wait_for("the L1's email at the SMTP sink", lambda: sink.to(l1.email, "[Morgue page]"), daemons=daemons)
    wait_for("the SMS at the Twilio fake", lambda: twilio.requests, daemons=daemons)
    wait_for("the push at the ntfy fake", lambda: ntfy.requests, daemons=daemons)
    sent_to_l1 = Notification.objects.filter(step__page=page, user=l1, status=NotificationStatus.SENT)
    wait_for("Morgue to mark the three sent", settled(lambda: sent_to_l1.count() == 3), daemons=daemons)
    alert = Alert.objects.get(check_name="DatabaseDown")
    assert alert.page == page and alert.identity
    (sms_request,) = twilio.requests
    sms = form(sms_request)
    assert sms["To"] == "+14155550123" and "DatabaseDown on db12:9100" in sms["Body"]
    assert f"{live_server.url}/oncall/ack/" in sms["Body"]
    (push,) = ntfy.requests
    assert push.path == "/ana-pages" and push.headers["Priority"] == "urgent"
    assert f"{live_server.url}/oncall/ack/" in push.headers["Actions"]

    # Twilio reports the SMS delivered, signed as Twilio signs it; a forged report is refused.
    callback = sms["StatusCallback"]
    report = {"MessageSid": "SM0001", "MessageStatus": "delivered", "To": sms["To"]}
    body = urllib.parse.urlencode(report).encode()
    form_type = {"Content-Type": "application/x-www-form-urlencoded"}
    signature = RequestValidator(TOKEN).compute_signature(callback, report)
    assert fetch(callback, data=body, headers={**form_type, "X-Twilio-Signature": "Zm9yZ2Vk"})[0] == 403
    assert fetch(callback, data=body, headers={**form_type, "X-Twilio-Signature": signature})[0] == 204
    sent = Notification.objects.get(step__page=page, kind="sms")
    assert (sent.status, sent.provider_id) == (NotificationStatus.DELIVERED, "SM0001")

    # 2. Nobody acknowledges: at the end of the L1's five minutes the beat's sweep escalates to the L2.
    first = page.steps.get(number=1)
    services.sweep_pages(now=first.due_at)
    second = page.steps.get(number=2)
    assert (second.level, second.user) == ("L2", l2)
    (l2_email,) = wait_for(
        "the L2's email at the sink", lambda: sink.to(l2.email, "[Morgue page]"), daemons=daemons
    )

    # 3. The L2 taps the acknowledge link in the email they received: GET asks, POST acknowledges.
    text = l2_email.get_body(preferencelist=("plain",)).get_content()
    (link,) = re.findall(rf"{re.escape(live_server.url)}/oncall/ack/\S+/", text)
    status, html = fetch(link)
    assert status == 200 and 'method="post"' in html and "Acknowledge as ben" in html
    page.refresh_from_db()
    assert page.status == PageStatus.OPEN  # a link previewer's GET changes nothing
    status, html = fetch(link, data=b"")
    assert status == 200 and "escalation stopped" in html
    page.refresh_from_db()
    assert (page.status, page.acknowledged_by) == (PageStatus.ACKNOWLEDGED, l2)

    # Escalation stopped: when the L2's time runs out nobody else is paged.
    services.sweep_pages(now=second.due_at + dt.timedelta(minutes=1))
    assert page.steps.count() == 2
    fallback = selectors.person_on_call(team=ops.fallback_team, at=now, level="L1")
    assert fallback and not sink.to(fallback.email)

    # 4. Acknowledging silenced the alert in Alertmanager, as amtool reads it back.
    def silences(*args: str) -> list[dict]:
        return json.loads(amtool(alertmanager, "silence", "query", "-o", "json", *args))

    (silence,) = silences()
    held = AlertSilence.objects.get(page=page)
    assert silence["id"] == held.silence_id and silence["status"]["state"] == "active"
    assert {(matcher["name"], matcher["value"]) for matcher in silence["matchers"]} == set(
        alert.labels.items()
    )
    assert "ben" in silence["comment"] and f"page {page.pk}" in silence["comment"]

    # 5. The alert ends. Alertmanager mutes the resolved notification of a silenced alert, so
    # the beat's sweep asks it for its active alerts and stores the resolution, as the receiver would.
    ended = dt.datetime.now(UTC).replace(microsecond=0) - dt.timedelta(seconds=5)
    amtool(alertmanager, "alert", "add", *labels, f"--start={rfc3339(started)}", f"--end={rfc3339(ended)}")

    def resolved() -> bool:
        alerts_review.tasks.sweep_paging.apply(throw=True)
        page.refresh_from_db()
        return page.status == PageStatus.RESOLVED

    wait_for("the page to resolve itself", resolved, daemons=daemons)
    alert.refresh_from_db()
    held.refresh_from_db()
    assert alert.resolved_at is not None and held.expired_at is not None
    assert silences() == []
    (expired,) = silences("--expired")
    assert expired["id"] == held.silence_id
    for person in (l1, l2):
        assert len(sink.to(person.email, "resolved")) == 1, f"{person} was told of the resolution once"

    # What went out, counted where it arrived: one of each per person and step, nothing more.
    emails = Counter(
        (address, "resolved" if "resolved" in str(message["Subject"]) else "page")
        for message in sink.messages
        for address in recipients(message)
    )
    print(
        f"\nSMS at the Twilio fake: {len(twilio.requests)}; pushes at the ntfy fake: {len(ntfy.requests)}; "
        f"emails at the SMTP sink: {dict(emails)}; page steps: {page.steps.count()}; "
        f"silences created: {len(silences('--expired'))}"
    )
    assert len(twilio.requests) == 1 and len(ntfy.requests) == 1
    assert emails == {
        (l1.email, "page"): 1,
        (l2.email, "page"): 1,
        (l1.email, "resolved"): 1,
        (l2.email, "resolved"): 1,
    }
