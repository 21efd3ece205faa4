"""The counts kept for the monthly report stay equal to a recount, whatever writes the alerts."""

import calendar
import datetime as dt
import io
import itertools
import random
from collections import Counter
from zoneinfo import ZoneInfo

import pytest
from django.contrib.auth import get_user_model
from django.core.management import call_command
from django.core.management.sql import emit_post_migrate_signal
from django.db import connection
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from rest_framework.test import APIClient

from alerts_review.models import ALERT_COUNTS, Alert, AlertDayCount, AlertHourCount
from alerts_review.selectors import month_bounds, monthly_report
from alerts_review.services import classify_alert, classify_check_in_shift, compact_alert_counts
from morgue.models import Team
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


def counted_by_hand(alerts, *, month: dt.date, team, zone: ZoneInfo) -> dict:
    """What the monthly report must say, counted alert by alert in Python (test notifications aside)."""
    since, until = month_bounds(month, zone)
    inside = [
        a
        for a in alerts
        if since <= a.fired_at < until and (team is None or a.team_id == team.pk) and not a.is_test
    ]
    hours = Counter(a.fired_at.astimezone(zone).hour for a in inside)
    days = Counter(a.fired_at.astimezone(zone).day for a in inside)
    length = calendar.monthrange(month.year, month.month)[1]
    return {
        "total": len(inside),
        "out_of_hours": sum(a.out_of_hours for a in inside),
        "woke_people": sum(a.woke_me_up for a in inside),
        "classified": sum(a.category_id is not None for a in inside),
        "by_check": Counter(a.check_name for a in inside),
        "by_category": Counter(a.category.slug for a in inside if a.category_id),
        "by_person": Counter(a.paged.username for a in inside if a.paged_id),
        "by_hour": [hours[hour] for hour in range(24)],
        "by_day": [days[day] for day in range(1, length + 1)],
    }


def reported(*, month: dt.date, team, zone: ZoneInfo) -> dict:
    """The same figures as the monthly report gives them (from the kept counts)."""
    report = monthly_report(month=month, team=team, zone=zone)
    return {
        **{key: report[key] for key in ("total", "out_of_hours", "woke_people", "classified")},
        "by_check": Counter({row["check"]: row["total"] for row in report["by_check"]}),
        "by_category": +Counter({row["category"]: row["total"] for row in report["by_category"]}),
        "by_person": Counter({row["person"]: row["total"] for row in report["by_person"]}),
        "by_hour": [row["total"] for row in report["by_hour"]],
        "by_day": [row["total"] for row in report["by_day"]],
    }


def assert_reports_count_every_alert(*, zones=("UTC",)) -> None:
    """Every month's report, for every team and for all, equals counting the stored alerts."""
    alerts = list(Alert.objects.select_related("category", "paged"))
    months = {dt.date(a.fired_at.year, a.fired_at.month, 1) for a in alerts}
    teams = [None, *Team.objects.filter(alerts__isnull=False).distinct()]
    for name, month, team in itertools.product(zones, months, teams):
        zone = ZoneInfo(name)
        expected = counted_by_hand(alerts, month=month, team=team, zone=zone)
        assert reported(month=month, team=team, zone=zone) == expected, (name, month, team)


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

    assert_reports_count_every_alert(zones=("UTC", "Asia/Kathmandu"))
    assert monthly_report(month=OCTOBER)["total"] == Alert.objects.count()


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
            is_test=chooser.random() < 0.05,  # senders' test notifications count for nothing
        )
        for _ in range(400)
    ]
    Alert.objects.bulk_create(alerts)
    assert_reports_count_every_alert(
        zones=("UTC", "America/New_York", "Asia/Kathmandu", "Australia/Eucla", "Pacific/Kiritimati")
    )


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
    # The month's maintenance windows are one query; with none, no alert is read for them.
    with django_assert_max_num_queries(10) as queries:
        monthly_report(month=OCTOBER, team=team)
    assert not [query for query in queries.captured_queries if 'alerts_review_alert"' in query["sql"]]


