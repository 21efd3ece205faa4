"""The login page offers what is configured."""

import pytest

from tests.factories import ProfileFactory, UserFactory

pytestmark = pytest.mark.django_db


def test_with_nothing_configured_it_is_the_password_form_alone(client):
    page = client.get("/accounts/login/").content.decode()

    assert 'name="password"' in page
    assert "Sign in with" not in page
    assert client.get("/oidc/authenticate/").status_code == 404


def test_a_provider_gets_a_button_that_keeps_where_the_person_was_going(client, settings):
    settings.OIDC_ISSUER = "https://login.example.com"
    settings.OIDC_PROVIDER_NAME = "Okta"

    page = client.get("/accounts/login/?next=/incidents/").content.decode()

    assert 'href="/oidc/authenticate/?next=/incidents/"' in page
    assert "Sign in with Okta" in page


def test_with_local_passwords_off_and_no_directory_the_form_is_hidden_and_refuses(client, settings):
    settings.OIDC_ISSUER = "https://login.example.com"
    settings.MORGUE_LOCAL_PASSWORDS = False
    settings.AUTHENTICATION_BACKENDS = [
        "axes.backends.AxesStandaloneBackend",
        "morgue.identity.backends.PermissionsOnlyBackend",
    ]
    ProfileFactory(user=UserFactory(username="lee", password="a-local-password"))

    assert 'name="password"' not in client.get("/accounts/login/").content.decode()
    response = client.post("/accounts/login/", {"username": "lee", "password": "a-local-password"})
    assert response.status_code == 200
    assert "_auth_user_id" not in client.session


def test_an_unreachable_provider_is_told_on_the_login_page(client, settings):
    settings.OIDC_ISSUER = "http://127.0.0.1:9"  # discard: nothing answers
    settings.OIDC_PROVIDER_NAME = "Okta"

    response = client.get("/oidc/authenticate/", follow=True)

    assert response.redirect_chain[-1][0] == "/accounts/login/"
    assert "Okta cannot be reached just now" in response.content.decode()
