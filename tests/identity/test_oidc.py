"""Signing in with OpenID Connect against a real provider (npm's oidc-provider) on loopback."""

import pytest
from django.contrib.auth.models import Group, User
from django.contrib.messages import get_messages
from django.test import Client

from morgue.models import Profile

pytestmark = [pytest.mark.integration, pytest.mark.django_db(transaction=True)]


def signed_in(client: Client) -> User | None:
    user_id = client.session.get("_auth_user_id")
    return User.objects.get(pk=user_id) if user_id else None


def refusal(response) -> str:
    return " ".join(str(message) for message in get_messages(response.wsgi_request))


def test_the_login_page_offers_the_provider(oidc_provider, client):
    page = client.get("/accounts/login/").content.decode()
    assert "Sign in with Example SSO" in page
    assert 'href="/oidc/authenticate/"' in page
    assert 'name="password"' in page


def test_first_sign_in_creates_the_person_with_zone_and_directory_groups(oidc_provider, client):
    oidc_provider.add_person(
        "ren",
        email="ren@example.com",
        email_verified=True,
        name="Ren Ito",
        zoneinfo="Asia/Tokyo",
        groups=["sre", "morgue-users"],
    )

    response = oidc_provider.sign_in(client, "ren")

    assert response.status_code == 302 and response["Location"] == "/"
    person = signed_in(client)
    assert person is not None and person.email == "ren@example.com"
    profile = Profile.objects.get(user=person)
    assert (profile.display_name, profile.time_zone) == ("Ren Ito", "Asia/Tokyo")
    assert set(person.groups.values_list("name", flat=True)) == {
        "engineers",
        "directory:sre",
        "directory:morgue-users",
    }
    assert client.get("/").status_code == 200


def test_later_sign_ins_follow_the_directory_but_keep_groups_given_by_hand(oidc_provider, client):
    oidc_provider.add_person("ren", email="ren@example.com", name="Ren Ito", groups=["sre", "dba"])
    oidc_provider.sign_in(client, "ren")
    person = User.objects.get(email="ren@example.com")
    person.groups.add(Group.objects.create(name="incident-commanders"))
    profile = Profile.objects.get(user=person)
    profile.time_zone = "Europe/Lisbon"
    profile.save()

    oidc_provider.add_person(
        "ren", email="ren@example.com", name="Ren Ito-Park", zoneinfo="Asia/Tokyo", groups=["sre"]
    )
    client.logout()
    assert oidc_provider.sign_in(client, "ren")["Location"] == "/"

    assert signed_in(client) == person
    profile.refresh_from_db()
    assert (profile.display_name, profile.time_zone) == ("Ren Ito-Park", "Europe/Lisbon")
    assert set(person.groups.values_list("name", flat=True)) == {
        "engineers",
        "incident-commanders",
        "directory:sre",
    }
    assert User.objects.count() == 1


def test_directory_groups_give_team_roles_at_each_sign_in(oidc_provider, client, settings):
    from morgue.models import TeamMembership
    from morgue.roles import parse_group_roles
    from tests.factories import TeamFactory

    settings.MORGUE_GROUP_ROLES = parse_group_roles("sre-leads=ops:manager,sre=ops:responder")
    TeamFactory(slug="ops", name="Ops")
    oidc_provider.add_person("ren", email="ren@example.com", name="Ren Ito", groups=["sre", "sre-leads"])
    oidc_provider.sign_in(client, "ren")
    person = signed_in(client)
    assert TeamMembership.objects.get(team__slug="ops", user=person).role == "manager"
    # A manager may change Ops's paging policy: an empty body is refused for what it lacks, not who sent it.
    assert (
        client.put("/api/v1/teams/ops/paging-policy/", {}, content_type="application/json").status_code == 400
    )

    oidc_provider.add_person("ren", email="ren@example.com", name="Ren Ito", groups=["sre"])
    client.logout()
    oidc_provider.sign_in(client, "ren")
    assert TeamMembership.objects.get(team__slug="ops", user=person).role == "responder"
    assert (
        client.put("/api/v1/teams/ops/paging-policy/", {}, content_type="application/json").status_code == 403
    )


def test_a_zone_that_is_not_an_iana_name_is_ignored(oidc_provider, client):
    oidc_provider.add_person("kim", email="kim@example.com", name="Kim", zoneinfo="Mars/Olympus_Mons")

    oidc_provider.sign_in(client, "kim")

    assert Profile.objects.get(user__email="kim@example.com").time_zone == "UTC"


def test_a_tampered_id_token_is_refused(oidc_provider, client):
    oidc_provider.add_person("ren", email="ren@example.com", name="Ren Ito", groups=["sre"])
    oidc_provider.tamper_with_id_tokens()

    response = oidc_provider.sign_in(client, "ren")

    assert response.status_code == 302 and response["Location"] == "/accounts/login/"
    assert signed_in(client) is None
    assert not User.objects.exists()
    assert "did not work" in refusal(response)


def test_an_id_token_with_another_nonce_is_refused(oidc_provider, client):
    oidc_provider.add_person("ren", email="ren@example.com", name="Ren Ito")

    response = oidc_provider.sign_in(client, "ren", nonce="a-nonce-from-another-sign-in")

    assert response["Location"] == "/accounts/login/"
    assert signed_in(client) is None
    assert not User.objects.exists()


def test_someone_removed_from_the_allowed_group_is_refused_at_next_sign_in(oidc_provider, client, settings):
    settings.OIDC_ALLOWED_GROUPS = ["morgue-users"]
    oidc_provider.add_person("ren", email="ren@example.com", name="Ren Ito", groups=["morgue-users", "sre"])
    assert oidc_provider.sign_in(client, "ren")["Location"] == "/"

    oidc_provider.add_person("ren", email="ren@example.com", name="Ren Ito", groups=["sre"])
    again = Client()
    response = oidc_provider.sign_in(again, "ren")

    assert response["Location"] == "/accounts/login/"
    assert signed_in(again) is None
    assert "not in a group allowed to use Morgue" in refusal(response)


def test_nobody_outside_the_allowed_groups_is_created(oidc_provider, client, settings):
    settings.OIDC_ALLOWED_GROUPS = ["morgue-users"]
    oidc_provider.add_person("eve", email="eve@example.com", name="Eve", groups=["finance"])

    assert oidc_provider.sign_in(client, "eve")["Location"] == "/accounts/login/"
    assert not User.objects.exists()


def test_refused_single_sign_ins_never_lock_the_address_out(oidc_provider, settings):
    settings.OIDC_ALLOWED_GROUPS = ["morgue-users"]
    oidc_provider.add_person("eve", email="eve@example.com", name="Eve", groups=["finance"])
    oidc_provider.add_person("ren", email="ren@example.com", name="Ren Ito", groups=["morgue-users"])
    for _ in range(settings.AXES_FAILURE_LIMIT + 1):
        assert oidc_provider.sign_in(Client(), "eve")["Location"] == "/accounts/login/"

    client = Client()
    assert oidc_provider.sign_in(client, "ren")["Location"] == "/"
    assert signed_in(client) is not None
