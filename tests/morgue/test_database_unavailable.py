"""While the database cannot be reached, requests get a 503 with a sentence, never a traceback."""

from unittest import mock

import pytest
from django.db import InterfaceError, OperationalError
from django.test import Client

from morgue.errors import DATABASE_UNAVAILABLE

pytestmark = pytest.mark.django_db


@pytest.fixture
def production_client(settings):
    settings.DEBUG = False
    return Client(raise_request_exception=False)


@pytest.mark.parametrize("error", [OperationalError("server closed"), InterfaceError("closed")])
def test_a_page_answers_503_with_a_sentence(production_client, person, error):
    production_client.force_login(person)
    # The session is read by the middleware, before any view: the earliest query of a request.
    with mock.patch("django.contrib.sessions.backends.db.SessionStore.load", side_effect=error):
        response = production_client.get("/profile/")

    assert response.status_code == 503
    assert response["Retry-After"] == "30"
    assert DATABASE_UNAVAILABLE in response.content.decode()
    assert "Traceback" not in response.content.decode()


def test_the_api_answers_503_with_a_json_sentence(production_client, person):
    production_client.force_login(person)
    with mock.patch("incidents.api.incident.IncidentViewSet.list", side_effect=OperationalError("gone")):
        response = production_client.get("/api/v1/incidents/")

    assert response.status_code == 503
    assert response.json() == {"detail": DATABASE_UNAVAILABLE}


def test_other_failures_stay_a_500(production_client, person):
    production_client.force_login(person)
    with mock.patch("django.contrib.sessions.backends.db.SessionStore.load", side_effect=RuntimeError("bug")):
        response = production_client.get("/api/v1/incidents/")

    assert response.status_code == 500
