"""The counts kept for the monthly report stay equal to a recount, whatever writes the alerts."""

import datetime as dt
import io
import random
from collections import Counter
from zoneinfo import ZoneInfo

import pytest
from django.core.management import call_command
from django.core.management.sql import emit_post_migrate_signal
from django.db import connection
from rest_framework.test import APIClient

from alerts_review.models import ALERT_COUNTS, Alert, AlertDayCount, AlertQuarterCount
from alerts_review.selectors import month_bounds, monthly_report
from alerts_review.services import classify_alert, classify_check_in_shift
from tests.factories import (
    AlertFactory,
    AlertShiftFactory,
    AlertSourceFactory,
    TeamFactory,
    UserFactory,
    category,
)

pytestmark = pytest.mark.django_db

UTC = dt.UTC
OCTOBER = dt.date(2026, 10, 1)


def kept_counts() -> tuple[set, set]:
    """Both counts tables as sets of rows, leaving out rows whose counts all went back to 0."""
    return tuple(
        {
            tuple(row)
            for row in model.objects.exclude(total=0, out_of_hours=0, woke=0)
            .order_by()
            .values_list(*counts.keys, *counts.measures)
        }
        for model, counts in zip((AlertDayCount, AlertQuarterCount), ALERT_COUNTS, strict=True)
    )


def recounted() -> tuple[set, set]:
    for counts in ALERT_COUNTS:
        counts.rebuild(connection)
    return kept_counts()


def test_counts_follow_every_way_alerts_are_written(sample):
    ops, dev = TeamFactory(slug="ops"), TeamFactory(slug="dev")
    nina, omar = UserFactory(username="nina"), UserFactory(username="omar")
    shift = AlertShiftFactory(rotation__team=ops, user=nina, starts_at=dt.datetime(2026, 10, 1, tzinfo=UTC))
    # Created one by one, in bulk, and through a receiver (an upsert), then delivered again.
    first = AlertFactory(
        team=ops, paged=nina, out_of_hours=True, fired_at=dt.datetime(2026, 10, 1, 3, tzinfo=UTC)
    )
    Alert.objects.bulk_create(
        [
            Alert(source="import", identity=f"bulk-{n}", check_name="Load", team=dev, fired_at=at, paged=omar)
            for n, at in enumerate(
                dt.datetime(2026, 10, 2, tzinfo=UTC) + dt.timedelta(minutes=7 * n) for n in range(40)
            )
        ]
    )
    source = AlertSourceFactory(team=ops)
    client = APIClient()
    for _ in range(2):
        response = client.post(
            "/api/v1/alerts/alertmanager/",
            sample("alertmanager-firing.json"),
            content_type="application/json",
            HTTP_AUTHORIZATION=f"Token {source.token}",
        )
        assert response.status_code == 200, response.content
    # Duplicates skipped by ignore_conflicts are not counted.
    Alert.objects.bulk_create(
        [
            Alert(
                source="import",
                identity="bulk-0",
                check_name="Load",
                team=dev,
                fired_at=dt.datetime(2026, 10, 2, tzinfo=UTC),
            )
        ],
        ignore_conflicts=True,
    )
    # Classified one at a time, a whole check at once, and edited in other ways.
    classify_alert(alert=first, by=nina, category=category("threshold"), woke_me_up=True)
    classify_check_in_shift(
        shift=shift, check="Load", category=category("issue"), by=UserFactory(is_staff=True)
    )
    Alert.objects.filter(check_name="Load", fired_at__hour=3).update(
        category=category("na"), out_of_hours=True
    )
    first.note = "Only a note changed."
    first.save()
    # Deleted, and changed by cascades from a deleted team and person.
    Alert.objects.filter(identity="bulk-1").delete()
    dev.delete()
    omar.delete()
    # Raw SQL, as a bulk import or a repair might write.
    with connection.cursor() as cursor:
        cursor.execute(
            "UPDATE alerts_review_alert SET check_name = 'Renamed' WHERE identity IN ('bulk-2', 'bulk-3')"
        )

    kept = kept_counts()
    assert sum(row[-3] for row in kept[0]) == Alert.objects.count() == sum(row[-3] for row in kept[1])
    assert kept == recounted()


