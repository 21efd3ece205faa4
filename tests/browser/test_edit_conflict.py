"""Two people edit one postmortem in two browsers; the second settles the conflict; both texts survive."""

import datetime as dt

import pytest
from playwright.sync_api import expect

from incidents.models import Incident
from incidents.services import incident as services
from tests.factories import ProfileFactory, UserFactory, responder

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


@pytest.fixture(autouse=True)
def patient_expectations():
    # Two cores shared by several test runs.
    expect.set_options(timeout=15_000)
    yield
    expect.set_options(timeout=5_000)


@pytest.fixture
def second_page(chromium):
    """A second browser, with its own cookies: another person at another desk."""
    context = chromium.new_context(timezone_id="Europe/London", locale="en-GB")
    page = context.new_page()
    page.set_default_timeout(15_000)
    yield page
    context.close()


def sign_in(page, live_server, username: str) -> None:
    page.goto(f"{live_server.url}/accounts/login/")
    page.fill("#id_username", username)
    page.fill("#id_password", "password")
    page.click("button[type=submit]")
    page.wait_for_url(f"{live_server.url}/")


def test_the_second_writer_settles_the_conflict_and_both_writers_text_survives(
    page, second_page, live_server
):
    for username, name in (("alice", "Alice Ng"), ("dana", "Dana Ruiz")):
        writer = ProfileFactory(
            user=UserFactory(username=username), display_name=name, time_zone="Europe/London"
        )
        responder(writer.user)
    started = dt.datetime.now(dt.UTC).replace(second=0, microsecond=0) - dt.timedelta(hours=3)
    incident = services.create_incident(
        by=None,
        title="Checkout returns 500s",
        impact_started_at=started,
        detected_at=started + dt.timedelta(minutes=5),
        tldr="Checkout failed.",
    )
    edit_url = f"{live_server.url}/incidents/{incident.pk}/edit/"
    alice, dana = page, second_page
    sign_in(alice, live_server, "alice")
    sign_in(dana, live_server, "dana")
    alice.goto(edit_url)
    dana.goto(edit_url)

    # Alice answers "Why were we surprised?" and saves first.
    alice.fill("#id_why_surprised", "No alert watched the queue depth.")
    alice.click("main form.incident-form button[type=submit]")
    expect(alice.locator("li.success")).to_contain_text("Saved.")

    # Dana, on the page she opened before, writes the same section and another one.
    dana.fill("#id_why_surprised", "The runbook still named the old queue.")
    dana.fill("#id_went_well", "The rollback took two minutes.")
    dana.click("main form.incident-form button[type=submit]")

    conflict = dana.locator("section.conflict")
    expect(conflict).to_contain_text("Someone else saved first")
    expect(conflict).to_contain_text("Alice Ng")
    section = conflict.locator("#conflict-why_surprised")
    expect(section.locator("legend")).to_have_text("Why were we surprised?")
    expect(section.locator("pre.theirs")).to_have_text("No alert watched the queue depth.")
    expect(section.locator("pre.yours")).to_have_text("The runbook still named the old queue.")
    # Theirs and mine sit side by side on a wide screen.
    theirs_box = section.locator("pre.theirs").bounding_box()
    yours_box = section.locator("pre.yours").bounding_box()
    assert theirs_box and yours_box and abs(theirs_box["y"] - yours_box["y"]) < 2
    assert yours_box["x"] > theirs_box["x"] + theirs_box["width"] - 1
    for label in ("Keep theirs", "Keep mine", "Keep both (theirs, then mine)"):
        expect(section.get_by_label(label)).to_have_attribute("type", "radio")
    # Section Dana alone wrote is still in her form.
    expect(dana.locator("#id_went_well")).to_have_value("The rollback took two minutes.")

    # At a phone's width both texts stay readable, without sideways scrolling.
    dana.set_viewport_size({"width": 390, "height": 844})
    expect(section.locator("pre.theirs")).to_be_visible()
    expect(section.locator("pre.yours")).to_be_visible()
    assert dana.evaluate("document.documentElement.scrollWidth") <= 390
    dana.set_viewport_size({"width": 1280, "height": 900})

    section.get_by_label("Keep both (theirs, then mine)").check()
    dana.click("main form.incident-form button[type=submit]")
    expect(dana.locator("li.success")).to_contain_text("Saved.")

    incident = Incident.objects.get(pk=incident.pk)
    assert incident.why_surprised == (
        "No alert watched the queue depth.\n\nThe runbook still named the old queue."
    )
    assert incident.went_well == "The rollback took two minutes."
    assert incident.tldr == "Checkout failed."
    expect(dana.locator("main")).to_contain_text("No alert watched the queue depth.")
    expect(dana.locator("main")).to_contain_text("The runbook still named the old queue.")
