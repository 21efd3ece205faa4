import io
import socket

import pytest
from django.contrib.auth import get_user_model
from django.core.management import CommandError, call_command
from django.test import RequestFactory
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
    # Signing in is throttled per address (django-axes), so it needs a request to count.
    signing_in = RequestFactory().post("/")
    assert client.login(request=signing_in, username="admin", password="a-long-admin-password")
    response = client.get("/api/v1/me/", HTTP_AUTHORIZATION=f"Token {token.key}")
    assert response.json()["username"] == "admin"


def test_run_all_refuses_a_busy_port_with_a_sentence_and_starts_nothing():
    with socket.socket() as busy:
        busy.bind(("127.0.0.1", 0))
        busy.listen()
        port = busy.getsockname()[1]
        with pytest.raises(CommandError, match=f"Port {port} on 127.0.0.1 is already in use"):
            call_command("run_all", addr=f"127.0.0.1:{port}")


@pytest.mark.parametrize("addr", ["8000", "127.0.0.1:http", "127.0.0.1:70000"])
def test_run_all_refuses_an_address_it_cannot_serve_on(addr):
    with pytest.raises(CommandError, match="is not an address:port"):
        call_command("run_all", addr=addr)