def test_the_report_from_counts_equals_counting_the_alerts_in_any_zone():
    """Random alerts around the month's edges, counted by hand in each zone and by the report."""
    chooser = random.Random(7)
    ops = TeamFactory(slug="ops")
    nina = UserFactory(username="nina")
    categories = [None, category("issue"), category("threshold"), category("na")]
    start = dt.datetime(2026, 9, 29, tzinfo=UTC)
    alerts = [
        AlertFactory.build(
            team=ops if chooser.random() < 0.8 else None,
            paged=nina if chooser.random() < 0.5 else None,
            check_name=chooser.choice(["Disk", "Load", "Ping"]),
            category=chooser.choice(categories),
            out_of_hours=chooser.random() < 0.3,
            woke_me_up=chooser.random() < 0.1,
            fired_at=start + dt.timedelta(seconds=chooser.randrange(36 * 86_400)),
        )
        for _ in range(400)
    ]
    Alert.objects.bulk_create(alerts)
    for name in ["UTC", "America/New_York", "Asia/Kathmandu", "Australia/Eucla", "Pacific/Kiritimati"]:
        zone = ZoneInfo(name)
        since, until = month_bounds(OCTOBER, zone)
        for team in (ops, None):
            inside = [a for a in alerts if since <= a.fired_at < until and (team is None or a.team == team)]
            report = monthly_report(month=OCTOBER, team=team, zone=zone)
            assert report["total"] == len(inside), name
            assert report["out_of_hours"] == sum(a.out_of_hours for a in inside), name
            assert report["woke_people"] == sum(a.woke_me_up for a in inside), name
            assert report["classified"] == sum(a.category is not None for a in inside), name
            by_check = {row["check"]: row["total"] for row in report["by_check"]}
            assert by_check == Counter(a.check_name for a in inside), name
            hours = Counter(a.fired_at.astimezone(zone).hour for a in inside)
            assert [row["total"] for row in report["by_hour"]] == [hours[hour] for hour in range(24)], name
            days = Counter(a.fired_at.astimezone(zone).day for a in inside)
            assert [row["total"] for row in report["by_day"]] == [days[day] for day in range(1, 32)], name


def test_a_zone_whose_offset_is_not_in_quarter_hours_is_counted_from_the_alerts():
    # Monrovia kept −0:44:30 until 1972.
    team = TeamFactory()
    AlertFactory(team=team, fired_at=dt.datetime(1971, 3, 1, 0, 50, tzinfo=UTC))
    AlertFactory(team=team, fired_at=dt.datetime(1971, 3, 1, 0, 40, tzinfo=UTC))
    report = monthly_report(month=dt.date(1971, 3, 1), team=team, zone=ZoneInfo("Africa/Monrovia"))
    assert report["total"] == 1
    assert [row["hour"] for row in report["by_hour"] if row["total"]] == [0]


def test_the_report_reads_a_few_rows_of_counts_not_the_alerts(django_assert_max_num_queries):
    team = TeamFactory()
    AlertFactory.create_batch(5, team=team, fired_at=dt.datetime(2026, 10, 9, tzinfo=UTC))
    with django_assert_max_num_queries(6) as queries:
        monthly_report(month=OCTOBER, team=team)
    assert not [query for query in queries.captured_queries if 'alerts_review_alert"' in query["sql"]]


def test_rebuild_alert_counts_repairs_counts_that_drifted():
    AlertFactory.create_batch(3, team=TeamFactory(), fired_at=dt.datetime(2026, 10, 9, tzinfo=UTC))
    AlertDayCount.objects.update(total=99)
    AlertQuarterCount.objects.all().delete()
    output = io.StringIO()
    call_command("rebuild_alert_counts", stdout=output)
    assert AlertDayCount.objects.get().total == 3 and AlertQuarterCount.objects.get().total == 3
    assert "Recounted 3 alerts" in output.getvalue()


def test_triggers_a_migration_dropped_are_put_back_and_the_alerts_recounted():
    # On SQLite, altering a column of the alerts table rebuilds it and drops its triggers.
    team = TeamFactory()
    AlertFactory(team=team, fired_at=dt.datetime(2026, 10, 9, tzinfo=UTC))
    for counts in ALERT_COUNTS:
        counts.uninstall(connection)
    AlertFactory(team=team, fired_at=dt.datetime(2026, 10, 9, 1, tzinfo=UTC))
    assert not any(counts.installed(connection) for counts in ALERT_COUNTS)

    emit_post_migrate_signal(verbosity=0, interactive=False, db="default")

    assert all(counts.installed(connection) for counts in ALERT_COUNTS)
    AlertFactory(team=team, fired_at=dt.datetime(2026, 10, 9, 2, tzinfo=UTC))
    assert monthly_report(month=OCTOBER, team=team)["total"] == 3
    assert kept_counts() == recounted()
