"""Concurrent senders neither wait on each other's kept counts nor lose a count (PostgreSQL)."""

import datetime as dt
import itertools
import random
import threading
from concurrent.futures import ThreadPoolExecutor

import pytest
from django.db import connection, connections, transaction

from alerts_review.models import ALERT_COUNTS, Alert, AlertDayCount, AlertDayDelta, AlertHourCount
from alerts_review.selectors import monthly_report
from alerts_review.services import compact_alert_counts
from morgue.models import Team

pytestmark = [
    pytest.mark.django_db(transaction=True),
    pytest.mark.skipif(
        connection.vendor != "postgresql",
        reason="SQLite has one writer at a time; the deltas and their races exist on PostgreSQL only",
    ),
]

OCTOBER = dt.date(2026, 10, 1)
FIRED = dt.datetime(2026, 10, 9, 3, tzinfo=dt.UTC)
identities = itertools.count()


def alerts(team: Team, count: int) -> list[Alert]:
    """Alerts that all land on the same counts rows: one team, one check, one hour."""
    return [
        Alert(
            source="generic",
            identity=f"host-{next(identities)}",
            check_name="Disk full",
            fired_at=FIRED + dt.timedelta(seconds=random.randrange(3600)),
            team=team,
            out_of_hours=True,
        )
        for _ in range(count)
    ]


def kept_total() -> int:
    """Alerts counted by each kept count, its deltas included; they must agree."""
    with connection.cursor() as cursor:
        totals = []
        for counts in ALERT_COUNTS:
            sums = " + ".join(
                f"(SELECT COALESCE(SUM(total), 0) FROM {table})"  # noqa: S608 - table names from the code
                for table in counts.sources
            )
            cursor.execute(f"SELECT {sums}")
            totals.append(cursor.fetchone()[0])
    assert totals[0] == totals[1]
    return totals[0]


def test_a_sender_does_not_wait_for_another_senders_open_transaction_on_the_same_counts():
    team = Team.objects.create(name="Storage", slug="storage")
    inserted = threading.Event()
    release = threading.Event()

    def slow_sender():
        try:
            with transaction.atomic():
                Alert.objects.bulk_create(alerts(team, 3))
                inserted.set()
                release.wait(10)
        finally:
            connections.close_all()

    thread = threading.Thread(target=slow_sender)
    thread.start()
    try:
        assert inserted.wait(10)
        with transaction.atomic():
            with connection.cursor() as cursor:
                # Counts updated in place would make this insert wait for the other commit.
                cursor.execute("SET LOCAL lock_timeout = '2s'")
            Alert.objects.bulk_create(alerts(team, 2))
    finally:
        release.set()
        thread.join()
    assert kept_total() == Alert.objects.count() == 5


def test_concurrent_batches_and_compactions_lose_no_count():
    team = Team.objects.create(name="Storage", slug="storage")
    senders, batches = 8, 6
    start = threading.Barrier(senders + 1)

    def sender():
        try:
            start.wait()
            for _ in range(batches):
                with transaction.atomic():
                    Alert.objects.bulk_create(alerts(team, 5))
                    # Classify one in the same transaction: an UPDATE's old and new rows.
                    woken = Alert.objects.filter(team=team, woke_me_up=False).values("pk")[:1]
                    Alert.objects.filter(pk__in=[row["pk"] for row in woken]).update(woke_me_up=True)
        finally:
            connections.close_all()

    def compactor():
        try:
            start.wait()
            for _ in range(batches * 2):
                compact_alert_counts()
        finally:
            connections.close_all()

    with ThreadPoolExecutor(max_workers=senders + 1) as pool:
        futures = [pool.submit(sender) for _ in range(senders)] + [pool.submit(compactor)]
        for future in futures:
            future.result()  # raises what the thread raised

    total = senders * batches * 5
    woke = Alert.objects.filter(woke_me_up=True).count()
    assert Alert.objects.count() == total
    assert kept_total() == total
    report = monthly_report(month=OCTOBER, team=team)
    assert (report["total"], report["out_of_hours"], report["woke_people"]) == (total, total, woke)

    compact_alert_counts()
    assert not AlertDayDelta.objects.exists()
    assert AlertDayCount.objects.get().total == AlertHourCount.objects.get().total == total
    assert AlertDayCount.objects.get().woke == woke
    assert not any(counts.drifted(connection) for counts in ALERT_COUNTS)
