"""Alert-source tokens are kept as a prefix and a SHA-256 hash (morgue.tokens).

Existing tokens are hashed, so senders configured with them keep working;
the plain column is then dropped.
"""

import hashlib

from django.db import migrations, models


def prefix_and_hash(token):
    """What morgue.tokens keeps of a token made before hashing (kept here: migrations stay as written)."""
    return token[:8], hashlib.sha256(token.encode("utf-8", "backslashreplace")).hexdigest()


def hash_source_tokens(apps, schema_editor):
    AlertSource = apps.get_model("alerts_review", "AlertSource")
    for source in AlertSource.objects.only("pk", "token").iterator():
        prefix, digest = prefix_and_hash(source.token)
        AlertSource.objects.filter(pk=source.pk).update(token_prefix=prefix, token_hash=digest)


class Migration(migrations.Migration):
    dependencies = [
        ("alerts_review", "0014_monthly_rollups"),
    ]

    operations = [
        migrations.AddField(
            model_name="alertsource",
            name="token_hash",
            field=models.CharField(blank=True, editable=False, max_length=64),
        ),
        migrations.AddField(
            model_name="alertsource",
            name="token_prefix",
            field=models.CharField(blank=True, db_index=True, editable=False, max_length=8),
        ),
        migrations.RunPython(hash_source_tokens, migrations.RunPython.noop),
        migrations.RemoveField(
            model_name="alertsource",
            name="token",
        ),
    ]
