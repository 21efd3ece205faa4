import io
import re

from django.apps import apps
from django.contrib.auth import get_user_model
from django.core.management import call_command

from morgue.models import AuditEntry, Team


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
    last_entry = AuditEntry.objects.order_by("-id").values_list("id", flat=True).first()
    out = io.StringIO()

    call_command("seed_demo", stdout=out)

    after = _rows_per_table()
    # Only hashes of tokens are kept, so each run gives the demo's three senders and
    # its feed new tokens to print, and the audit trail records those resets; nothing else changes.
    new_entries = AuditEntry.objects.filter(id__gt=last_entry)
    assert sorted(new_entries.values_list("action", flat=True)) == ["token reset"] * 4
    assert after.pop("morgue_auditentry") == before.pop("morgue_auditentry") + 4
    assert after == before
    assert "Demo data is in place." in out.getvalue()


def test_the_demo_prints_working_sender_and_feed_addresses(demo, client):
    out = io.StringIO()

    call_command("seed_demo", stdout=out)

    text = out.getvalue()
    feed = re.search(r"calendar feed is http://[^/]+(/\S+)", text)
    assert feed is not None, text
    assert client.get(feed.group(1)).status_code == 200
    senders = re.findall(r"sends to http://[^/]+(/\S+) with 'Authorization: Bearer (\S+)'", text)
    assert len(senders) == 3, text
    for path, token in senders:
        response = client.post(
            path, data="{}", content_type="application/json", HTTP_AUTHORIZATION=f"Bearer {token}"
        )
        # Authenticated: the empty body is refused for what it says, not for who sent it.
        assert response.status_code == 400, (path, response.content)
        wrong = client.post(
            path, data="{}", content_type="application/json", HTTP_AUTHORIZATION="Bearer x" + token
        )
        assert wrong.status_code == 401
