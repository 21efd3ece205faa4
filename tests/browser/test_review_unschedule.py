import datetime as dt

import pytest
from playwright.sync_api import expect

from incidents.models import ReviewCancellation, Status
from incidents.services.review import request_invitation, schedule_review
from tests.factories import IncidentFactory, ProfileFactory, UserFactory, responder

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def test_the_facilitator_unschedules_the_review_after_confirming(page, live_server, login):
    dana = ProfileFactory(
        user=UserFactory(username="dana", email="dana@example.com"), time_zone="Europe/London"
    ).user
    responder(dana)
    now = dt.datetime.now(dt.UTC)
    incident = IncidentFactory(
        title="Queue backlog",
        status=Status.RESOLVED,
        impact_started_at=now - dt.timedelta(hours=3),
        detected_at=now - dt.timedelta(hours=2),
        resolved_at=now - dt.timedelta(hours=1),
    )
    meeting = schedule_review(
        incident=incident, facilitator=dana, starts_at=now + dt.timedelta(days=2), by=dana
    )
    request_invitation(meeting=meeting)
    page.set_viewport_size({"width": 390, "height": 844})
    login("dana")

    page.goto(f"{live_server.url}/incidents/{incident.pk}/")
    confirm = page.get_by_role("button", name="Unschedule the review")
    expect(confirm).to_be_hidden()
    page.get_by_text("Unschedule review", exact=True).click()
    review = page.locator("section[aria-labelledby=review-title]")
    expect(review).to_contain_text("everyone invited is sent a cancellation")
    # The review card fits a phone's width with its confirmation open.
    assert review.bounding_box()["x"] + review.bounding_box()["width"] <= 390
    confirm.click()

    expect(page.locator(".messages")).to_contain_text("Review unscheduled.")
    expect(page.locator("#review-title + p")).to_have_text("Not scheduled.")
    expect(page.locator("h1 .badge").last).to_have_text("Resolved")
    assert ReviewCancellation.objects.filter(incident=incident).count() == 1
