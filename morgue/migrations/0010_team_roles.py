import django.db.models.deletion
from django.conf import settings
from django.db import migrations, models


class Migration(migrations.Migration):
    """Roles per team: the existing membership table gains a role; every existing member is a responder."""

    dependencies = [
        ("morgue", "0009_audit_entries"),
        migrations.swappable_dependency(settings.AUTH_USER_MODEL),
    ]

    operations = [
        # The rows stay in the table Django made for `Team.members`; only the state learns its model.
        migrations.SeparateDatabaseAndState(
            state_operations=[
                migrations.CreateModel(
                    name="TeamMembership",
                    fields=[
                        ("id", models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name="ID")),
                        ("team", models.ForeignKey(on_delete=django.db.models.deletion.CASCADE, related_name="memberships", to="morgue.team")),
                        ("user", models.ForeignKey(on_delete=django.db.models.deletion.CASCADE, related_name="memberships", to=settings.AUTH_USER_MODEL)),
                    ],
                    options={
                        "db_table": "oncall_team_members",
                        "ordering": ["team__name", "user__username"],
                        "unique_together": {("team", "user")},
                    },
                ),
                migrations.AlterField(
                    model_name="team",
                    name="members",
                    field=models.ManyToManyField(blank=True, related_name="teams", through="morgue.TeamMembership", to=settings.AUTH_USER_MODEL),
                ),
            ],
            database_operations=[],
        ),
        # The default fills every existing row: members before roles existed become responders.
        migrations.AddField(
            model_name="teammembership",
            name="role",
            field=models.CharField(
                choices=[("viewer", "Viewer"), ("responder", "Responder"), ("manager", "Team manager")],
                default="responder",
                max_length=12,
            ),
        ),
        migrations.AddField(
            model_name="teammembership",
            name="from_directory",
            field=models.BooleanField(
                default=False,
                help_text="Given by a directory group (MORGUE_GROUP_ROLES): set again, or removed, at each sign-in.",
            ),
        ),
    ]
