from django.db import migrations

BUILT_IN = [
    ("lead", "Incident lead", "Runs the response: decides, delegates, keeps the big picture.", 10),
    ("communications", "Communications lead", "Writes the status updates for people outside the response.", 20),
    ("scribe", "Scribe", "Keeps the timeline: what was seen, said and done, and when.", 30),
]


def add_roles(apps, schema_editor):
    RoleKind = apps.get_model("incidents", "RoleKind")
    for slug, name, description, order in BUILT_IN:
        RoleKind.objects.get_or_create(slug=slug, defaults={"name": name, "description": description, "order": order})


class Migration(migrations.Migration):
    dependencies = [("incidents", "0016_running")]

    operations = [migrations.RunPython(add_roles, migrations.RunPython.noop)]
