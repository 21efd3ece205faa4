"""Alerts past retention are deleted; the monthly reports of their months stay identical."""

import datetime as dt
import io
from zoneinfo import ZoneInfo

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError
from django.core.management.sql import emit_post_migrate_signal
from django.db import connection
from django.test import override_settings
from django.utils import timezone

from alerts_review import tasks
from alerts_review.models import (
    ALERT_COUNTS,
    Alert,
    AlertSilence,
    MaintenanceWindow,
    PagingDecision,
    TruncatedAlerts,
    counts_floor,
)
from alerts_review.retention import RetentionTooShort, cutoff, parse_age, prune_alerts
from alerts_review.selectors import monthly_report
from alerts_review.services import compact_alert_counts
from oncall.models import Page
from tests.factories import AlertFactory, TeamFactory, UserFactory, category

pytestmark = pytest.mark.django_db

UTC = dt.UTC
OLD_MONTHS = [dt.date(2024, 5, 1), dt.date(2024, 6, 1), dt.date(2024, 7, 1)]


def at(day: dt.date, hour: int, minute: int = 0) -> dt.datetime:
    return dt.datetime(day.year, day.month, day.day, hour, minute, tzinfo=UTC)


@pytest.fixture
def history():
    """Alerts over old months and this one: two teams, categories, people paged, out of hours, tests."""
    ops, web = TeamFactory(slug="ops"), TeamFactory(slug="web")
    alice, bob = UserFactory(username="alice"), UserFactory(username="bob")
    slugs = [None, "issue", "threshold"]
    recent = timezone.now().astimezone(UTC).replace(minute=0, second=0, microsecond=0) - dt.timedelta(days=2)
    made = []
    for number in range(60):
        month = OLD_MONTHS[number % 3]
        fired = at(month.replace(day=1 + number % 28), number % 24, (number * 7) % 60)
        slug = slugs[number % 3]
        made.append(
            AlertFactory(
                team=ops if number % 2 else web,
                check_name=f"Check{number % 4}",
                fired_at=fired,
                category=category(slug) if slug else None,
                paged=alice if number % 3 == 0 else bob if number % 3 == 1 else None,
                out_of_hours=number % 5 == 0,
                woke_me_up=number % 7 == 0,
                is_test=number % 11 == 0,
                paging=PagingDecision.RECORDED,
            )
        )
    # Month edges: a local month east or west of UTC starts or ends inside these UTC days.
    AlertFactory(team=ops, fired_at=at(dt.date(2024, 6, 30), 23, 30), paged=alice, out_of_hours=True)
    AlertFactory(team=web, fired_at=at(dt.date(2024, 5, 31), 22), category=category("issue"))
    AlertFactory(team=web, fired_at=at(dt.date(2024, 7, 1), 3), paged=bob, woke_me_up=True)
    # During a maintenance window: the report counts those from the alerts.
    MaintenanceWindow.objects.create(
        team=ops, starts_at=at(dt.date(2024, 6, 10), 0), ends_at=at(dt.date(2024, 6, 10), 6), reason="upgrade"
    )
    AlertFactory(team=ops, fired_at=at(dt.date(2024, 6, 10), 2), paging=PagingDecision.MAINTENANCE)
    TruncatedAlerts.objects.create(team=ops, group_key="g", count=12, received_at=at(dt.date(2024, 6, 3), 1))
    for number in range(5):
        AlertFactory(team=ops, fired_at=recent - dt.timedelta(hours=number), paged=alice)
    compact_alert_counts()
    return {"ops": ops, "web": web, "recent": recent}


ZONES = ("UTC", "Europe/Paris", "America/New_York", "Pacific/Kiritimati", "Pacific/Pago_Pago")
CUTOFF = dt.datetime(2024, 9, 1, tzinfo=UTC)


def reports(history, zones=("UTC",)) -> dict:
    """Every old month's report, all teams and each team, with the heatmap."""
    found = {}
    for month in OLD_MONTHS:
        for team in (None, history["ops"], history["web"]):
            for zone in zones:
                key = (month, team.slug if team else None, zone)
                found[key] = monthly_report(month=month, team=team, zone=ZoneInfo(zone), with_heatmap=True)
    return found


def edge_day(fired_at: dt.datetime) -> bool:
    following = fired_at + dt.timedelta(days=1)
    return fired_at.day == 1 or following.day == 1


def prunable() -> int:
    """The alerts past the cutoff that nothing still reads: not on a month's edge, not in maintenance."""
    old = Alert.objects.filter(fired_at__lt=CUTOFF).exclude(paging=PagingDecision.MAINTENANCE)
    return sum(not edge_day(fired_at.astimezone(UTC)) for fired_at in old.values_list("fired_at", flat=True))


def test_pruning_keeps_every_figure_of_the_pruned_months(history):
    before = reports(history, ZONES)
    assert before[(OLD_MONTHS[1], None, "UTC")]["total"] > 0
    assert before[(OLD_MONTHS[1], "ops", "UTC")]["during_maintenance"] == 1
    assert before[(OLD_MONTHS[1], "ops", "UTC")]["truncated_alerts"] == 12
    expected = prunable()
    assert expected > 40

    pruned = prune_alerts(CUTOFF)

    assert pruned == expected
    left = Alert.objects.filter(fired_at__lt=CUTOFF)
    assert all(
        edge_day(alert.fired_at.astimezone(UTC)) or alert.paging == PagingDecision.MAINTENANCE
        for alert in left
    )
    assert Alert.objects.filter(fired_at__gte=CUTOFF).count() == 5
    # Read before the deltas are folded (PostgreSQL): the reads sum both.
    assert reports(history, ZONES) == before
    compact_alert_counts()
    assert reports(history, ZONES) == before
    # Pruning again finds nothing more and changes nothing.
    assert prune_alerts(CUTOFF) == 0
    assert reports(history, ZONES) == before
    assert counts_floor(connection) == int(CUTOFF.timestamp())