def test_rebuild_alert_counts_repairs_counts_that_drifted():
    AlertFactory.create_batch(3, team=TeamFactory(), fired_at=dt.datetime(2026, 10, 9, tzinfo=UTC))
    compact_alert_counts()  # on PostgreSQL, the counts are in the deltas until then
    AlertDayCount.objects.update(total=99)
    AlertHourCount.objects.all().delete()
    assert monthly_report(month=OCTOBER)["total"] != 3
    output = io.StringIO()

    call_command("rebuild_alert_counts", stdout=output)

    assert monthly_report(month=OCTOBER)["total"] == 3
    assert_reports_count_every_alert()
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
    assert_reports_count_every_alert()


def test_the_last_migration_installs_the_counts_the_models_define():
    from alerts_review.migrations._counts_history import counts_0010

    assert counts_0010() == list(ALERT_COUNTS)


DST_MONTHS = [
    (dt.date(2026, 3, 1), "America/New_York"),  # spring forward on the 8th
    (dt.date(2026, 3, 1), "Europe/London"),  # on the 29th
    (dt.date(2026, 10, 1), "Europe/Berlin"),  # fall back on the 25th: a local hour twice
    (dt.date(2026, 4, 1), "Australia/Lord_Howe"),  # +11 to +10:30 on the 5th, a half-hour change
    (dt.date(2026, 11, 1), "Asia/Kathmandu"),  # +5:45 all month
]


@given(
    data=st.data(),
    month_and_zone=st.sampled_from(DST_MONTHS),
    team_for_report=st.booleans(),
)
@settings(max_examples=30, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
def test_report_figures_equal_a_recount_of_random_alerts(data, month_and_zone, team_for_report):
    """Hypothesis: alerts anywhere around a DST month, some written before the deltas are folded in."""
    month, name = month_and_zone
    zone = ZoneInfo(name)
    Alert.objects.all().delete()
    ops = Team.objects.get_or_create(slug="ops", defaults={"name": "Ops"})[0]
    nina = get_user_model().objects.filter(username="nina").first() or UserFactory(username="nina")
    categories = [None, category("issue"), category("threshold"), category("na")]
    since, until = month_bounds(month, zone)
    # A day either side of the month, so its edges are crossed both ways.
    seconds = st.integers(min_value=-86_400, max_value=int((until - since).total_seconds()) + 86_400)
    alert = st.builds(
        dict,
        offset=seconds,
        team=st.booleans(),
        paged=st.booleans(),
        check=st.sampled_from(["Disk", "Load"]),
        category=st.sampled_from(categories),
        out_of_hours=st.booleans(),
        woke=st.booleans(),
        is_test=st.integers(0, 9).map(lambda n: n == 0),
    )
    drawn = data.draw(st.lists(alert, max_size=40), label="alerts")
    folded = data.draw(st.integers(0, len(drawn)), label="written before the counts are folded")
    rows = [
        Alert(
            source="import",
            identity=f"a{n}",
            check_name=each["check"],
            fired_at=since + dt.timedelta(seconds=each["offset"]),
            team=ops if each["team"] else None,
            paged=nina if each["paged"] else None,
            category=each["category"],
            out_of_hours=each["out_of_hours"],
            woke_me_up=each["woke"],
            is_test=each["is_test"],
        )
        for n, each in enumerate(drawn)
    ]
    Alert.objects.bulk_create(rows[:folded])
    compact_alert_counts()
    Alert.objects.bulk_create(rows[folded:])
    # A classification after the fold: the UPDATE's old row is subtracted from folded counts.
    Alert.objects.filter(identity__in=["a0", "a1"]).update(category=category("issue"), woke_me_up=True)

    team = ops if team_for_report else None
    alerts = list(Alert.objects.select_related("category", "paged"))
    assert reported(month=month, team=team, zone=zone) == counted_by_hand(
        alerts, month=month, team=team, zone=zone
    )
