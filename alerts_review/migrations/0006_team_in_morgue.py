import django.db.models.deletion
from django.db import migrations, models


class Migration(migrations.Migration):

    dependencies = [
        ('alerts_review', '0005_plain_fired_at_index'),
        ('morgue', '0003_team_moves_here'),
    ]

    # Foreign keys now name morgue.Team; the table they point at is unchanged, so the database is untouched.
    operations = [
        migrations.SeparateDatabaseAndState(
            state_operations=[
                migrations.AlterField(
                    model_name='alert',
                    name='team',
                    field=models.ForeignKey(blank=True, null=True, on_delete=django.db.models.deletion.SET_NULL, related_name='alerts', to='morgue.team'),
                ),
                migrations.AlterField(
                    model_name='alertreview',
                    name='team',
                    field=models.ForeignKey(on_delete=django.db.models.deletion.CASCADE, related_name='alert_reviews', to='morgue.team'),
                ),
                migrations.AlterField(
                    model_name='alertsource',
                    name='team',
                    field=models.ForeignKey(blank=True, help_text='The team for alerts that name none and match no routing rule.', null=True, on_delete=django.db.models.deletion.SET_NULL, related_name='alert_sources', to='morgue.team'),
                ),
                migrations.AlterField(
                    model_name='reportdelivery',
                    name='team',
                    field=models.ForeignKey(on_delete=django.db.models.deletion.CASCADE, related_name='+', to='morgue.team'),
                ),
                migrations.AlterField(
                    model_name='routingrule',
                    name='team',
                    field=models.ForeignKey(on_delete=django.db.models.deletion.CASCADE, related_name='alert_routing_rules', to='morgue.team'),
                ),
            ],
            database_operations=[],
        ),
    ]
