"""Two batches of one team decided at once open one page (PostgreSQL: real concurrent transactions)."""

import datetime as dt
import threading
import time
from unittest import mock

import pytest
from django.db import connection, connections

from alerts_review import paging
from alerts_review.models import Alert
from oncall.models import Page
from tests.factories import AlertFactory, make_rotation

NOW = dt.datetime(2026, 2, 10, 12, tzinfo=dt.UTC)


@pytest.mark.skipif(connection.vendor != "postgresql", reason="needs concurrent transactions")
@pytest.mark.django_db(transaction=True)
def test_two_concurrent_batches_of_the_same_check_open_one_page():
    team = make_rotation(slug="ops-primary", people=("ana", "ben")).team
    first, second = (
        AlertFactory(
            team=team, identity=identity, check_name="DiskSpaceLow", severity="critical", fired_at=NOW
        )
        for identity in ("a", "b")
    )
    opening = paging.page_team
    start = threading.Barrier(2)
    errors: list[BaseException] = []

    def slow_page_team(**kwargs):
        # Widen the window between "no page to attach to" and the new page's commit.
        time.sleep(0.3)
        return opening(**kwargs)

    def decide(alert_id: int) -> None:
        try:
            start.wait()
            paging.decide_paging(alert_ids=[alert_id], now=NOW)
        except BaseException as error:  # noqa: BLE001 - reported by the test below
            errors.append(error)
        finally:
            connections.close_all()

    with mock.patch.object(paging, "page_team", slow_page_team):
        threads = [threading.Thread(target=decide, args=(alert.pk,)) for alert in (first, second)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join(timeout=30)

    assert errors == []
    page = Page.objects.get()
    assert set(Alert.objects.values_list("page_id", flat=True)) == {page.pk}
