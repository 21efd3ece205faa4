"""Duplicate task delivery on a real database: two workers send one notification, one message goes out."""

import datetime as dt
import threading
import time
from unittest import mock

import pytest
from django.db import connection

from oncall import services
from oncall.models import NotificationStatus
from oncall.providers import Receipt
from oncall.services import notifications
from tests.factories import make_rotation

NOW = dt.datetime(2026, 2, 10, 12, tzinfo=dt.UTC)


@pytest.mark.django_db(transaction=True)
def test_two_workers_with_the_same_task_send_once():
    if connection.vendor == "sqlite":
        pytest.skip("concurrent workers need PostgreSQL (SQLite's shared test cache does not wait on locks)")
    team = make_rotation(slug="payments-primary", people=("gus", "hana")).team
    page = services.page_team(team=team, message="Card auths failing", now=NOW)
    step = page.steps.get()
    method = notifications.add_contact_method(user=step.user, kind="push", address="gus-pages")
    notifications.add_notification_rule(user=step.user, contact_method=method, delay_minutes=0)
    services.notify_step(step_id=step.pk, now=NOW)
    row = step.notifications.get(kind="push")

    def slow_send(address, message):
        time.sleep(0.3)  # long enough for the other worker to try its claim mid-send
        return Receipt("p1", "HTTP 200")

    sender = mock.Mock(side_effect=slow_send)
    barrier = threading.Barrier(2)
    results = []

    def worker():
        barrier.wait()
        try:
            results.append(notifications.send_notification(notification_id=row.pk, now=NOW))
        finally:
            connection.close()

    with mock.patch.dict("oncall.providers.SENDERS", {"push": sender}):
        workers = [threading.Thread(target=worker) for _ in range(2)]
        for thread in workers:
            thread.start()
        for thread in workers:
            thread.join()

    assert sender.call_count == 1
    assert sorted(result is None for result in results) == [False, True]
    row.refresh_from_db()
    assert (row.status, row.attempts) == (NotificationStatus.SENT, 1)
