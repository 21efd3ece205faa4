"""Incidents whose status contradicts their resolution time are made to agree (Incident.move_to).

- Open with a resolution time: reopened incidents (a revision once recorded
  them past open) lose the stale time; the others were resolved when that time
  was entered, so they become resolved.
- Past open without a resolution time: stamped with when they first left open
  (the first revision recording it, else their last update), never before the
  times it must follow.

Reversing changes nothing: the contradictions are not worth restoring.
"""

from django.db import migrations

OPEN = "open"
PAST_OPEN = ["resolved", "review-scheduled", "reviewed", "closed"]


def make_status_agree(apps, schema_editor):
    Incident = apps.get_model("incidents", "Incident")
    Revision = apps.get_model("incidents", "Revision")
    for incident in Incident.objects.filter(status=OPEN, resolved_at__isnull=False).iterator():
        revisions = Revision.objects.filter(incident_id=incident.pk)
        reopened = revisions.filter(snapshot__status__in=PAST_OPEN).exists()
        if reopened:
            Incident.objects.filter(pk=incident.pk).update(resolved_at=None)
        else:
            Incident.objects.filter(pk=incident.pk).update(status="resolved")
    for incident in Incident.objects.exclude(status=OPEN).filter(resolved_at__isnull=True).iterator():
        first = (
            Revision.objects.filter(incident_id=incident.pk)
            .filter(snapshot__status__in=PAST_OPEN)
            .order_by("number")
            .values_list("created_at", flat=True)
            .first()
        )
        follows = [at for at in (incident.detected_at, incident.mitigated_at) if at is not None]
        resolved_at = max([first or incident.updated_at, *follows])
        Incident.objects.filter(pk=incident.pk).update(resolved_at=resolved_at)


class Migration(migrations.Migration):
    dependencies = [("incidents", "0012_review_cancellations")]

    operations = [migrations.RunPython(make_status_agree, migrations.RunPython.noop)]
