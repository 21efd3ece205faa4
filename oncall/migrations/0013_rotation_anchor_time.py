from django.db import migrations, models


def anchor_at_handoff(apps, schema_editor):
    # Every rule stored so far was anchored at its handoff time: nothing changes for it.
    Rotation = apps.get_model("oncall", "Rotation")
    Rotation.objects.filter(anchor_date__isnull=False).update(anchor_time=models.F("handoff_time"))


class Migration(migrations.Migration):
    dependencies = [
        ("oncall", "0012_rotation_ends_at"),
    ]

    operations = [
        migrations.AddField(
            model_name="rotation",
            name="anchor_time",
            field=models.TimeField(blank=True, editable=False, null=True),
        ),
        migrations.RunPython(anchor_at_handoff, migrations.RunPython.noop),
    ]
