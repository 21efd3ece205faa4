"""The monthly rollups of the alert counts equal the alerts counted by hand, however the rows change."""

import datetime as dt
import io
import random
from collections import Counter
from zoneinfo import ZoneInfo

import pytest
from django.core.management import call_command
from django.db import connection

from alerts_review.models import (
    ALERT_ROLLUPS,
    Alert,
    AlertMonthCount,
    AlertMonthPagedCount,
)
from alerts_review.selectors import monthly_report
from alerts_review.services import compact_alert_counts
from morgue.counters import month_of_day, month_of_day_sql
from tests.factories import TeamFactory, UserFactory, category

pytestmark = pytest.mark.django_db

UTC = dt.UTC


def test_the_sql_month_of_a_day_is_the_calendar_month():
    """Every 3rd day from 1900 to 2200 (leap centuries included), on the test's database."""
    first, last = (
        (dt.date(1900, 1, 1) - dt.date(1970, 1, 1)).days,
        (dt.date(2200, 3, 1) - dt.date(1970, 1, 1)).days,
    )
    with connection.cursor() as cursor:
        # Numbers from the test, not from a request.
        sql = (
            "WITH RECURSIVE days(day) AS "  # noqa: S608
            f"(SELECT {first} UNION ALL SELECT day + 3 FROM days WHERE day < {last}) "
            f"SELECT day, {month_of_day_sql('days.day')} FROM days"
        )
        cursor.execute(sql)
        rows = cursor.fetchall()
    assert len(rows) > 36_000
    assert [month for _, month in rows] == [month_of_day(day) for day, _ in rows]
    assert month_of_day((dt.date(2024, 2, 29) - dt.date(1970, 1, 1)).days) == 2024 * 12 + 1


def _month(alert: Alert) -> int:
    return alert.fired_at.year * 12 + alert.fired_at.month - 1


def by_hand() -> tuple[Counter, Counter]:
    """The rollups' rows as the alerts say: (month, team, check, category) and (month, team, paged)."""
    checks: Counter = Counter()
    paged: Counter = Counter()
    for alert in Alert.objects.filter(is_test=False):
        team = alert.team_id or 0
        measures = Counter(total=1, out_of_hours=int(alert.out_of_hours), woke=int(alert.woke_me_up))
        for key, value in measures.items():
            checks[(_month(alert), team, alert.check_name, alert.category_id or 0, key)] += value
            paged[(_month(alert), team, alert.paged_id or 0, key)] += value
    return +checks, +paged


def rolled_up() -> tuple[Counter, Counter]:
    checks: Counter = Counter()
    for row in AlertMonthCount.objects.all():
        for key in ("total", "out_of_hours", "woke"):
            checks[(row.month, row.team_key, row.check_name, row.category_key, key)] += getattr(row, key)
    paged: Counter = Counter()
    for row in AlertMonthPagedCount.objects.all():
        for key in ("total", "out_of_hours", "woke"):
            paged[(row.month, row.team_key, row.paged_key, key)] += getattr(row, key)
    return +checks, +paged


def random_alerts(rng: random.Random, count: int, teams, people, categories) -> list[Alert]:
    # Around three month ends, so days and hours fall on both sides of each.
    ends = [dt.datetime(2026, month, 1, tzinfo=UTC) for month in (9, 10, 11)]
    return [
        Alert(
            source="import",
            identity=f"r{rng.random()}",
            check_name=rng.choice(["Disk", "Load", "Ping"]),
            fired_at=rng.choice(ends) + dt.timedelta(seconds=rng.randint(-3 * 86_400, 3 * 86_400)),
            team=rng.choice(teams),
            paged=rng.choice(people),
            category=rng.choice(categories),
            out_of_hours=rng.random() < 0.5,
            woke_me_up=rng.random() < 0.3,
            is_test=rng.random() < 0.1,
        )
        for _ in range(count)
    ]


def test_rollups_equal_the_alerts_counted_by_hand_through_inserts_updates_deletes_and_folds():
    rng = random.Random(16)
    teams = [None, TeamFactory(), TeamFactory()]
    people = [None, UserFactory(), UserFactory()]
    categories = [None, category("issue"), category("na")]
    Alert.objects.bulk_create(random_alerts(rng, 60, teams, people, categories))
    compact_alert_counts()  # on PostgreSQL, the rollups change only when the deltas are folded in
    assert rolled_up() == by_hand()
    assert AlertMonthCount.objects.count() > 0

    Alert.objects.bulk_create(random_alerts(rng, 40, teams, people, categories))
    ids = list(Alert.objects.order_by("?").values_list("pk", flat=True)[:25])
    Alert.objects.filter(pk__in=ids[:15]).update(category=category("issue"), woke_me_up=True, team=teams[1])
    Alert.objects.filter(pk__in=ids[15:]).delete()
    compact_alert_counts()

    assert rolled_up() == by_hand()


def test_a_recount_rebuilds_rollups_that_drifted():
    rng = random.Random(7)
    Alert.objects.bulk_create(random_alerts(rng, 30, [TeamFactory()], [None, UserFactory()], [None]))
    compact_alert_counts()
    AlertMonthCount.objects.update(total=99)
    AlertMonthPagedCount.objects.all().delete()

    call_command("rebuild_alert_counts", stdout=io.StringIO())

    assert rolled_up() == by_hand()
    assert not any(counts.drifted(connection) for counts in ALERT_ROLLUPS)


@pytest.mark.parametrize("zone", ["UTC", "America/New_York", "Asia/Tokyo"])
def test_a_month_reads_its_rollup_and_at_most_the_edge_days_of_the_finer_counts(
    zone, django_assert_max_num_queries
):
    team = TeamFactory()
    rng = random.Random(3)
    Alert.objects.bulk_create(
        random_alerts(rng, 80, [team], [None, UserFactory()], [None, category("issue")])
    )
    compact_alert_counts()
    with django_assert_max_num_queries(14) as queries:
        report = monthly_report(month=dt.date(2026, 10, 1), zone=ZoneInfo(zone))
    since = dt.datetime(2026, 10, 1, tzinfo=ZoneInfo(zone))
    until = dt.datetime(2026, 11, 1, tzinfo=ZoneInfo(zone))
    inside = Alert.objects.filter(is_test=False, fired_at__gte=since, fired_at__lt=until)
    assert report["total"] == inside.count()
    assert sum(row["total"] for row in report["by_person"]) == inside.filter(paged__isnull=False).count()
    sql = " ".join(query["sql"] for query in queries.captured_queries)
    assert "alerts_review_alertmonthcount" in sql
    assert "alerts_review_alertmonthpagedcount" in sql
    if zone == "UTC":
        # A UTC month is its rollup row for row: no day of the finer counts is read.
        assert "FROM alerts_review_alertdaycount" not in sql
