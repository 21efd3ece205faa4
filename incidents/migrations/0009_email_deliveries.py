# Remediation digests and review invitations are claimed and recorded as
# morgue.EmailDelivery rows (morgue.emails); the digests' own table goes.

import datetime as dt

from django.db import migrations


def to_email_deliveries(apps, schema_editor):
    EmailDelivery = apps.get_model("morgue", "EmailDelivery")
    RemediationDigest = apps.get_model("incidents", "RemediationDigest")
    ReviewMeeting = apps.get_model("incidents", "ReviewMeeting")
    rows = [
        EmailDelivery(
            name="remediation-digest",
            key=digest.local_date.isoformat(),
            recipient=str(digest.person_id),
            status="sent",
            recipient_count=1,
            claimed_at=digest.sent_at,
            sent_at=digest.sent_at,
        )
        for digest in RemediationDigest.objects.iterator()
    ]
    # The sequence each meeting's attendees last received: a redelivered task
    # for it must still find it sent.
    for meeting in ReviewMeeting.objects.filter(sent_sequence__gte=0).prefetch_related("attendees"):
        sent_at = meeting.invitation_sent_at or meeting.updated_at
        rows.append(
            EmailDelivery(
                name="review-invitation",
                key=str(meeting.pk),
                sequence=meeting.sent_sequence,
                status="sent",
                recipient_count=len({person.email for person in meeting.attendees.all() if person.email}),
                claimed_at=sent_at,
                sent_at=sent_at,
            )
        )
    EmailDelivery.objects.bulk_create(rows, batch_size=1000, ignore_conflicts=True)


def to_remediation_digests(apps, schema_editor):
    EmailDelivery = apps.get_model("morgue", "EmailDelivery")
    RemediationDigest = apps.get_model("incidents", "RemediationDigest")
    User = RemediationDigest._meta.get_field("person").related_model
    digests = EmailDelivery.objects.filter(name="remediation-digest", status="sent")
    people = set(User.objects.values_list("pk", flat=True))
    RemediationDigest.objects.bulk_create(
        [
            RemediationDigest(
                person_id=int(delivery.recipient),
                local_date=dt.date.fromisoformat(delivery.key),
                sent_at=delivery.sent_at,
            )
            for delivery in digests.iterator()
            if int(delivery.recipient) in people
        ],
        batch_size=1000,
        ignore_conflicts=True,
    )
    # The meetings still carry what was sent (sent_sequence, invitation_sent_at).
    EmailDelivery.objects.filter(name__in=["remediation-digest", "review-invitation"]).delete()


class Migration(migrations.Migration):

    dependencies = [
        ("incidents", "0008_team_in_morgue"),
        ("morgue", "0004_email_delivery"),
    ]

    operations = [
        migrations.RunPython(to_email_deliveries, to_remediation_digests),
        migrations.DeleteModel(
            name="RemediationDigest",
        ),
    ]
