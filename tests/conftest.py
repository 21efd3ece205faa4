from pathlib import Path

import pytest
from rest_framework.authtoken.models import Token
from rest_framework.test import APIClient

from tests.factories import ProfileFactory, UserFactory


@pytest.fixture
def person(db):
    """A signed-up engineer with a profile."""
    return ProfileFactory(user=UserFactory(username="pat")).user


@pytest.fixture
def staff(db):
    return ProfileFactory(user=UserFactory(username="sam-staff", is_staff=True)).user


@pytest.fixture
def api(person) -> APIClient:
    """An API client signed in as `person` with a token, as a script would be."""
    client = APIClient()
    token, _ = Token.objects.get_or_create(user=person)
    client.credentials(HTTP_AUTHORIZATION=f"Token {token.key}")
    return client


@pytest.fixture
def staff_api(staff) -> APIClient:
    client = APIClient()
    token, _ = Token.objects.get_or_create(user=staff)
    client.credentials(HTTP_AUTHORIZATION=f"Token {token.key}")
    return client


@pytest.fixture
def browser_client(client, person):
    """Django's test client with `person` logged in (a browser session)."""
    client.force_login(person)
    return client


SAMPLES = Path(__file__).parent / "samples"


@pytest.fixture
def sample():
    """Read one of the real-format payloads in tests/samples/ as text."""

    def _read(name: str) -> str:
        return (SAMPLES / name).read_text()

    return _read
