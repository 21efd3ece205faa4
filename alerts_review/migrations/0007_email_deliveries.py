# The monthly report's email is claimed and recorded as a morgue.EmailDelivery
# row (morgue.emails); the report's own delivery table goes.

import datetime as dt

from django.db import migrations


def to_email_deliveries(apps, schema_editor):
    EmailDelivery = apps.get_model("morgue", "EmailDelivery")
    ReportDelivery = apps.get_model("alerts_review", "ReportDelivery")
    EmailDelivery.objects.bulk_create(
        [
            EmailDelivery(
                name="alert-report",
                key=f"{delivery.team_id}/{delivery.month:%Y-%m}",
                status="sent",
                recipient_count=delivery.recipients,
                claimed_at=delivery.sent_at,
                sent_at=delivery.sent_at,
            )
            for delivery in ReportDelivery.objects.iterator()
        ],
        batch_size=1000,
        ignore_conflicts=True,
    )


def to_report_deliveries(apps, schema_editor):
    EmailDelivery = apps.get_model("morgue", "EmailDelivery")
    ReportDelivery = apps.get_model("alerts_review", "ReportDelivery")
    Team = ReportDelivery._meta.get_field("team").related_model
    teams = set(Team.objects.values_list("pk", flat=True))
    reports = EmailDelivery.objects.filter(name="alert-report", status="sent")
    rows = []
    for delivery in reports.iterator():
        team_id, month = delivery.key.split("/")
        if int(team_id) in teams:
            rows.append(
                ReportDelivery(
                    team_id=int(team_id),
                    month=dt.date.fromisoformat(f"{month}-01"),
                    recipients=delivery.recipient_count,
                )
            )
    ReportDelivery.objects.bulk_create(rows, batch_size=1000, ignore_conflicts=True)
    reports.delete()


class Migration(migrations.Migration):

    dependencies = [
        ("alerts_review", "0006_team_in_morgue"),
        ("morgue", "0004_email_delivery"),
    ]

    operations = [
        migrations.RunPython(to_email_deliveries, to_report_deliveries),
        migrations.DeleteModel(
            name="ReportDelivery",
        ),
    ]
