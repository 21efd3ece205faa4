import datetime as dt

import pytest
from django.utils import timezone
from playwright.sync_api import expect

from oncall.models import Page, PageStatus, Shift
from tests.factories import ProfileFactory, UserFactory, make_rotation, member_of

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def _rotations():
    now = timezone.now()
    start = timezone.localdate() - dt.timedelta(days=10)
    ops = make_rotation(slug="ops-primary", people=("ana", "ben", "cy"), first_shift_date=start, now=now)
    payments = make_rotation(slug="payments-primary", people=("gus", "hana"), first_shift_date=start, now=now)
    return ops, payments


def test_page_a_team_and_acknowledge(page, live_server, login):
    _, payments = _rotations()
    l1 = Shift.objects.covering(timezone.now()).get(rotation=payments, level="L1").user
    ProfileFactory(user=l1)
    login(l1.username)

    page.goto(f"{live_server.url}/oncall/page/")
    cards = page.locator(".page-team")
    expect(cards.first).to_have_attribute("data-team", "ops")
    card = page.locator(".page-team[data-team=payments]")
    card.locator("textarea").fill("Card authorisations failing")
    card.locator("button[type=submit]").click()

    expect(page.locator("h1")).to_have_text("Page to Payments")
    expect(page.locator(".page-status")).to_contain_text("Open")
    expect(page.locator("table")).to_contain_text(l1.username)
    page.click("text=Acknowledge")
    expect(page.locator(".page-status")).to_contain_text("Acknowledged")
    assert Page.objects.get().status == PageStatus.ACKNOWLEDGED


def test_add_an_override_and_see_it_on_the_calendar(page, live_server, login):
    ops, _ = _rotations()
    robin = ProfileFactory(
        user=UserFactory(username="robin"), display_name="Robin Park", time_zone="Europe/London"
    )
    member_of(ops.team, "responder", user=robin.user)  # who may put themselves on Ops's rotation
    login("robin")

    page.goto(f"{live_server.url}/oncall/rotations/ops-primary/")
    expect(page.locator("h1")).to_contain_text("Ops Primary")
    day = timezone.localdate() + dt.timedelta(days=2)
    page.select_option("#id_level", "L1")
    page.fill("#id_user", "robin")
    page.fill("#id_starts_at", f"{day.isoformat()}T09:00")
    page.fill("#id_ends_at", f"{day.isoformat()}T17:00")
    page.fill("#id_reason", "Covering a dentist visit")
    page.click("text=Add override")

    expect(page.locator(".messages")).to_contain_text("The override is on the calendar.")
    override = page.locator(".oncall-calendar .override")
    expect(override.first).to_contain_text("Robin Park")
    # The window crosses the 10:00 handoff, so it covers the end of one shift and the start of the next.
    pieces = Shift.objects.filter(rotation=ops, user__username="robin", source="override")
    assert sum((piece.ends_at - piece.starts_at for piece in pieces), dt.timedelta()) == dt.timedelta(hours=8)
