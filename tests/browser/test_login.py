import pytest
from playwright.sync_api import expect

from tests.factories import ProfileFactory, UserFactory

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def test_log_in_see_home_and_log_out(page, live_server, login):
    ProfileFactory(user=UserFactory(username="robin"), display_name="Robin Park", time_zone="Europe/London")

    login("robin")

    expect(page.locator("h1")).to_have_text("What's going on")
    expect(page.locator("header.site")).to_contain_text("Robin Park")
    expect(page.locator("header.site")).to_contain_text("Europe/London")
    page.click("text=Log out")
    page.wait_for_url(f"{live_server.url}/accounts/login/")
    page.goto(f"{live_server.url}/")
    expect(page).to_have_url(f"{live_server.url}/accounts/login/?next=/")


def test_wrong_password_is_told_plainly(page, live_server):
    ProfileFactory(user=UserFactory(username="robin"))

    page.goto(f"{live_server.url}/accounts/login/")
    page.fill("#id_username", "robin")
    page.fill("#id_password", "wrong")
    page.click("button[type=submit]")

    expect(page.locator("[role=alert]")).to_contain_text("didn't match")
