import datetime as dt
from email.header import decode_header, make_header
from pathlib import Path
from unittest import mock

import pytest
import time_machine
from django.conf import settings
from django.core import mail

from morgue.emails import Alternative, Attachment, on_behalf_of, render_email, send_email, was_sent
from morgue.models import DeliveryStatus, EmailDelivery

pytestmark = pytest.mark.django_db

NOW = dt.datetime(2026, 3, 2, 10, 0, tzinfo=dt.UTC)
EMAILS = Path(settings.BASE_DIR) / "templates" / "emails"
SMTP_DOWN = mock.patch("django.core.mail.EmailMultiAlternatives.send", side_effect=OSError("SMTP is down"))


@pytest.fixture(autouse=True)
def greeting(settings, tmp_path):
    """A small email of our own, so these tests do not depend on any app's templates."""
    folder = tmp_path / "emails"
    folder.mkdir()
    (folder / "greeting-subject.txt").write_text("Hello {{ name }}\n")
    (folder / "greeting-body.txt").write_text(
        "{% autoescape off %}Hello {{ name }}, {{ note }}{% endautoescape %}\n"
    )
    (folder / "greeting-body.html").write_text("<p>Hello <b>{{ name }}</b>, {{ note }}</p>\n")
    settings.TEMPLATES = [{**settings.TEMPLATES[0], "DIRS": [tmp_path, *settings.TEMPLATES[0]["DIRS"]]}]


def greet(*, key: str = "1", **options) -> EmailDelivery | None:
    return send_email(
        name="greeting", key=key, to=["ana@example.com"], context={"name": "Ana", "note": "a < b"}, **options
    )


def test_every_email_has_a_subject_a_text_body_and_an_html_body():
    parts = {path.name for path in EMAILS.iterdir()}
    names = {path.name.removesuffix("-subject.txt") for path in EMAILS.glob("*-subject.txt")}
    assert names == {
        "alert-report",
        "incident-role-change",
        "incident-status-update",
        "oncall-drill",
        "oncall-page",
        "oncall-page-resolved",
        "oncall-shift-reminder",
        "oncall-swap-asked",
        "remediation-digest",
        "review-cancellation",
        "review-invitation",
        "schedule-change",
    }
    assert parts == {f"{name}-{part}" for name in names for part in ("subject.txt", "body.txt", "body.html")}


def test_an_email_renders_its_subject_on_one_line_and_both_bodies():
    rendered = render_email("greeting", {"name": "Ana\nRuiz  Díaz", "note": "a < b"})
    assert rendered.subject == "Hello Ana Ruiz Díaz"
    assert rendered.text == "Hello Ana\nRuiz  Díaz, a < b\n"
    assert rendered.html == "<p>Hello <b>Ana\nRuiz  Díaz</b>, a &lt; b</p>\n"


def test_the_message_carries_the_html_alternative_and_the_attachments():
    calendar = Attachment(
        "review.ics", b"BEGIN:VCALENDAR\r\nEND:VCALENDAR\r\n", "text/calendar; method=REQUEST"
    )

    delivery = greet(attachments=[calendar])

    (message,) = mail.outbox
    assert (message.subject, message.body, message.to) == (
        "Hello Ana",
        "Hello Ana, a < b\n",
        ["ana@example.com"],
    )
    assert message.alternatives[0] == ("<p>Hello <b>Ana</b>, a &lt; b</p>\n", "text/html")
    # Django keeps a text/* attachment as text.
    assert message.attachments == [
        ("review.ics", "BEGIN:VCALENDAR\r\nEND:VCALENDAR\r\n", "text/calendar; method=REQUEST")
    ]
    assert (delivery.status, delivery.recipient_count) == (DeliveryStatus.SENT, 1)


def test_a_further_alternative_keeps_its_type_parameters_beside_one_charset(settings):
    settings.DEFAULT_FROM_EMAIL = "Morgue <morgue@example.org>"
    invitation = Alternative(
        "BEGIN:VCALENDAR\r\nEND:VCALENDAR\r\n", "text/calendar; method=REQUEST; charset=utf-8"
    )

    greet(alternatives=[invitation], from_email=on_behalf_of("Zoë Díaz"), reply_to=["zoe@example.com"])

    mime = mail.outbox[0].message()
    (part,) = [part for part in mime.walk() if part.get_content_type() == "text/calendar"]
    assert part.get_param("method") == "REQUEST"
    assert part["Content-Type"].lower().count("charset") == 1
    assert str(make_header(decode_header(mime["From"]))) == "Zoë Díaz via Morgue <morgue@example.org>"
    assert mime["Reply-To"] == "zoe@example.com"


@time_machine.travel(NOW, tick=False)
def test_sending_the_same_delivery_twice_sends_once():
    first = greet()
    second = greet()

    assert len(mail.outbox) == 1
    assert first is not None and second is None
    delivery = EmailDelivery.objects.get()
    assert (delivery.status, delivery.sent_at, delivery.attempts) == (DeliveryStatus.SENT, NOW, 1)
    assert was_sent(name="greeting", key="1")


def test_another_key_sequence_or_recipient_is_another_delivery():
    greet()
    greet(key="2")
    greet(sequence=1)
    greet(recipient="7")

    assert len(mail.outbox) == 4
    assert EmailDelivery.objects.sent().count() == 4


def test_a_failed_send_is_marked_and_a_retry_sends_it_once():
    with SMTP_DOWN, pytest.raises(OSError):
        greet()
    failed = EmailDelivery.objects.get()
    assert (failed.status, failed.error) == (DeliveryStatus.FAILED, "OSError: SMTP is down")
    assert not was_sent(name="greeting", key="1")

    assert greet() is not None
    assert greet() is None
    assert len(mail.outbox) == 1
    sent = EmailDelivery.objects.get()
    assert (sent.status, sent.attempts, sent.error) == (DeliveryStatus.SENT, 2, "")


def test_a_template_that_fails_to_render_leaves_the_delivery_for_a_retry():
    with (
        mock.patch("morgue.emails.render_to_string", side_effect=RuntimeError("broken template")),
        pytest.raises(RuntimeError),
    ):
        greet()
    assert EmailDelivery.objects.get().status == DeliveryStatus.FAILED
    assert greet() is not None


def test_a_delivery_another_worker_is_sending_is_left_alone_until_its_claim_runs_out():
    with time_machine.travel(NOW, tick=False):
        EmailDelivery.objects.create(name="greeting", key="1", claimed_at=NOW)  # a worker that died mid-send
        assert greet() is None
    with time_machine.travel(NOW + dt.timedelta(minutes=3, seconds=50), tick=False):
        assert greet() is None
    with time_machine.travel(NOW + dt.timedelta(minutes=4, seconds=10), tick=False):
        assert greet() is not None
    assert len(mail.outbox) == 1


def test_the_context_function_runs_only_for_the_worker_that_claims_the_delivery():
    calls = []

    def context() -> dict:
        calls.append(1)
        return {"name": "Ana", "note": "costly"}

    for _ in range(2):
        send_email(name="greeting", key="1", to=["ana@example.com"], context=context)

    assert calls == [1]
    assert "costly" in mail.outbox[0].body


def test_an_email_to_nobody_is_refused_before_anything_is_claimed():
    with pytest.raises(ValueError, match="nobody"):
        send_email(name="greeting", key="1", to=[], context={})
    assert not EmailDelivery.objects.exists()
