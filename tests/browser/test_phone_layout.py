"""What changes on a 390 px phone: the menu folds behind a button, the rotation calendar is an agenda,
and the page someone opens at 3 a.m. leads with their open pages."""

import datetime as dt

import pytest
from django.utils import timezone
from playwright.sync_api import expect

from oncall.models import Level, Page, PageStatus, PageStep, Shift
from tests.factories import make_rotation

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

PHONE = {"width": 390, "height": 844}
DESK = {"width": 1280, "height": 800}


def test_the_menu_folds_behind_a_button_on_a_phone_and_opens_without_javascript(chromium, live_server):
    make_rotation(slug="ops-primary", people=("ana", "ben"), first_shift_date=timezone.localdate())
    # No JavaScript at all: the button is a label for a checkbox.
    context = chromium.new_context(viewport=PHONE, java_script_enabled=False)
    page = context.new_page()
    page.goto(f"{live_server.url}/accounts/login/")
    page.fill("#id_username", "ana")
    page.fill("#id_password", "password")
    page.click("button[type=submit]")
    page.wait_for_url(f"{live_server.url}/")

    on_call = page.get_by_role("link", name="On call", exact=True)
    expect(on_call).to_be_hidden()
    page.click("label.menu-button")
    expect(on_call).to_be_visible()
    on_call.click()
    page.wait_for_url(f"{live_server.url}/oncall/")

    page.set_viewport_size(DESK)
    expect(page.locator("label.menu-button")).to_be_hidden()
    expect(page.get_by_role("link", name="Incidents", exact=True)).to_be_visible()
    context.close()


def test_the_rotation_calendar_is_an_agenda_on_a_phone_and_a_month_grid_on_a_desk(page, live_server, login):
    today = timezone.localdate()
    rotation = make_rotation(
        slug="ops-primary",
        people=("ana", "ben"),
        first_shift_date=today - dt.timedelta(days=3),
        now=timezone.now(),
    )
    holder = Shift.objects.covering(timezone.now()).get(rotation=rotation, level=Level.L1).user
    page.set_viewport_size(PHONE)
    login("ana")

    page.goto(f"{live_server.url}/oncall/rotations/ops-primary/")
    expect(page.locator(".oncall-calendar")).to_be_hidden()
    agenda_today = page.locator(".oncall-agenda li.today")
    expect(agenda_today).to_be_visible()
    expect(agenda_today).to_contain_text(f"{today:%a} {today.day} {today:%b}")
    expect(agenda_today).to_contain_text(holder.profile.name)
    assert page.evaluate("document.documentElement.scrollWidth") <= PHONE["width"]

    page.set_viewport_size(DESK)
    expect(page.locator(".oncall-calendar")).to_be_visible()
    expect(page.locator(".oncall-agenda")).to_be_hidden()


def test_your_open_page_is_acknowledged_from_the_top_of_home_on_a_phone(page, live_server, login):
    rotation = make_rotation(slug="ops-primary", people=("ana", "ben"), first_shift_date=timezone.localdate())
    ana = rotation.members.get(user__username="ana").user
    now = timezone.now()
    waiting = Page.objects.create(team=rotation.team, message="Checkout is down", created_at=now)
    PageStep.objects.create(page=waiting, number=1, team=rotation.team, level=Level.L1, user=ana, due_at=now)
    page.set_viewport_size(PHONE)
    login("ana")

    panel = page.locator(".open-pages")
    expect(panel).to_contain_text("Checkout is down")
    # At the top: above the fold of an 844 px screen, before every other panel.
    assert panel.bounding_box()["y"] < PHONE["height"] / 2
    panel.get_by_role("button", name="Acknowledge").click()

    expect(page.locator(".page-status")).to_contain_text("Acknowledged")
    expect(page.locator("button[value=acknowledge]")).to_have_count(0)
    assert Page.objects.get().status == PageStatus.ACKNOWLEDGED
    page.goto(f"{live_server.url}/")
    expect(page.locator(".open-pages button")).to_have_count(0)
