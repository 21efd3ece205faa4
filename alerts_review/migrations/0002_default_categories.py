"""Seed opsweekly's proven alert taxonomy; the admin may edit it afterwards."""

from django.db import migrations

# (slug, description, kind, hint)
DEFAULTS = [
    ("issue", "Action taken: service issue", "actionable", ""),
    ("issue-timeperiod", "Action taken, but the time period was inappropriate", "actionable", "timeperiod"),
    ("view-issue", "Action taken: wider issue such as a network or site outage", "actionable", ""),
    ("timeperiod", "No action taken: time period not appropriate", "not_actionable", "timeperiod"),
    ("downtime-expired", "No action taken: work ongoing, downtime expired", "not_actionable", ""),
    ("downtime-not-set", "No action taken: work ongoing, downtime not set", "not_actionable", ""),
    ("threshold", "No action taken: threshold needs adjustment", "not_actionable", "threshold"),
    ("check-faulty", "No action taken: check is faulty or needs changing", "not_actionable", "threshold"),
    ("na", "Not applicable", "neither", ""),
]


def seed(apps, schema_editor):
    Category = apps.get_model("alerts_review", "Category")
    for position, (slug, description, kind, hint) in enumerate(DEFAULTS):
        Category.objects.get_or_create(
            slug=slug, defaults={"description": description, "kind": kind, "hint": hint, "position": position}
        )


def unseed(apps, schema_editor):
    Category = apps.get_model("alerts_review", "Category")
    Category.objects.filter(slug__in=[slug for slug, *_ in DEFAULTS], alerts=None).delete()


class Migration(migrations.Migration):
    dependencies = [("alerts_review", "0001_initial")]

    operations = [migrations.RunPython(seed, unseed)]
