import io

from django.contrib.auth import get_user_model
from django.core.management import call_command

from morgue.models import Team


def _counts():
    return {
        "people": get_user_model().objects.count(),
        "teams": Team.objects.count(),
        "memberships": Team.members.through.objects.count(),
    }


def test_seed_demo_builds_an_organisation_and_is_idempotent(db):
    call_command("seed_demo", stdout=io.StringIO())
    first = _counts()
    call_command("seed_demo", stdout=io.StringIO())

    assert _counts() == first
    assert first["people"] >= 25
    assert set(Team.objects.values_list("slug", flat=True)) >= {"ops", "dev", "payments", "support"}
    assert get_user_model().objects.get(username="demo").check_password("morgue-demo")
