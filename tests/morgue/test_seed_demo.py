import io

from django.apps import apps
from django.contrib.auth import get_user_model
from django.core.management import call_command

from morgue.models import Team


def _rows_per_table() -> dict[str, int]:
    return {model._meta.db_table: model._base_manager.count() for model in apps.get_models()}


def test_the_demo_is_an_organisation_of_people_in_teams_with_a_demo_login(demo):
    assert get_user_model().objects.count() >= 25
    assert set(Team.objects.values_list("slug", flat=True)) >= {"ops", "dev", "payments", "support"}
    assert Team.members.through.objects.count() >= 25
    assert get_user_model().objects.get(username="demo").check_password("morgue-demo")


def test_seeding_the_demo_again_changes_nothing(demo):
    # Every app's part of the demo at once, kept counts included.
    before = _rows_per_table()
    out = io.StringIO()

    call_command("seed_demo", stdout=out)

    assert _rows_per_table() == before
    assert "Demo data is in place." in out.getvalue()
