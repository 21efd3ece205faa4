"""Each provider's request against a local fake written to its published API; email over real SMTP."""

import base64
import datetime as dt
import json
import socket
from urllib.parse import parse_qs

import pytest
from aiosmtpd.controller import Controller
from django.core import mail
from twilio.request_validator import RequestValidator

from oncall import services
from oncall.models import NotificationStatus, PageStatus
from oncall.services import notifications
from tests.factories import make_rotation
from tests.oncall.delivery import deliver
from tests.oncall.fakes import fake_server

pytestmark = pytest.mark.django_db
NOW = dt.datetime(2026, 2, 10, 12, tzinfo=dt.UTC)
TOKEN = "twilio-auth-token"


@pytest.fixture
def step(settings):
    settings.MORGUE_OUTBOUND_ALLOW_LOOPBACK = True
    settings.TWILIO_ACCOUNT_SID = "AC0123"
    settings.TWILIO_AUTH_TOKEN = TOKEN
    settings.TWILIO_FROM = "+15005550006"
    team = make_rotation(slug="payments-primary", people=("gus", "hana")).team
    team.email = ""
    team.save()
    page = services.page_team(team=team, message="Card auths failing\nsince 12:00", now=NOW)
    return page.steps.get()


def notify(step, kind, address):
    method = notifications.add_contact_method(user=step.user, kind=kind, address=address)
    notifications.add_notification_rule(user=step.user, contact_method=method, delay_minutes=0)
    services.notify_step(step_id=step.pk, now=NOW)
    deliver(NOW)
    return step.notifications.get(kind=kind)


def test_an_sms_is_a_form_post_to_the_messages_resource(step, settings):
    # https://www.twilio.com/docs/messaging/api/message-resource#create-a-message-resource
    with fake_server() as twilio:
        twilio.answers = [(201, {"sid": "SM0001", "status": "queued"})]
        settings.TWILIO_API_URL = twilio.url
        sent = notify(step, "sms", "+14155550123")
    (request,) = twilio.requests
    assert request.path == "/2010-04-01/Accounts/AC0123/Messages.json"
    assert request.headers["Content-Type"] == "application/x-www-form-urlencoded"
    assert (
        request.headers["Authorization"] == "Basic " + base64.b64encode(f"AC0123:{TOKEN}".encode()).decode()
    )
    form = {key: values[0] for key, values in parse_qs(request.body.decode()).items()}
    assert form["To"] == "+14155550123" and form["From"] == "+15005550006"
    assert "\n" not in form["Body"] and "Card auths failing since 12:00" in form["Body"]
    assert f"reply ACK {step.page.pk}" in form["Body"] and "/oncall/ack/" in form["Body"]
    assert form["StatusCallback"].endswith(f"/oncall/twilio/status/{sent.pk}/")
    assert (sent.status, sent.provider_id) == (NotificationStatus.SENT, "SM0001")


def test_a_call_posts_twiml_to_the_calls_resource(step, settings):
    # https://www.twilio.com/docs/voice/api/call-resource#create-a-call-resource
    with fake_server() as twilio:
        twilio.answers = [(201, {"sid": "CA0001", "status": "queued"})]
        settings.TWILIO_API_URL = twilio.url
        notify(step, "voice", "+14155550123")
    (request,) = twilio.requests
    assert request.path == "/2010-04-01/Accounts/AC0123/Calls.json"
    form = {key: values[0] for key, values in parse_qs(request.body.decode()).items()}
    assert form["Twiml"].startswith("<Response><Say>") and "Card auths failing" in form["Twiml"]


def test_push_publishes_to_the_topic_with_an_acknowledge_action(step, settings):
    # https://docs.ntfy.sh/publish/ (headers Title, Priority, Click, Actions; Bearer auth)
    with fake_server() as ntfy:
        ntfy.answers = [(200, {"id": "sPs71M8A2T", "event": "message"})]
        settings.NTFY_URL = ntfy.url
        settings.NTFY_TOKEN = "tk_secret"
        sent = notify(step, "push", "gus-pages")
    (request,) = ntfy.requests
    assert request.path == "/gus-pages"
    assert request.headers["Priority"] == "urgent"
    assert request.headers["Authorization"] == "Bearer tk_secret"
    assert request.headers["Title"].startswith("[Morgue page] Payments L1: Card auths failing since 12:00")
    action = request.headers["Actions"]
    assert (
        action.startswith("http, Acknowledge, http://127.0.0.1:8000/oncall/ack/") and "method=POST" in action
    )
    assert request.body.decode() == "Card auths failing\nsince 12:00"
    assert sent.provider_id == "sPs71M8A2T"


