"""API tokens: made once and shown once, stored as a prefix and a hash, scoped, expiring, revocable."""

import datetime as dt
import importlib
import re
from types import SimpleNamespace

import pytest
import time_machine
from django.apps import apps
from django.db import connection
from django.utils import timezone
from rest_framework.test import APIClient

from morgue import tokens
from morgue.models import ApiToken, AuditEntry
from morgue.services import create_api_token
from tests.factories import ProfileFactory, UserFactory, make_api_token

pytestmark = pytest.mark.django_db
NOW = dt.datetime(2026, 6, 1, 12, tzinfo=dt.UTC)


def _in_a_month() -> dt.datetime:
    return timezone.now() + dt.timedelta(days=30)


def _client(token: str, scheme: str = "Bearer") -> APIClient:
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"{scheme} {token}")
    return client


def _stored_text() -> str:
    """Every value of every API token row, as text: what a database dump would show."""
    return " ".join(str(value) for row in ApiToken.objects.values() for value in row.values())


def test_a_token_made_on_the_profile_page_is_shown_once_and_works(browser_client, person):
    response = browser_client.post(
        "/profile/",
        {"form": "api-token", "name": "deploy script", "scope": "write", "expires": "30"},
        follow=True,
    )

    page = response.content.decode()
    token = re.search(r'value="(morgue_[a-z0-9]{8}_[\w-]+)"', page).group(1)
    assert "shown only once" in page
    assert _client(token).get("/api/v1/me/").json()["username"] == person.username
    # Never again: the list shows the prefix only, and the database holds no copy.
    again = browser_client.get("/profile/").content.decode()
    assert token not in again
    assert f"{tokens.prefix_of(token)}…" in again
    assert token not in _stored_text()
    assert tokens.hash_token(token) in _stored_text()


def test_the_profile_page_lists_and_revokes_tokens(browser_client, person):
    made = create_api_token(owner=person, name="cron", scope="read", expires_at=_in_a_month())
    other = create_api_token(owner=UserFactory(), name="not yours", scope="read", expires_at=_in_a_month())

    page = browser_client.get("/profile/").content.decode()
    assert "cron" in page and made.prefix in page and "Read only" in page
    assert "not yours" not in page

    browser_client.post("/profile/", {"form": "revoke-token", "id": str(other.pk)})
    browser_client.post("/profile/", {"form": "revoke-token", "id": str(made.pk)})

    other.refresh_from_db()
    made.refresh_from_db()
    assert other.revoked_at is None
    assert made.revoked_at is not None
    assert _client(made.token or "").get("/api/v1/me/").status_code == 401


def test_the_profile_form_refuses_never_for_people_who_are_not_staff(browser_client, person):
    response = browser_client.post(
        "/profile/", {"form": "api-token", "name": "forever", "scope": "read", "expires": "never"}
    )

    assert response.status_code == 200
    assert "never is not one of the available choices" in response.content.decode()
    assert not ApiToken.objects.exists()


@pytest.mark.parametrize("scheme", ["Bearer", "Token", "bearer"])
def test_both_schemes_authenticate(person, scheme):
    token = make_api_token(person)

    assert _client(token, scheme).get("/api/v1/me/").status_code == 200


def test_a_read_token_reads_but_is_refused_changes_with_a_sentence(person):
    client = _client(make_api_token(person, scope="read"))

    assert client.get("/api/v1/me/").status_code == 200
    response = client.patch("/api/v1/me/", {"display_name": "Changed"}, format="json")

    assert response.status_code == 403
    assert "may only read" in response.json()["detail"]
    person.profile.refresh_from_db()
    assert person.profile.display_name != "Changed"


def test_an_expired_token_is_a_401_that_says_so(person):
    with time_machine.travel(NOW, tick=False):
        token = make_api_token(person, days=30)
    with time_machine.travel(NOW + dt.timedelta(days=30, seconds=1), tick=False):
        response = _client(token).get("/api/v1/me/")

    assert response.status_code == 401
    assert "expired on 2026-07-01" in response.json()["detail"]
    assert response["WWW-Authenticate"].startswith("Bearer")


def test_a_revoked_token_is_a_401_that_says_so(api, person):
    made = create_api_token(owner=person, name="x", scope="write", expires_at=_in_a_month())
    response = api.post(f"/api/v1/tokens/{made.pk}/revoke/")
    assert response.status_code == 200, response.json()
    assert response.json()["status"] == "revoked"

    response = _client(made.token or "").get("/api/v1/me/")

    assert response.status_code == 401
    assert "was revoked" in response.json()["detail"]


def test_a_wrong_secret_with_a_real_prefix_is_refused(person):
    token = make_api_token(person)
    forged = token[:-4] + ("aaaa" if not token.endswith("aaaa") else "bbbb")

    response = _client(forged).get("/api/v1/me/")

    assert response.status_code == 401
    assert response.json()["detail"] == "The API token is not valid."


def test_a_deactivated_persons_token_is_refused(person):
    token = make_api_token(person)
    person.is_active = False
    person.save()

    assert _client(token).get("/api/v1/me/").status_code == 401


def test_last_used_is_written_at_most_once_a_minute(person, django_assert_num_queries):
    token = make_api_token(person)
    row = ApiToken.objects.get()
    assert row.last_used_at is None

    with time_machine.travel(NOW, tick=False):
        _client(token).get("/api/v1/tokens/")
    row.refresh_from_db()
    assert row.last_used_at == NOW

    with time_machine.travel(NOW + dt.timedelta(seconds=50), tick=False):
        client = _client(token)
        # The token lookup and the list; no UPDATE within the minute.
        with django_assert_num_queries(2):
            client.get("/api/v1/tokens/")
    row.refresh_from_db()
    assert row.last_used_at == NOW

    with time_machine.travel(NOW + dt.timedelta(seconds=61), tick=False):
        _client(token).get("/api/v1/tokens/")
    row.refresh_from_db()
    assert row.last_used_at == NOW + dt.timedelta(seconds=61)


