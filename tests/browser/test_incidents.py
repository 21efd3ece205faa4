import datetime as dt
from zoneinfo import ZoneInfo

import pytest
from django.core import mail
from playwright.sync_api import expect

from incidents.models import Incident, ReviewMeeting, Status
from incidents.tasks.review import send_review_invitation
from tests.factories import IncidentFactory, ProfileFactory, UserFactory, responder

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

LONDON = ZoneInfo("Europe/London")


@pytest.fixture(autouse=True)
def patient_expectations():
    # Two cores shared by several test runs: give the debounced preview time.
    expect.set_options(timeout=15_000)
    yield
    expect.set_options(timeout=5_000)


def local(at: dt.datetime) -> str:
    return at.astimezone(LONDON).strftime("%Y-%m-%dT%H:%M")


def test_a_facilitator_creates_writes_with_the_check_schedules_and_invites(page, live_server, login):
    fran = UserFactory(username="fran", email="fran@example.com")
    responder(ProfileFactory(user=fran, display_name="Fran Diaz", time_zone="Europe/London").user)
    ProfileFactory(
        user=UserFactory(username="dana", first_name="Dana", email="dana@example.com"), time_zone="UTC"
    )
    login("fran")
    started = dt.datetime.now(dt.UTC).replace(second=0, microsecond=0) - dt.timedelta(hours=3)

    # Create.
    page.goto(f"{live_server.url}/incidents/new/")
    page.fill("#id_title", "Checkout returns 500s")
    page.select_option("#id_severity", "2")
    page.fill("#id_impact_started_at", local(started))
    page.fill("#id_detected_at", local(started + dt.timedelta(minutes=6)))
    page.click("main form.stacked button[type=submit]")
    expect(page.locator("h1")).to_contain_text("Checkout returns 500s")
    expect(page.locator("main")).to_contain_text("Europe/London")
    incident = Incident.objects.get()

    # Fill the timeline.
    page.fill("#id_occurred_at", local(started + dt.timedelta(minutes=20)))
    page.select_option("#id_kind", "action")
    page.fill("#id_text", "Rolled back the payment service")
    page.click("text=Add event")
    expect(page.locator("#timeline svg .event-action")).to_have_count(1)
    expect(page.locator("#timeline table")).to_contain_text("Rolled back the payment service")

    # Write the postmortem with the check's help; resolve it.
    page.click("text=Edit postmortem")
    page.fill("#id_what_happened", "Dana forgot to run the migration. It was **human error**.")
    findings = page.locator("#findings-what_happened")
    expect(findings).to_contain_text("forgot to")
    expect(findings).to_contain_text("human error")
    expect(page.locator("#preview-what_happened strong")).to_have_text("human error")
    page.fill(
        "#id_what_happened", "The deploy ran the new code before the migration; nothing showed the order."
    )
    expect(findings).to_be_empty()
    page.select_option("#id_status", "resolved")
    page.fill("#id_resolved_at", local(started + dt.timedelta(minutes=50)))
    page.click("main form.stacked button[type=submit]")
    expect(page.locator(".messages .success")).to_contain_text("Saved.")
    expect(page.locator("main")).to_contain_text("nothing showed the order")

    # Schedule the review at the suggested slot and send the invitation.
    page.click("text=Schedule review")
    expect(page.locator("main")).to_contain_text("Suggested slot")
    page.select_option("#id_attendees", ["dana"])
    page.uncheck("#id_send_invitation")
    page.click("main form.stacked button[type=submit]")
    expect(page.locator(".messages .success")).to_contain_text("Review scheduled.")
    expect(page.locator("h1 .badge").nth(1)).to_have_text("Review scheduled")
    page.click("text=Send invitation")
    expect(page.locator(".messages .success")).to_contain_text("on its way")

    meeting = ReviewMeeting.objects.get(incident=incident)
    assert meeting.starts_at.astimezone(LONDON).weekday() < 5
    assert send_review_invitation(meeting.pk, meeting.sequence) is True
    assert sorted(mail.outbox[0].to) == ["dana@example.com", "fran@example.com"]
    assert Incident.objects.get().status == Status.REVIEW_SCHEDULED


def test_a_second_editor_cannot_overwrite_the_first(chromium, page, live_server, login):
    for username, name in (("fran", "Fran Diaz"), ("olu", "Olu Ade")):
        editor = ProfileFactory(
            user=UserFactory(username=username), display_name=name, time_zone="Europe/London"
        )
        responder(editor.user)
    incident = IncidentFactory(title="Search is slow", tldr="Draft")

    login("fran")
    page.goto(f"{live_server.url}/incidents/{incident.pk}/edit/")

    context = chromium.new_context(timezone_id="Europe/London", locale="en-GB")
    other = context.new_page()
    other.set_default_timeout(15_000)
    other.goto(f"{live_server.url}/accounts/login/")
    other.fill("#id_username", "olu")
    other.fill("#id_password", "password")
    other.click("button[type=submit]")
    other.wait_for_url(f"{live_server.url}/")
    other.goto(f"{live_server.url}/incidents/{incident.pk}/edit/")
    expect(other.locator("#presence")).to_contain_text("Fran Diaz is editing")

    other.fill("#id_tldr", "Olu's summary of the slowness.")
    other.click("main form.stacked button[type=submit]")
    expect(other.locator(".messages .success")).to_contain_text("Saved.")

    page.fill("#id_tldr", "Fran's careful summary.")
    page.click("main form.stacked button[type=submit]")
    expect(page.locator(".conflict")).to_contain_text("Someone else saved first")
    expect(page.locator(".conflict")).to_contain_text("Olu Ade")
    expect(page.locator(".conflict .theirs").first).to_have_text("Olu's summary of the slowness.")
    expect(page.locator("#id_tldr")).to_have_value("Fran's careful summary.")
    incident.refresh_from_db()
    assert incident.tldr == "Olu's summary of the slowness."

    # Fran merges deliberately and saves on top of Olu's version.
    page.fill("#id_tldr", "Olu's summary of the slowness. Fran's careful summary.")
    page.click("main form.stacked button[type=submit]")
    expect(page.locator(".messages .success")).to_contain_text("Saved.")
    incident.refresh_from_db()
    assert incident.tldr == "Olu's summary of the slowness. Fran's careful summary."
    assert incident.version == 3
    context.close()