def test_slack_compatible_and_teams_webhooks_get_their_own_json(step):
    # Slack: https://api.slack.com/messaging/webhooks ; Teams: an Adaptive Card in a message's attachments,
    # https://learn.microsoft.com/en-us/microsoftteams/platform/webhooks-and-connectors/how-to/connectors-using
    with fake_server() as chat:
        for kind in ("slack", "teams"):
            method = notifications.add_contact_method(user=step.user, kind=kind, address=f"{chat.url}/{kind}")
            notifications.add_notification_rule(user=step.user, contact_method=method, delay_minutes=0)
        services.notify_step(step_id=step.pk, now=NOW)
        deliver(NOW)
    bodies = {request.path: json.loads(request.body) for request in chat.requests}
    slack, card = bodies["/slack"], bodies["/teams"]
    assert set(slack) == {"text"} and "/oncall/ack/" in slack["text"]
    assert card["type"] == "message"
    (attachment,) = card["attachments"]
    assert attachment["contentType"] == "application/vnd.microsoft.card.adaptive"
    assert attachment["content"]["type"] == "AdaptiveCard"
    assert [action["title"] for action in attachment["content"]["actions"]] == [
        "Acknowledge",
        "Open the page",
    ]


def test_a_provider_error_is_retried_and_a_refusal_is_not(step, settings):
    with fake_server() as ntfy:
        ntfy.answers = [(503, {}), (200, {"id": "x"})]
        settings.NTFY_URL = ntfy.url
        first = notify(step, "push", "gus-pages")
        assert (first.status, first.error) == (
            NotificationStatus.RETRYING,
            "DeliveryFailed: HTTP 503 from " + ntfy.url + "/gus-pages",
        )
        deliver(NOW + dt.timedelta(minutes=1))
    first.refresh_from_db()
    assert first.status == NotificationStatus.SENT and first.attempts == 2


def test_a_status_callback_signed_by_twilio_moves_an_undelivered_sms_to_the_next_method(
    step, settings, client
):
    notifications.add_contact_method(user=step.user, kind="email", address="gus@work.example")
    with fake_server() as twilio:
        twilio.answers = [(201, {"sid": "SM0001", "status": "queued"})]
        settings.TWILIO_API_URL = twilio.url
        sms = notify(step, "sms", "+14155550123")
    url = f"http://127.0.0.1:8000/oncall/twilio/status/{sms.pk}/"
    params = {"MessageSid": "SM0001", "MessageStatus": "undelivered", "ErrorCode": "30003"}

    forged = client.post(url, params, HTTP_X_TWILIO_SIGNATURE="bm90IGl0")
    assert forged.status_code == 403
    signature = RequestValidator(TOKEN).compute_signature(url, params)
    assert client.post(url, params, HTTP_X_TWILIO_SIGNATURE=signature).status_code == 204
    assert client.post(url, params, HTTP_X_TWILIO_SIGNATURE=signature).status_code == 204  # a replay

    sms.refresh_from_db()
    assert sms.status == NotificationStatus.FAILED and "undelivered" in sms.error
    email = step.notifications.get(kind="email")
    assert email.fallback_for == sms
    deliver()  # due at once: the callback came now
    assert [message.to for message in mail.outbox] == [["gus@work.example"]]


def test_an_sms_reply_ack_acknowledges_the_page(step, client):
    notifications.add_contact_method(user=step.user, kind="sms", address="+14155550123")
    url = "http://127.0.0.1:8000/oncall/twilio/inbound/"
    params = {"From": "+14155550123", "Body": f" ack {step.page.pk} ", "MessageSid": "SM9"}
    signature = RequestValidator(TOKEN).compute_signature(url, params)

    response = client.post(url, params, HTTP_X_TWILIO_SIGNATURE=signature)

    assert response.status_code == 200 and response["Content-Type"] == "text/xml"
    assert b"is acknowledged" in response.content
    step.page.refresh_from_db()
    assert (step.page.status, step.page.acknowledged_by) == (PageStatus.ACKNOWLEDGED, step.user)
    stranger = {**params, "From": "+14155550199"}
    response = client.post(
        url, stranger, HTTP_X_TWILIO_SIGNATURE=RequestValidator(TOKEN).compute_signature(url, stranger)
    )
    assert b"No page of yours" in response.content
    assert client.post(url, params, HTTP_X_TWILIO_SIGNATURE="forged").status_code == 403


class Inbox:
    def __init__(self) -> None:
        self.messages: list = []

    async def handle_DATA(self, server, session, envelope):
        self.messages.append(envelope)
        return "250 OK"


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def test_email_goes_through_a_real_smtp_server_and_waits_out_one_that_is_down(step, settings):
    settings.EMAIL_BACKEND = "django.core.mail.backends.smtp.EmailBackend"
    settings.EMAIL_HOST, settings.EMAIL_PORT = "127.0.0.1", free_port()
    settings.EMAIL_TIMEOUT = 5
    services.notify_step(step_id=step.pk, now=NOW)
    deliver(NOW)  # nothing listens yet
    row = step.notifications.get()
    assert row.status == NotificationStatus.RETRYING and "Connection" in row.error

    inbox = Inbox()
    controller = Controller(inbox, hostname="127.0.0.1", port=settings.EMAIL_PORT)
    controller.start()
    try:
        deliver(NOW + dt.timedelta(minutes=1))
        deliver(NOW + dt.timedelta(minutes=2))
    finally:
        controller.stop()
    (envelope,) = inbox.messages
    assert envelope.rcpt_tos == [step.user.email]
    headers = envelope.content.decode().split("\r\n\r\n")[0]
    assert "Subject: [Morgue page] Payments L1: Card auths failing since 12:00" in headers
    row.refresh_from_db()
    assert (row.status, row.attempts) == (NotificationStatus.SENT, 2)
