import pytest

from tests.factories import ProfileFactory, UserFactory

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def test_an_input_without_a_type_takes_the_dark_theme(page, live_server, login):
    ProfileFactory(user=UserFactory(username="nina"))
    page.emulate_media(color_scheme="dark")
    login("nina")

    page.goto(f"{live_server.url}/alerts/reports/2026-10/")

    zone = page.locator("input[name=tz]")
    body = page.evaluate("getComputedStyle(document.body).backgroundColor")
    assert zone.evaluate("element => getComputedStyle(element).backgroundColor") == body
