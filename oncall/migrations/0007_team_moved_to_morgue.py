import django.db.models.deletion
from django.db import migrations, models


class Migration(migrations.Migration):

    dependencies = [
        ('alerts_review', '0006_team_in_morgue'),
        ('incidents', '0008_team_in_morgue'),
        ('morgue', '0003_team_moves_here'),
        ('oncall', '0006_swap_withdrawn'),
    ]

    # Teams now live in morgue (same table); only Django's record of the models changes.
    operations = [
        migrations.SeparateDatabaseAndState(
            state_operations=[
                migrations.AlterField(
                    model_name='pagestep',
                    name='team',
                    field=models.ForeignKey(on_delete=django.db.models.deletion.PROTECT, related_name='+', to='morgue.team'),
                ),
                migrations.AlterField(
                    model_name='page',
                    name='team',
                    field=models.ForeignKey(on_delete=django.db.models.deletion.PROTECT, related_name='pages', to='morgue.team'),
                ),
                migrations.AlterField(
                    model_name='rotation',
                    name='team',
                    field=models.ForeignKey(on_delete=django.db.models.deletion.CASCADE, related_name='rotations', to='morgue.team'),
                ),
                migrations.DeleteModel(
                    name='Team',
                ),
            ],
            database_operations=[],
        ),
    ]
