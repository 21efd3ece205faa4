"""Remediation items record where they came from (title and page), filled here for incident items.

Items without an incident were decided in an alerts review; that app's own
migration fills their origin, since this app does not know its pages.
"""

from django.db import migrations, models
from django.db.models import CharField, OuterRef, Subquery, Value
from django.db.models.functions import Cast, Concat

# The incident's remediation page, as incidents.urls named it when this was written.
INCIDENT_PAGE = ("/remediations/incident/", "/")
NO_ORIGIN = ("No incident", "/remediations/")


def fill_origins(apps, schema_editor) -> None:
    items = apps.get_model("incidents", "RemediationItem").objects
    incidents = apps.get_model("incidents", "Incident").objects
    prefix, suffix = INCIDENT_PAGE
    items.filter(incident__isnull=False).update(
        origin_title=Subquery(incidents.filter(pk=OuterRef("incident_id")).values("title")[:1]),
        origin_url=Concat(Value(prefix), Cast("incident_id", CharField()), Value(suffix)),
    )
    title, url = NO_ORIGIN
    items.filter(incident__isnull=True).update(origin_title=title, origin_url=url)


class Migration(migrations.Migration):

    dependencies = [
        ("incidents", "0009_email_deliveries"),
    ]

    operations = [
        migrations.AddField(
            model_name="remediationitem",
            name="origin_title",
            field=models.CharField(default="", max_length=300, verbose_name="from"),
            preserve_default=False,
        ),
        migrations.AddField(
            model_name="remediationitem",
            name="origin_url",
            field=models.CharField(default="", help_text="The page the item came from.", max_length=500),
            preserve_default=False,
        ),
        migrations.RunPython(fill_origins, migrations.RunPython.noop),
    ]
