"""In Chromium, under the Content-Security-Policy: the pages' scripts run, and nothing is blocked.

Chromium reports each blocked script, style, image or worker as a console
error naming the Content Security Policy; every page here must have none
while its JavaScript still does its work.
"""

import pytest
from playwright.sync_api import expect

from tests.browser.conftest import REDOC_LOGO
from tests.factories import IncidentFactory, ProfileFactory, UserFactory, responder

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


@pytest.fixture
def blocked(page):
    """Console errors and uncaught exceptions the page produces."""
    problems: list[str] = []
    page.on("console", lambda message: message.type == "error" and problems.append(message.text))
    page.on("pageerror", lambda error: problems.append(str(error)))
    return problems


def test_a_new_api_token_is_copied_with_its_button(page, live_server, login, blocked):
    ProfileFactory(user=UserFactory(username="pat"))
    page.context.grant_permissions(["clipboard-read", "clipboard-write"], origin=live_server.url)
    login("pat")
    page.set_viewport_size({"width": 390, "height": 844})  # a phone

    page.goto(f"{live_server.url}/profile/#api-tokens")
    page.fill("#id_name", "laptop script")
    page.select_option("#id_scope", "write")
    page.select_option("#id_expires", "30")
    page.click("form.api-token-form button[type=submit]")

    token = page.input_value("#new-api-token")
    assert token.startswith("morgue_")
    assert page.evaluate("document.documentElement.scrollWidth <= document.documentElement.clientWidth")
    page.click("button[data-copy='new-api-token']")
    expect(page.locator("button[data-copy='new-api-token']")).to_have_text("Copied")
    assert page.evaluate("navigator.clipboard.readText()") == token
    page.reload()
    expect(page.locator("#new-api-token")).to_have_count(0)
    assert blocked == []


def test_the_postmortem_editor_previews_under_the_policy(page, live_server, login, blocked):
    responder(ProfileFactory(user=UserFactory(username="pat")).user)  # who may edit an unowned incident
    incident = IncidentFactory()
    login("pat")

    page.goto(f"{live_server.url}/incidents/{incident.pk}/edit/")
    area = page.locator("textarea[data-check]").first
    area.fill("We found that **the cache** was cold.")

    # The preview comes from editor.js, which reads its addresses from the form's data attributes.
    expect(page.locator("[id^=preview-] strong").first).to_have_text("the cache")
    assert blocked == []


def test_the_incident_page_and_its_evidence_panel_raise_no_violation(page, live_server, login, blocked):
    ProfileFactory(user=UserFactory(username="pat"))
    incident = IncidentFactory()
    login("pat")

    page.goto(f"{live_server.url}/incidents/{incident.pk}/")

    expect(page.locator("button[data-print]")).to_be_visible()
    expect(page.locator("#evidence")).to_be_visible()
    assert blocked == []


def test_swagger_ui_and_redoc_render_under_their_policies(page, live_server, login, blocked):
    ProfileFactory(user=UserFactory(username="pat"))
    login("pat")

    page.goto(f"{live_server.url}/api/docs/")
    expect(page.locator(".swagger-ui .info .title").first).to_contain_text("Morgue API", timeout=30_000)

    page.goto(f"{live_server.url}/api/redoc/")
    expect(page.locator("h1").first).to_contain_text("Morgue API", timeout=30_000)
    # The policy refusing ReDoc's CDN logo is expected (tests/browser/conftest.py); nothing else.
    assert [message for message in blocked if REDOC_LOGO not in message] == []
