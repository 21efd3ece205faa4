"""API tokens of Morgue's own, stored hashed; calendar-feed tokens hashed too.

Every key of rest_framework.authtoken becomes an ApiToken (scope write, named
"migrated", expiring in 365 days) so that scripts keep working, and the plain
keys are deleted. Every calendar token is hashed, so existing feed addresses
keep working; from now on only the prefix and the hash are kept.
"""

import datetime as dt
import hashlib

import django.db.models.deletion
import django.utils.timezone
from django.conf import settings
from django.db import migrations, models

AUTHTOKEN_TABLE = "authtoken_token"


def _hash(token):
    return hashlib.sha256(token.encode("utf-8", "backslashreplace")).hexdigest()


def hash_calendar_tokens(apps, schema_editor):
    Profile = apps.get_model("morgue", "Profile")
    for profile in Profile.objects.exclude(calendar_token="").only("pk", "calendar_token").iterator():
        Profile.objects.filter(pk=profile.pk).update(
            calendar_token_prefix=profile.calendar_token[:8], calendar_token_hash=_hash(profile.calendar_token)
        )


def migrate_authtoken_keys(apps, schema_editor):
    """Hash each rest_framework.authtoken key into an ApiToken, then delete the plain keys."""
    connection = schema_editor.connection
    if AUTHTOKEN_TABLE not in connection.introspection.table_names():
        return
    ApiToken = apps.get_model("morgue", "ApiToken")
    table = connection.ops.quote_name(AUTHTOKEN_TABLE)
    with connection.cursor() as cursor:
        cursor.execute(f"SELECT {connection.ops.quote_name('key')}, user_id FROM {table}")
        rows = cursor.fetchall()
    now = django.utils.timezone.now()
    ApiToken.objects.bulk_create(
        ApiToken(
            owner_id=user_id,
            name="migrated",
            scope="write",
            prefix=key[:8],
            secret_hash=_hash(key),
            created_at=now,
            expires_at=now + dt.timedelta(days=365),
        )
        for key, user_id in rows
    )
    with connection.cursor() as cursor:
        cursor.execute(f"DELETE FROM {table}")


class Migration(migrations.Migration):
    dependencies = [
        ("morgue", "0010_team_roles"),
        migrations.swappable_dependency(settings.AUTH_USER_MODEL),
    ]

    operations = [
        migrations.AddField(
            model_name="profile",
            name="calendar_token_hash",
            field=models.CharField(blank=True, max_length=64),
        ),
        migrations.AddField(
            model_name="profile",
            name="calendar_token_prefix",
            field=models.CharField(blank=True, db_index=True, max_length=8),
        ),
        migrations.RunPython(hash_calendar_tokens, migrations.RunPython.noop),
        migrations.RemoveField(
            model_name="profile",
            name="calendar_token",
        ),
        migrations.CreateModel(
            name="ApiToken",
            fields=[
                ("id", models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name="ID")),
                (
                    "name",
                    models.CharField(help_text="What the token is for, e.g. the script using it.", max_length=100),
                ),
                (
                    "scope",
                    models.CharField(
                        choices=[("read", "Read only"), ("write", "Read and write")], default="read", max_length=10
                    ),
                ),
                ("prefix", models.CharField(db_index=True, max_length=8)),
                ("secret_hash", models.CharField(max_length=64)),
                ("created_at", models.DateTimeField(default=django.utils.timezone.now)),
                (
                    "expires_at",
                    models.DateTimeField(blank=True, help_text="Empty: never (staff only).", null=True),
                ),
                ("last_used_at", models.DateTimeField(blank=True, null=True)),
                ("revoked_at", models.DateTimeField(blank=True, null=True)),
                (
                    "owner",
                    models.ForeignKey(
                        on_delete=django.db.models.deletion.CASCADE,
                        related_name="api_tokens",
                        to=settings.AUTH_USER_MODEL,
                    ),
                ),
            ],
            options={
                "verbose_name": "API token",
                "ordering": ["-created_at", "-id"],
            },
        ),
        migrations.RunPython(migrate_authtoken_keys, migrations.RunPython.noop),
    ]
