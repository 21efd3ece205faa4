"""Sign-in safety: failed sign-ins are throttled, sessions end when idle, signed-in pages are never cached."""

import datetime as dt

import pytest
import time_machine
from django.conf import settings
from django.test import Client
from django.utils import timezone

from tests.factories import ProfileFactory, UserFactory

pytestmark = pytest.mark.django_db

PASSWORD = "the-right-password-42"


@pytest.fixture
def robin():
    return ProfileFactory(user=UserFactory(username="robin", password=PASSWORD)).user


def sign_in(client: Client, path: str, password: str, *, address: str = "192.0.2.10", username="robin"):
    return client.post(path, {"username": username, "password": password}, REMOTE_ADDR=address)


@pytest.mark.parametrize("path", ["/accounts/login/", "/admin/login/"])
def test_fifty_wrong_passwords_are_refused_then_the_right_one_works_after_the_cool_down(client, robin, path):
    robin.is_staff = True
    robin.save()
    start = timezone.now()
    with time_machine.travel(start, tick=False):
        answers = [sign_in(client, path, f"guess-{attempt}").status_code for attempt in range(50)]
        # The first few are ordinary wrong-password forms; the rest are refused outright.
        assert answers[: settings.AXES_FAILURE_LIMIT - 1] == [200] * (settings.AXES_FAILURE_LIMIT - 1)
        assert set(answers[settings.AXES_FAILURE_LIMIT :]) == {429}
        locked = sign_in(client, path, PASSWORD)
        assert locked.status_code == 429
        assert "try again in 15 minutes" in locked.content.decode()
        assert "_auth_user_id" not in client.session

    # Someone else's guessing does not lock the real person out from their own address.
    with time_machine.travel(start + dt.timedelta(minutes=1), tick=False):
        assert sign_in(Client(), path, PASSWORD, address="198.51.100.7").status_code == 302

    with time_machine.travel(start + settings.AXES_COOLOFF_TIME + dt.timedelta(seconds=1), tick=False):
        response = sign_in(client, path, PASSWORD)
    assert response.status_code == 302
    assert client.session["_auth_user_id"] == str(robin.pk)


def test_the_lock_out_is_per_address_and_account(client, robin):
    ProfileFactory(user=UserFactory(username="kim", password=PASSWORD))
    for attempt in range(settings.AXES_FAILURE_LIMIT):
        sign_in(client, "/accounts/login/", f"guess-{attempt}")

    assert sign_in(client, "/accounts/login/", PASSWORD).status_code == 429
    # Another account from the same address is still let in.
    assert sign_in(client, "/accounts/login/", PASSWORD, username="kim").status_code == 302


def test_sign_in_gives_a_new_session_key(client, robin):
    client.get("/accounts/login/")
    anonymous_session = client.session
    anonymous_session["theme"] = "dark"
    anonymous_session.save()
    before = anonymous_session.session_key

    assert sign_in(client, "/accounts/login/", PASSWORD).status_code == 302

    after = client.cookies["sessionid"].value
    assert after != before
    assert client.session["_auth_user_id"] == str(robin.pk)


def test_a_session_ends_after_the_idle_time_and_each_request_extends_it(client, robin):
    start = timezone.now()
    idle = dt.timedelta(seconds=settings.SESSION_COOKIE_AGE)
    with time_machine.travel(start, tick=False):
        assert sign_in(client, "/accounts/login/", PASSWORD).status_code == 302
    with time_machine.travel(start + idle - dt.timedelta(minutes=5), tick=False):
        assert client.get("/").status_code == 200
    # Still signed in past the original end, because of the request above.
    with time_machine.travel(start + idle + dt.timedelta(minutes=1), tick=False):
        assert client.get("/").status_code == 200
    with time_machine.travel(start + 2 * idle + dt.timedelta(minutes=5), tick=False):
        assert client.get("/").status_code == 302


def test_signed_in_pages_and_me_are_never_cached_and_carry_the_security_headers(browser_client, api):
    for response in (browser_client.get("/"), api.get("/api/v1/me/")):
        assert response.status_code == 200
        assert "no-store" in response["Cache-Control"]
        assert response["X-Content-Type-Options"] == "nosniff"
        assert response["Referrer-Policy"] == "same-origin"
        assert "camera=()" in response["Permissions-Policy"]


def test_the_login_page_carries_the_security_headers_but_may_be_cached(client):
    response = client.get("/accounts/login/")
    assert response["Permissions-Policy"] == settings.PERMISSIONS_POLICY
    assert response["X-Content-Type-Options"] == "nosniff"
