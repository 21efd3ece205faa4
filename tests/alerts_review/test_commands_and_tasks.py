import datetime as dt
from io import StringIO

import pytest
from django.core import mail
from django.core.management import CommandError, call_command

from alerts_review.models import Alert, AlertSource
from alerts_review.tasks import email_monthly_alert_reports, email_team_alert_report
from morgue.models import DeliveryStatus, EmailDelivery
from tests.factories import AlertFactory, TeamFactory, UserFactory, category

pytestmark = pytest.mark.django_db

UTC = dt.UTC


def test_create_alert_source_prints_its_token():
    TeamFactory(slug="ops")
    out = StringIO()
    call_command("create_alert_source", "prometheus", "--kind", "alertmanager", "--team", "ops", stdout=out)
    source = AlertSource.objects.get(name="prometheus")
    # Printed once: only its prefix and hash are kept.
    assert AlertSource.for_token(out.getvalue().strip()) == source
    assert source.token_prefix == out.getvalue()[:8]
    assert (source.kind, source.team.slug) == ("alertmanager", "ops")


def test_create_alert_source_refuses_an_unknown_team_or_a_taken_name():
    with pytest.raises(CommandError, match="no team nope"):
        call_command("create_alert_source", "x", "--kind", "nagios", "--team", "nope")
    call_command("create_alert_source", "x", "--kind", "nagios", stdout=StringIO())
    with pytest.raises(CommandError, match="already exists"):
        call_command("create_alert_source", "x", "--kind", "nagios")


def test_import_alerts_reports_imported_duplicates_and_refused_rows(tmp_path):
    TeamFactory(slug="ops")
    path = tmp_path / "history.csv"
    path.write_text(
        "check,host,fired_at,team,category,woke_me_up,labels\n"
        'Disk,db12,2026-10-03T02:14:07Z,ops,threshold,yes,"{""mount"": ""/var""}"\n'
        "Disk,db12,2026-10-03T02:14:07Z,ops,threshold,yes,\n"
        "Load,web1,1791011564,ops,,,\n"
        ",web1,2026-10-03T02:14:07Z,ops,,,\n"
        "Load,web1,2026-10-04T02:14:07Z,ops,meh,,\n"
    )
    out = StringIO()
    call_command("import_alerts", str(path), stdout=out, stderr=StringIO())
    assert "2 imported, 1 skipped as duplicates, 2 refused." in out.getvalue()
    assert "row 5: check is missing." in out.getvalue()
    assert "row 6: category meh is not one of" in out.getvalue()
    disk = Alert.objects.get(check_name="Disk")
    assert (disk.source, disk.category.slug, disk.woke_me_up, disk.team.slug) == (
        "import",
        "threshold",
        True,
        "ops",
    )
    assert disk.labels == {"mount": "/var"}

    out = StringIO()
    call_command("import_alerts", str(path), stdout=out, stderr=StringIO())
    assert "0 imported, 3 skipped as duplicates, 2 refused." in out.getvalue()


def test_import_alerts_refuses_unknown_columns(tmp_path):
    path = tmp_path / "history.csv"
    path.write_text("check,fired_at,colour\n")
    with pytest.raises(CommandError, match="Unknown column colour"):
        call_command("import_alerts", str(path))


def test_the_monthly_email_goes_to_each_team_once():
    ops = TeamFactory(slug="ops", name="Ops")
    ops.members.add(UserFactory(username="nina"), UserFactory(username="omar"))
    TeamFactory(slug="empty")
    AlertFactory(
        team=ops,
        check_name="Disk",
        fired_at=dt.datetime(2026, 10, 3, tzinfo=UTC),
        category=category("threshold"),
    )

    assert email_team_alert_report(ops.pk, "2026-10") is True
    assert email_team_alert_report(ops.pk, "2026-10") is False  # beat fired twice, or a redelivery
    assert len(mail.outbox) == 1
    message = mail.outbox[0]
    assert message.subject == "Ops alerts report for October 2026: 1 alerts, 0 out of hours"
    assert sorted(message.to) == ["nina@example.com", "omar@example.com"]
    assert "Disk: 1 alerts, 1 not actionable" in message.body
    assert "/alerts/reports/2026-10/?team=ops" in message.body
    delivery = EmailDelivery.objects.get()
    assert (delivery.name, delivery.key, delivery.recipient_count) == ("alert-report", f"{ops.pk}/2026-10", 2)
    assert message.alternatives[0].mimetype == "text/html" and "Disk" in message.alternatives[0].content


def test_the_monthly_email_skips_people_who_have_left():
    ops = TeamFactory(slug="ops", name="Ops")
    ops.members.add(UserFactory(username="nina"), UserFactory(username="left", is_active=False))
    AlertFactory(team=ops, fired_at=dt.datetime(2026, 10, 3, tzinfo=UTC))

    assert email_team_alert_report(ops.pk, "2026-10") is True

    assert mail.outbox[0].to == ["nina@example.com"]


def test_a_team_with_nobody_to_tell_gets_no_email_and_no_claim():
    empty = TeamFactory(slug="empty")
    AlertFactory(team=empty, fired_at=dt.datetime(2026, 10, 3, tzinfo=UTC))

    assert email_team_alert_report(empty.pk, "2026-10") is False

    assert mail.outbox == [] and not EmailDelivery.objects.exists()


def test_a_failed_send_leaves_the_report_for_a_retry_which_sends_it_once(monkeypatch):
    ops = TeamFactory(slug="ops")
    ops.members.add(UserFactory(username="nina"))

    def refuse(*args, **kwargs):
        raise OSError("SMTP is down")

    with monkeypatch.context() as smtp_down:
        smtp_down.setattr("django.core.mail.EmailMultiAlternatives.send", refuse)
        with pytest.raises(OSError):
            email_team_alert_report.run(ops.pk, "2026-10")
    assert EmailDelivery.objects.get().status == DeliveryStatus.FAILED

    assert email_team_alert_report(ops.pk, "2026-10") is True
    assert email_team_alert_report(ops.pk, "2026-10") is False
    assert len(mail.outbox) == 1


def test_the_beat_task_queues_last_months_report_for_teams_with_members(monkeypatch):
    ops = TeamFactory(slug="ops")
    ops.members.add(UserFactory(username="nina"))
    TeamFactory(slug="empty")
    queued = []
    monkeypatch.setattr(email_team_alert_report, "delay", lambda *args: queued.append(args))
    import time_machine

    with time_machine.travel(dt.datetime(2026, 11, 1, 8, tzinfo=UTC)):
        assert email_monthly_alert_reports() == 1
    assert queued == [(ops.pk, "2026-10")]


def test_the_beat_schedule_has_the_monthly_report():
    from morgue.celery import app

    entry = app.conf.beat_schedule["alerts-review-monthly-report"]
    assert entry["task"] == "alerts_review.tasks.email_monthly_alert_reports"
