"""The remediation due-date counts are no longer kept: their triggers and table go.

The board counts overdue items from their rows (a short index range), so the
counts, and their second definition of overdue, did not pay for themselves.
"""

from django.db import migrations

from incidents.migrations._remediation_due_counts import REMEDIATION_DUE_COUNTS


def remove_triggers(apps, schema_editor) -> None:
    # Before the table goes: a trigger left behind would write to a missing table.
    REMEDIATION_DUE_COUNTS.uninstall(schema_editor.connection)


def install_triggers(apps, schema_editor) -> None:
    # Back again: the triggers, and the counts of the items stored meanwhile.
    REMEDIATION_DUE_COUNTS.install(schema_editor.connection)


class Migration(migrations.Migration):

    dependencies = [
        ("incidents", "0010_remediation_origin"),
    ]

    operations = [
        migrations.RunPython(remove_triggers, install_triggers),
        migrations.DeleteModel(
            name="RemediationDueCount",
        ),
    ]
