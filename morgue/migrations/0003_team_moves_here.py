import django.db.models.deletion
from django.conf import settings
from django.db import migrations, models


def move_content_type(apps, schema_editor):
    # Permissions and admin history hang on the content type: relabel it rather than make a new one.
    content_types = apps.get_model("contenttypes", "ContentType")
    if not content_types.objects.filter(app_label="morgue", model="team").exists():
        content_types.objects.filter(app_label="oncall", model="team").update(app_label="morgue")


def move_content_type_back(apps, schema_editor):
    content_types = apps.get_model("contenttypes", "ContentType")
    if not content_types.objects.filter(app_label="oncall", model="team").exists():
        content_types.objects.filter(app_label="morgue", model="team").update(app_label="oncall")


class Migration(migrations.Migration):

    dependencies = [
        ('contenttypes', '0002_remove_content_type_name'),
        ('morgue', '0002_sleep_hours_defaults'),
        migrations.swappable_dependency(settings.AUTH_USER_MODEL),
    ]

    # Teams move to the shared layer; the table (oncall_team) and its rows stay where they are.
    operations = [
        migrations.SeparateDatabaseAndState(
            state_operations=[
                migrations.CreateModel(
                    name='Team',
                    fields=[
                        ('id', models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name='ID')),
                        ('name', models.CharField(max_length=100, unique=True)),
                        ('slug', models.SlugField(unique=True)),
                        ('pageable', models.BooleanField(default=True, help_text='Listed in the page-any-team directory.')),
                        ('email', models.EmailField(blank=True, help_text='Where notifications for the team go.', max_length=254)),
                        ('webhook_url', models.URLField(blank=True)),
                        ('fallback_team', models.ForeignKey(blank=True, help_text='Paged when nobody on this team acknowledges; Ops when empty.', null=True, on_delete=django.db.models.deletion.SET_NULL, related_name='+', to='morgue.team')),
                        ('members', models.ManyToManyField(blank=True, related_name='teams', to=settings.AUTH_USER_MODEL)),
                    ],
                    options={
                        'db_table': 'oncall_team',
                        'ordering': ['name'],
                    },
                ),
            ],
            database_operations=[migrations.RunPython(move_content_type, move_content_type_back)],
        ),
    ]
