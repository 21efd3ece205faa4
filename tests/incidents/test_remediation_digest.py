import datetime as dt
from unittest import mock

import pytest
import time_machine
from django.core import mail

from incidents.models import RemediationStatus
from incidents.tasks.remediation import send_remediation_digest, send_remediation_digests
from morgue.models import DeliveryStatus, EmailDelivery
from tests.factories import ProfileFactory, RemediationItemFactory, UserFactory

# 10:00 UTC on Monday 2 March 2026.
NOW = dt.datetime(2026, 3, 2, 10, 0, tzinfo=dt.UTC)
pytestmark = pytest.mark.usefixtures("frozen")


@pytest.fixture
def frozen():
    with time_machine.travel(NOW, tick=False):
        yield


@pytest.fixture
def dana(db):
    return ProfileFactory(user=UserFactory(username="dana", email="dana@example.com"), time_zone="UTC").user


def digest_dates() -> list[dt.date]:
    deliveries = EmailDelivery.objects.filter(name="remediation-digest").sent()
    return [dt.date.fromisoformat(key) for key in deliveries.values_list("key", flat=True)]


def test_one_email_lists_overdue_and_soon_due_items(dana):
    RemediationItemFactory(owner=dana, title="Overdue runbook", due_date=dt.date(2026, 2, 20))
    RemediationItemFactory(owner=dana, title="Soon alert", due_date=dt.date(2026, 3, 5))
    RemediationItemFactory(owner=dana, title="Later", due_date=dt.date(2026, 3, 6))
    RemediationItemFactory(owner=dana, title="Finished", due_date=dt.date(2026, 2, 1),
                           status=RemediationStatus.DONE, completed_at=NOW)  # fmt: skip

    send_remediation_digest(dana.pk)

    assert len(mail.outbox) == 1
    message = mail.outbox[0]
    assert message.to == ["dana@example.com"]
    assert message.subject == "Remediation items: 1 overdue, 1 due soon"
    assert "Overdue runbook" in message.body and "Soon alert" in message.body
    assert "Later" not in message.body and "Finished" not in message.body
    assert "Overdue runbook" in message.alternatives[0].content
    assert message.alternatives[0].mimetype == "text/html"


def test_no_email_when_nothing_is_due(dana):
    RemediationItemFactory(owner=dana, due_date=dt.date(2026, 4, 1))

    assert send_remediation_digest(dana.pk) is None
    assert mail.outbox == []


def test_running_twice_the_same_day_sends_one_digest(dana):
    RemediationItemFactory(owner=dana, due_date=dt.date(2026, 2, 20))

    send_remediation_digest(dana.pk)
    with time_machine.travel(NOW + dt.timedelta(hours=6), tick=False):
        send_remediation_digest(dana.pk)

    assert len(mail.outbox) == 1
    assert digest_dates() == [dt.date(2026, 3, 2)]
    assert EmailDelivery.objects.get().recipient == str(dana.pk)


def test_the_next_day_sends_again(dana):
    RemediationItemFactory(owner=dana, due_date=dt.date(2026, 2, 20))

    send_remediation_digest(dana.pk)
    with time_machine.travel(NOW + dt.timedelta(days=1), tick=False):
        send_remediation_digest(dana.pk)

    assert len(mail.outbox) == 2


def test_muted_items_are_left_out(dana):
    RemediationItemFactory(owner=dana, title="Muted", due_date=dt.date(2026, 2, 20), reminders_muted=True)

    send_remediation_digest(dana.pk)
    assert mail.outbox == []

    RemediationItemFactory(owner=dana, title="Reminded", due_date=dt.date(2026, 2, 21))
    send_remediation_digest(dana.pk)
    assert len(mail.outbox) == 1
    assert "Reminded" in mail.outbox[0].body and "Muted" not in mail.outbox[0].body


def test_dates_follow_the_owners_own_calendar(db):
    # At 12:00 UTC on 2 March it is 01:00 on 3 March in Auckland (UTC+13):
    # an item due on 2 March is overdue there, though not yet in London.
    kiri = ProfileFactory(user=UserFactory(username="kiri", email="kiri@example.com"),
                          time_zone="Pacific/Auckland").user  # fmt: skip
    RemediationItemFactory(owner=kiri, title="Due 2 March", due_date=dt.date(2026, 3, 2))
    RemediationItemFactory(owner=kiri, title="Due 6 March", due_date=dt.date(2026, 3, 6))

    with time_machine.travel(NOW + dt.timedelta(hours=2), tick=False):
        send_remediation_digest(kiri.pk)

    assert mail.outbox[0].subject == "Remediation items: 1 overdue, 1 due soon"
    assert digest_dates() == [dt.date(2026, 3, 3)]


def test_a_failed_send_releases_the_claim_for_a_retry(dana):
    RemediationItemFactory(owner=dana, due_date=dt.date(2026, 2, 20))

    with (
        mock.patch("django.core.mail.EmailMultiAlternatives.send", side_effect=OSError("smtp down")),
        pytest.raises(OSError),
    ):
        send_remediation_digest.run(dana.pk)
    assert EmailDelivery.objects.get().status == DeliveryStatus.FAILED

    send_remediation_digest(dana.pk)
    send_remediation_digest(dana.pk)
    assert len(mail.outbox) == 1
    assert digest_dates() == [dt.date(2026, 3, 2)]


def test_the_daily_sweep_queues_one_task_per_owner(dana):
    other = ProfileFactory(user=UserFactory(username="eli")).user
    RemediationItemFactory(owner=dana, due_date=dt.date(2026, 2, 20))
    RemediationItemFactory(owner=dana, due_date=dt.date(2026, 3, 3))
    RemediationItemFactory(owner=other, due_date=dt.date(2026, 5, 1))

    with mock.patch.object(send_remediation_digest, "delay") as delay:
        assert send_remediation_digests() == 1

    delay.assert_called_once_with(dana.pk)
