import io

import pytest
from django.contrib.auth import get_user_model
from django.core.management import call_command
from rest_framework.authtoken.models import Token


@pytest.mark.django_db
def test_createsuperuser_noinput_and_drf_create_token_work_as_documented(monkeypatch, client):
    monkeypatch.setenv("DJANGO_SUPERUSER_PASSWORD", "a-long-admin-password")

    call_command(
        "createsuperuser",
        interactive=False,
        username="admin",
        email="admin@example.com",
        stdout=io.StringIO(),
    )
    out = io.StringIO()
    call_command("drf_create_token", "admin", stdout=out)

    admin = get_user_model().objects.get(username="admin")
    token = Token.objects.get(user=admin)
    assert token.key in out.getvalue()
    assert client.login(username="admin", password="a-long-admin-password")
    response = client.get("/api/v1/me/", HTTP_AUTHORIZATION=f"Token {token.key}")
    assert response.json()["username"] == "admin"
