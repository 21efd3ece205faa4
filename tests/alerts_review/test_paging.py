"""From alert to page: the team's policy, attaching repeats, self-resolving pages, maintenance, heartbeats."""

import datetime as dt
from unittest import mock

import pytest
import time_machine
from django.core import mail

from alerts_review import paging, tasks
from alerts_review.models import Alert, Heartbeat, MaintenanceWindow, PagingDecision
from alerts_review.payloads import Incoming
from alerts_review.services import receive_alerts
from morgue.celery import app
from oncall import services as oncall_services
from oncall import tasks as oncall_tasks
from oncall.models import Page, PageStatus
from tests.factories import AlertSourceFactory, make_rotation

UTC = dt.UTC
pytestmark = pytest.mark.django_db
NOW = dt.datetime(2026, 2, 10, 12, tzinfo=UTC)


@pytest.fixture
def ops():
    team = make_rotation(slug="ops-primary", people=("ana", "ben", "cy")).team
    team.email = "ops@example.com"
    team.save()
    return team


@pytest.fixture
def source(ops):
    return AlertSourceFactory(name="prometheus", team=ops)


def firing(check="DiskSpaceLow", *, identity=None, at=NOW, severity="critical", resolved_at=None, **labels):
    return Incoming(
        identity=identity or f"{check}-fp",
        check=check,
        fired_at=at,
        host="db12",
        state="resolved" if resolved_at else "firing",
        severity=severity,
        labels={"alertname": check, "severity": severity, **labels},
        resolved_at=resolved_at,
        summary=f"{check} on db12",
    )


def receive(source, *items, now=NOW):
    """Store a batch as the receiver does, then run the paging task it enqueued on commit."""
    with time_machine.travel(now, tick=False), mock.patch.object(app, "send_task") as send_task:
        with mock.patch("django.db.transaction.on_commit", side_effect=lambda callback, **_: callback()):
            receive_alerts(items=list(items), source_name="alertmanager", alert_source=source)
        calls = [call for call in send_task.call_args_list if call.args[0] == paging.PAGING_TASK]
        for call in calls:
            tasks.page_for_alerts(*call.kwargs["args"])
    return calls


def test_a_critical_alert_pages_the_teams_l1_and_a_warning_is_only_recorded(ops, source):
    receive(source, firing("DiskSpaceLow"), firing("HighLatency", severity="warning"))

    page = Page.objects.get()
    assert page.team == ops and page.status == PageStatus.OPEN
    assert "DiskSpaceLow on db12 (critical)" in page.message
    assert page.steps.get().level == "L1" and page.steps.get().user is not None
    disk, latency = Alert.objects.get(check_name="DiskSpaceLow"), Alert.objects.get(check_name="HighLatency")
    assert (disk.paging, disk.page) == (PagingDecision.PAGED, page)
    assert (latency.paging, latency.page) == (PagingDecision.RECORDED, None)