def test_a_recount_after_pruning_keeps_the_pruned_months(history):
    before = reports(history)
    recent_month = history["recent"].date().replace(day=1)
    recent_before = monthly_report(month=recent_month)
    prune_alerts(CUTOFF)
    floor = counts_floor(connection)

    for counts in ALERT_COUNTS:
        assert not counts.drifted(connection, floor)
        assert not counts.ensure(connection, floor)
    # After a migration: post_migrate checks and recounts what drifted.
    emit_post_migrate_signal(verbosity=0, interactive=False, db="default")
    assert reports(history) == before
    # A recount by hand, and triggers a migration dropped, put back and recounted.
    call_command("rebuild_alert_counts", stdout=io.StringIO())
    assert reports(history) == before
    for counts in ALERT_COUNTS:
        counts.uninstall(connection)
    emit_post_migrate_signal(verbosity=0, interactive=False, db="default")
    assert all(counts.installed(connection) for counts in ALERT_COUNTS)
    assert reports(history) == before
    assert monthly_report(month=recent_month) == recent_before
    # The triggers still count what comes next.
    AlertFactory(team=history["ops"], fired_at=history["recent"] + dt.timedelta(minutes=5))
    compact_alert_counts()
    assert monthly_report(month=recent_month)["total"] == recent_before["total"] + 1


def test_pruned_counts_are_not_drift_for_a_recount_without_a_floor(history):
    """Without the floor a recount would lose the pruned months: the floor is what keeps them."""
    total = monthly_report(month=OLD_MONTHS[1])["total"]
    prune_alerts(CUTOFF)
    kept = Alert.objects.counted().filter(
        fired_at__gte=at(OLD_MONTHS[1], 0), fired_at__lt=at(OLD_MONTHS[2], 0)
    )
    assert kept.count() < total
    for counts in ALERT_COUNTS:
        counts.rebuild(connection)
    # Only the alerts kept (month edges, maintenance) are left to count.
    assert monthly_report(month=OLD_MONTHS[1])["total"] == kept.count()


def test_silences_go_with_their_alerts_and_pages_stay(history):
    old = Alert.objects.filter(fired_at__lt=CUTOFF, paging="recorded").first()
    page = Page.objects.create(team=history["ops"], message="Disk full")
    old.page = page
    old.save()
    AlertSilence.objects.create(page=page, alert=old, alertmanager_url="http://127.0.0.1:9093", comment="ack")
    compact_alert_counts()
    before = reports(history)

    prune_alerts(CUTOFF)

    assert not AlertSilence.objects.exists()
    assert Page.objects.filter(pk=page.pk).exists()
    compact_alert_counts()
    assert reports(history) == before


def test_a_half_hour_zone_keeps_its_figures_per_check(history):
    zone = ZoneInfo("Asia/Kolkata")
    before = monthly_report(month=OLD_MONTHS[1], zone=zone)
    prune_alerts(CUTOFF)
    after = monthly_report(month=OLD_MONTHS[1], zone=zone)
    for key in ("total", "classified", "actionable", "not_actionable", "out_of_hours", "by_check"):
        assert after[key] == before[key]


def test_the_command_counts_months_back_from_today():
    today = dt.date(2026, 12, 1)
    assert cutoff(*parse_age("13m"), today=today) == at(dt.date(2025, 11, 1), 0)
    assert cutoff(*parse_age("400d"), today=today) == at(dt.date(2025, 10, 27), 0)
    assert cutoff(3, "m", today=dt.date(2026, 5, 31)) == at(dt.date(2026, 2, 1), 0)
    with pytest.raises(RetentionTooShort):
        cutoff(2, "m", today=today)
    with pytest.raises(RetentionTooShort):
        cutoff(85, "d", today=today)
    assert cutoff(91, "d", today=today) == at(dt.date(2026, 9, 1), 0)


@pytest.mark.parametrize(
    ("age", "message"), [("2m", "at least 3 months"), ("60d", "at least 3 months"), ("13y", "not an age")]
)
def test_the_command_refuses_short_or_unreadable_ages(age, message):
    AlertFactory(fired_at=at(dt.date(2020, 1, 1), 0))
    with pytest.raises(CommandError, match=message):
        call_command("prune_alerts", "--older-than", age)
    assert Alert.objects.count() == 1


def test_the_command_prunes(history):
    before = reports(history)
    expected = prunable()
    out = io.StringIO()
    call_command("prune_alerts", "--older-than", "13m", stdout=out)
    assert f"Pruned {expected} alerts" in out.getvalue()
    compact_alert_counts()
    assert reports(history) == before


def test_the_beat_task_prunes_only_when_retention_is_set(history):
    with override_settings(ALERT_RETENTION_MONTHS=""):
        assert tasks.prune_old_alerts() == 0
    stored, expected = Alert.objects.count(), prunable()
    with override_settings(ALERT_RETENTION_MONTHS="13"):
        assert tasks.prune_old_alerts() == expected
    assert Alert.objects.count() == stored - expected
