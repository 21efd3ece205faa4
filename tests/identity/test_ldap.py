"""Signing in with a directory password against a real OpenLDAP slapd on loopback."""

import pytest
from django.contrib.auth.models import Group, User
from django.test import Client

from morgue.identity.ldap_config import ldap_settings
from morgue.models import Profile
from tests.factories import ProfileFactory, UserFactory

pytestmark = [pytest.mark.integration, pytest.mark.django_db]

LDAP_BACKENDS = ["axes.backends.AxesStandaloneBackend", "morgue.identity.ldap.DirectoryLDAPBackend"]


@pytest.fixture
def ldap_sign_in(directory, settings):
    """Morgue configured from the LDAP_* variables for the test's slapd, local passwords still on."""

    def configure(*, local_passwords: bool = True, **extra: str) -> None:
        for name, value in ldap_settings(directory.environment(**extra)).items():
            setattr(settings, name, value)
        settings.LDAP_SERVER_URI = directory.uri
        settings.MORGUE_LOCAL_PASSWORDS = local_passwords
        settings.AUTHENTICATION_BACKENDS = [
            *LDAP_BACKENDS,
            "django.contrib.auth.backends.ModelBackend"
            if local_passwords
            else "morgue.identity.backends.PermissionsOnlyBackend",
        ]

    configure()
    return configure


def sign_in(client: Client, username: str, password: str):
    return client.post("/accounts/login/", {"username": username, "password": password})


def signed_in(client: Client) -> User | None:
    user_id = client.session.get("_auth_user_id")
    return User.objects.get(pk=user_id) if user_id else None


def test_directory_password_signs_in_and_creates_the_person_with_groups(ldap_sign_in, client):
    response = sign_in(client, "ada", "ada-password")

    assert response.status_code == 302 and response["Location"] == "/"
    person = signed_in(client)
    assert person is not None
    assert (person.username, person.email, person.first_name) == ("ada", "ada@example.com", "Ada")
    assert Profile.objects.get(user=person).display_name == "Ada Lovelace"
    assert set(person.groups.values_list("name", flat=True)) == {
        "engineers",
        "directory:sre",
        "directory:morgue-users",
    }


def test_a_wrong_directory_password_is_refused(ldap_sign_in, client):
    response = sign_in(client, "ada", "not-her-password")

    assert response.status_code == 200
    assert "didn't match" in response.content.decode()
    assert signed_in(client) is None


def test_leaving_a_directory_group_is_seen_at_next_sign_in_and_hand_given_groups_stay(
    ldap_sign_in, directory, client
):
    sign_in(client, "ada", "ada-password")
    ada = User.objects.get(username="ada")
    ada.groups.add(Group.objects.create(name="incident-commanders"))

    directory.remove_member("sre", "ada")
    client.logout()
    assert sign_in(client, "ada", "ada-password").status_code == 302

    assert set(ada.groups.values_list("name", flat=True)) == {
        "engineers",
        "incident-commanders",
        "directory:morgue-users",
    }


def test_a_required_group_keeps_others_out(ldap_sign_in, client):
    ldap_sign_in(LDAP_REQUIRE_GROUP="cn=morgue-users,ou=groups,dc=example,dc=com")

    assert sign_in(client, "bob", "bob-password").status_code == 200
    assert signed_in(client) is None
    assert sign_in(client, "ada", "ada-password").status_code == 302


def test_with_local_passwords_off_only_the_directory_lets_people_in(ldap_sign_in, client):
    ldap_sign_in(local_passwords=False)
    ProfileFactory(user=UserFactory(username="local-lee", password="a-local-password"))

    assert sign_in(client, "local-lee", "a-local-password").status_code == 200
    assert signed_in(client) is None
    assert sign_in(client, "ada", "ada-password").status_code == 302


def test_local_passwords_still_work_beside_the_directory(ldap_sign_in, client):
    ProfileFactory(user=UserFactory(username="local-lee", password="a-local-password"))

    assert sign_in(client, "local-lee", "a-local-password").status_code == 302


def test_start_tls_with_the_directory_ca_signs_in_and_another_ca_is_refused(tls_directory, settings):
    directory, certificates = tls_directory

    def configure(**extra: str) -> None:
        for name, value in ldap_settings(directory.environment(**extra)).items():
            setattr(settings, name, value)
        settings.AUTHENTICATION_BACKENDS = LDAP_BACKENDS

    # The server refuses a bind without TLS...
    configure()
    assert sign_in(Client(), "ada", "ada-password").status_code == 200
    # ...accepts it over StartTLS with a certificate from the CA named...
    configure(LDAP_START_TLS="1", LDAP_CA_FILE=str(certificates.ca))
    client = Client()
    assert sign_in(client, "ada", "ada-password").status_code == 302
    assert signed_in(client) == User.objects.get(email="ada@example.com")
    # ...and Morgue refuses a certificate from any other CA.
    configure(LDAP_START_TLS="1", LDAP_CA_FILE=str(certificates.other_ca))
    assert sign_in(Client(), "ada", "ada-password").status_code == 200
