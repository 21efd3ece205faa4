import django.db.models.deletion
from django.db import migrations, models


class Migration(migrations.Migration):

    dependencies = [
        ('incidents', '0007_remediation_counts'),
        ('morgue', '0003_team_moves_here'),
    ]

    # Foreign keys now name morgue.Team; the table they point at is unchanged, so the database is untouched.
    operations = [
        migrations.SeparateDatabaseAndState(
            state_operations=[
                migrations.AlterField(
                    model_name='incident',
                    name='team',
                    field=models.ForeignKey(blank=True, help_text='The owning team.', null=True, on_delete=django.db.models.deletion.SET_NULL, related_name='incidents', to='morgue.team'),
                ),
                migrations.AlterField(
                    model_name='remediationitem',
                    name='team',
                    field=models.ForeignKey(blank=True, null=True, on_delete=django.db.models.deletion.SET_NULL, related_name='remediation_items', to='morgue.team'),
                ),
            ],
            database_operations=[],
        ),
    ]