def test_the_receiver_only_enqueues_the_decision_by_task_name(source, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks() as callbacks:
        receive_alerts(items=[firing()], source_name="alertmanager", alert_source=source)
    assert not Page.objects.exists()  # nothing pages inside the receiver's transaction
    with mock.patch.object(app, "send_task") as send_task:
        for callback in callbacks:
            callback()
    alert = Alert.objects.get()
    send_task.assert_called_once_with("alerts_review.tasks.page_for_alerts", args=([alert.pk],))


def test_repeats_and_the_same_check_within_the_window_attach_to_the_open_page(ops, source):
    receive(source, firing(identity="a"))
    receive(source, firing(identity="a"), now=NOW + dt.timedelta(minutes=1))  # the same delivery again
    receive(source, firing(identity="b", at=NOW + dt.timedelta(minutes=4)))  # same check, in the window
    receive(source, firing(identity="a", at=NOW + dt.timedelta(hours=2)))  # the same alert firing again

    page = Page.objects.get()
    assert page.alerts.count() == 3
    assert page.steps.count() == 1  # no new notification

    receive(source, firing(identity="c", at=NOW + dt.timedelta(minutes=30)))  # same check, later
    assert Page.objects.count() == 2


def test_a_page_resolves_itself_when_every_alert_on_it_resolved_and_tells_who_it_notified(ops, source):
    receive(source, firing(identity="a"), firing(identity="b", at=NOW + dt.timedelta(minutes=1)))
    page = Page.objects.get()
    step = page.steps.get()
    oncall_tasks.notify_page_step(step.pk)
    mail.outbox.clear()

    receive(source, firing(identity="a", resolved_at=NOW + dt.timedelta(minutes=10)))
    page.refresh_from_db()
    assert page.status == PageStatus.OPEN  # b still fires

    receive(source, firing(identity="b", at=NOW + dt.timedelta(minutes=1), resolved_at=NOW))
    page.refresh_from_db()
    assert page.status == PageStatus.RESOLVED and page.resolved_at is not None
    oncall_tasks.notify_page_resolved(page.pk)
    oncall_tasks.notify_page_resolved(page.pk)  # once
    assert len(mail.outbox) == 1
    assert "resolved" in mail.outbox[0].subject.lower()
    assert set(mail.outbox[0].to) == {step.user.email, "ops@example.com"} - {""}
    # Escalation stopped: the step running out later moves nothing.
    assert oncall_tasks.escalate_page_step(page.pk, 1) is False


def test_alerts_in_a_maintenance_window_are_stored_and_never_page(ops, source):
    paging.create_maintenance_window(
        team=ops,
        check_pattern="Disk*",
        starts_at=NOW - dt.timedelta(hours=1),
        ends_at=NOW + dt.timedelta(hours=1),
        reason="Disk replacement",
    )
    receive(source, firing("DiskSpaceLow"), firing("ApiDown", identity="api"))

    disk = Alert.objects.get(check_name="DiskSpaceLow")
    assert disk.paging == PagingDecision.MAINTENANCE and disk.during_maintenance and disk.page is None
    assert Page.objects.get().alerts.get().check_name == "ApiDown"


def test_an_alert_soon_after_a_window_ended_is_suggested_as_downtime_expired(ops, source):
    window = MaintenanceWindow.objects.create(
        team=ops,
        check_pattern="Disk*",
        starts_at=NOW - dt.timedelta(hours=2),
        ends_at=NOW - dt.timedelta(minutes=20),
        reason="Disk replacement",
    )
    receive(source, firing("DiskSpaceLow"), firing("ApiDown", identity="api"))
    assert paging.suggested_category(Alert.objects.get(check_name="DiskSpaceLow")) == "downtime-expired"
    assert paging.suggested_category(Alert.objects.get(check_name="ApiDown")) is None
    window.ends_at = NOW - dt.timedelta(hours=2, minutes=-1)
    window.save()
    assert paging.suggested_category(Alert.objects.get(check_name="DiskSpaceLow")) is None


def test_a_silent_heartbeat_pages_once_and_the_page_resolves_when_it_beats_again(ops, source):
    heartbeat = Heartbeat.objects.create(
        alert_source=source, check_name="Watchdog", interval_minutes=5, grace_minutes=10, created_at=NOW
    )
    receive(source, firing("Watchdog", severity="none"))
    heartbeat.refresh_from_db()
    assert heartbeat.last_seen_at == NOW
    assert Alert.objects.get().paging == PagingDecision.HEARTBEAT

    assert paging.sweep_paging(now=NOW + dt.timedelta(minutes=14)) == 0
    assert paging.sweep_paging(now=NOW + dt.timedelta(minutes=16)) == 1
    assert paging.sweep_paging(now=NOW + dt.timedelta(minutes=17)) == 0  # idempotent
    page = Page.objects.get()
    assert page.message.startswith("Monitoring is silent: Watchdog from prometheus")
    oncall_services.resolve_page(page=page, now=NOW + dt.timedelta(minutes=18))  # by hand, still silent
    assert paging.sweep_paging(now=NOW + dt.timedelta(minutes=19)) == 0

    receive(source, firing("Watchdog", severity="none"), now=NOW + dt.timedelta(minutes=20))
    page.refresh_from_db()
    assert page.status == PageStatus.RESOLVED
    assert paging.sweep_paging(now=NOW + dt.timedelta(minutes=21)) == 0


def test_the_sweep_decides_alerts_whose_task_was_lost(ops, source):
    with time_machine.travel(NOW, tick=False):
        receive_alerts(items=[firing()], source_name="alertmanager", alert_source=source)
    assert paging.sweep_paging(now=NOW + dt.timedelta(minutes=1)) == 1
    assert paging.sweep_paging(now=NOW + dt.timedelta(minutes=2)) == 0
    assert Page.objects.count() == 1


def test_a_team_policy_decides_by_label(ops, source):
    paging.update_policy(
        team=ops,
        rules=[
            {"match": ["env=staging"], "action": "record"},
            {"match": ["severity=~critical|warning"], "action": "page"},
        ],
    )
    receive(
        source,
        firing("ApiDown", identity="staging", env="staging"),
        firing("HighLatency", identity="prod", severity="warning", env="production"),
    )
    assert Page.objects.get().alerts.get().identity == "prod"


def test_the_review_queue_leaves_out_maintenance_and_heartbeats_and_suggests_downtime_expired(ops, source):
    from alerts_review import selectors
    from oncall.models import Shift

    MaintenanceWindow.objects.create(
        team=ops,
        check_pattern="Disk*",
        starts_at=NOW - dt.timedelta(hours=1),
        ends_at=NOW + dt.timedelta(minutes=30),
        reason="Disk replacement",
    )
    Heartbeat.objects.create(alert_source=source, check_name="Watchdog")
    receive(
        source,
        firing("DiskSpaceLow", identity="inside"),
        firing("Watchdog", severity="none"),
        firing("DiskSpaceLow", identity="after", at=NOW + dt.timedelta(minutes=50)),
        firing("ApiDown", identity="api", at=NOW + dt.timedelta(minutes=50)),
    )
    shift = Shift.objects.covering(NOW).get(rotation__team=ops, level="L1")
    review = selectors.shift_review(shift=shift, at=NOW + dt.timedelta(hours=2))

    listed = {alert.identity: alert for group in review.groups for alert in group.alerts}
    assert set(listed) == {"after", "api"}
    assert review.during_maintenance == 1
    assert listed["after"].suggested_category == "downtime-expired"
    assert listed["api"].suggested_category is None

    report = selectors.monthly_report(month=NOW.date().replace(day=1), team=ops)
    assert report["during_maintenance"] == 1


def test_an_alert_already_resolved_when_it_arrives_in_a_window_is_still_during_maintenance(ops, source):
    paging.create_maintenance_window(
        team=ops, starts_at=NOW - dt.timedelta(hours=1), ends_at=NOW + dt.timedelta(hours=1), reason="Upgrade"
    )
    receive(source, firing(resolved_at=NOW + dt.timedelta(minutes=5)))
    assert Alert.objects.get().paging == PagingDecision.MAINTENANCE


def test_imported_history_never_pages(ops, tmp_path):
    from io import StringIO

    from django.core.management import call_command

    path = tmp_path / "history.csv"
    path.write_text(
        "check,host,fired_at,team,severity\nDiskSpaceLow,db12,2026-02-10T11:59:00Z,ops,critical\n"
    )
    with time_machine.travel(NOW, tick=False):
        call_command("import_alerts", str(path), stdout=StringIO(), stderr=StringIO())
    assert Alert.objects.get().paging == PagingDecision.RECORDED
    assert paging.sweep_paging(now=NOW + dt.timedelta(minutes=1)) == 0
    assert not Page.objects.exists()