def test_the_api_makes_a_token_shows_it_once_and_lists_without_it(api, person):
    response = api.post("/api/v1/tokens/", {"name": "ci", "scope": "read", "expires": "90"}, format="json")

    assert response.status_code == 201, response.json()
    made = response.json()
    assert made["token"].startswith(f"morgue_{made['prefix']}_")
    assert made["scope"] == "read" and made["status"] == "active"
    assert _client(made["token"]).get("/api/v1/me/").status_code == 200

    listed = api.get("/api/v1/tokens/").json()
    assert [token["name"] for token in listed] == ["ci", "test"]
    assert all("token" not in token for token in listed)
    assert made["token"] not in str(listed)


def test_the_api_refuses_bad_token_requests_with_sentences(api, staff_api, person):
    never = api.post("/api/v1/tokens/", {"name": "x", "scope": "read", "expires": "never"}, format="json")
    assert never.status_code == 403
    assert "Only staff" in never.json()["detail"]

    no_date = api.post("/api/v1/tokens/", {"name": "x", "scope": "read", "expires": "date"}, format="json")
    assert no_date.status_code == 400
    assert "date" in no_date.json()["detail"]

    unknown = api.post(
        "/api/v1/tokens/", {"name": "x", "scope": "read", "expires": "30", "secret": "s"}, format="json"
    )
    assert unknown.status_code == 400

    bad_scope = api.post("/api/v1/tokens/", {"name": "x", "scope": "admin", "expires": "30"}, format="json")
    assert bad_scope.status_code == 400
    assert ApiToken.objects.filter(name="x").count() == 0

    staff_never = staff_api.post(
        "/api/v1/tokens/", {"name": "x", "scope": "read", "expires": "never"}, format="json"
    )
    assert staff_never.status_code == 201
    assert staff_never.json()["expires_at"] is None


def test_a_token_with_a_date_works_through_that_day_on_the_owners_clock(db):
    owner = ProfileFactory(time_zone="America/New_York").user
    client = _client(make_api_token(owner, days=None))

    with time_machine.travel(NOW, tick=False):
        response = client.post(
            "/api/v1/tokens/", {"name": "d", "scope": "read", "expires": "date", "expires_on": "2026-06-10"}
        )

    assert response.status_code == 201, response.json()
    # The end of 10 June in New York (EDT, UTC-4).
    assert response.json()["expires_at"] == "2026-06-11T04:00:00Z"


def test_a_token_cannot_make_a_token_that_outlives_it(person):
    with time_machine.travel(NOW, tick=False):
        client = _client(make_api_token(person, days=30))
        response = client.post("/api/v1/tokens/", {"name": "longer", "scope": "read", "expires": "90"})

    assert response.status_code == 400
    assert "cannot outlive it" in response.json()["detail"]


def test_nobody_sees_or_revokes_another_persons_tokens(api, person):
    theirs = create_api_token(owner=UserFactory(), name="theirs", scope="read", expires_at=_in_a_month())

    assert api.get(f"/api/v1/tokens/{theirs.pk}/").status_code == 404
    assert api.post(f"/api/v1/tokens/{theirs.pk}/revoke/").status_code == 404
    theirs.refresh_from_db()
    assert theirs.revoked_at is None


def test_the_audit_trail_records_making_and_revoking_without_the_secret(api, person):
    made = api.post(
        "/api/v1/tokens/", {"name": "ci", "scope": "write", "expires": "30"}, format="json"
    ).json()
    api.post(f"/api/v1/tokens/{made['id']}/revoke/")

    entries = AuditEntry.objects.filter(kind="morgue.apitoken", object_id=str(made["id"])).order_by("id")
    assert [entry.action for entry in entries] == ["created", "changed"]
    assert entries[0].changes["prefix"] == [None, made["prefix"]]
    assert entries[0].changes["secret_hash"][1].startswith("hidden:")
    trail = str(list(entries.values()))
    assert made["token"] not in trail
    assert tokens.hash_token(made["token"]) not in trail


def test_authtoken_keys_become_hashed_write_tokens_that_keep_working(person):
    """The data migration of 0011: each plain rest_framework.authtoken key becomes an ApiToken."""
    key = "9944b09199c62bcf9418ad846dd0e4bbdfc6ee4b"  # DRF's documented example key
    with connection.cursor() as cursor:
        cursor.execute(
            "CREATE TABLE authtoken_token (key varchar(40) PRIMARY KEY, created timestamp, user_id integer)"
        )
        cursor.execute(
            "INSERT INTO authtoken_token VALUES (%s, %s, %s)", [key, "2025-01-01 00:00:00", person.pk]
        )
    migration = importlib.import_module("morgue.migrations.0011_api_tokens")

    # The migration only asks the schema editor for its connection.
    with time_machine.travel(NOW, tick=False):
        migration.migrate_authtoken_keys(apps, SimpleNamespace(connection=connection))

    migrated = ApiToken.objects.get()
    assert (migrated.owner, migrated.name, migrated.scope) == (person, "migrated", "write")
    assert migrated.expires_at == NOW + dt.timedelta(days=365)
    assert key not in _stored_text()
    with connection.cursor() as cursor:
        cursor.execute("SELECT COUNT(*) FROM authtoken_token")
        assert cursor.fetchone()[0] == 0
    # Existing scripts send `Token <key>`.
    assert _client(key, "Token").get("/api/v1/me/").status_code == 200
