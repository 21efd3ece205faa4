import io
import socket

import pytest
from django.contrib.auth import get_user_model
from django.core.management import CommandError, call_command
from django.test import RequestFactory


@pytest.mark.django_db
def test_createsuperuser_noinput_and_create_api_token_work_as_documented(monkeypatch, client):
    monkeypatch.setenv("DJANGO_SUPERUSER_PASSWORD", "a-long-admin-password")

    call_command(
        "createsuperuser",
        interactive=False,
        username="admin",
        email="admin@example.com",
        stdout=io.StringIO(),
    )
    out = io.StringIO()
    call_command("create_api_token", "admin", "--name", "scripts", "--scope", "write", stdout=out)

    admin = get_user_model().objects.get(username="admin")
    token = out.getvalue().strip()
    assert token.startswith("morgue_")
    assert admin.api_tokens.get().name == "scripts"
    # Signing in is throttled per address (django-axes), so it needs a request to count.
    signing_in = RequestFactory().post("/")
    assert client.login(request=signing_in, username="admin", password="a-long-admin-password")
    response = client.get("/api/v1/me/", HTTP_AUTHORIZATION=f"Bearer {token}")
    assert response.json()["username"] == "admin"
    # Staff only may make one that never expires.
    call_command("create_api_token", "admin", "--expires", "never", stdout=io.StringIO())
    assert admin.api_tokens.filter(expires_at__isnull=True).count() == 1


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
