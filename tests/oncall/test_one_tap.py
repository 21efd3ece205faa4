"""The one-tap acknowledge link: signed, expiring, for one page; GET only asks, POST acknowledges."""

import datetime as dt

import pytest
import time_machine
from django.core import signing
from django.test import Client

from oncall import services
from oncall.models import PageStatus
from oncall.services import notifications
from tests.factories import make_rotation

pytestmark = pytest.mark.django_db
NOW = dt.datetime(2026, 2, 10, 12, tzinfo=dt.UTC)


@pytest.fixture
def page():
    team = make_rotation(slug="payments-primary", people=("gus", "hana")).team
    return services.page_team(team=team, message="Card auths failing", now=NOW)


def link(page):
    user = page.steps.get().user
    return notifications.acknowledge_url(page=page, user=user).removeprefix("http://127.0.0.1:8000"), user


def test_opening_the_link_only_asks_and_the_button_acknowledges_without_signing_in(page):
    path, user = link(page)
    browser = Client(enforce_csrf_checks=True)  # signed out, and no CSRF cookie: a phone's mail app

    shown = browser.get(path)  # what a link previewer does
    assert shown.status_code == 200
    assert b"<button" in shown.content and f"Acknowledge as {user.username}".encode() in shown.content
    page.refresh_from_db()
    assert page.status == PageStatus.OPEN

    done = browser.post(path)
    assert done.status_code == 200 and b"escalation stopped" in done.content
    page.refresh_from_db()
    assert (page.status, page.acknowledged_by) == (PageStatus.ACKNOWLEDGED, user)
    acknowledged_at = page.acknowledged_at
    assert browser.post(path).status_code == 200  # a second tap changes nothing
    page.refresh_from_db()
    assert page.acknowledged_at == acknowledged_at


def test_a_forged_or_expired_link_acknowledges_nothing(page):
    path, _ = link(page)
    forged = path.replace("/ack/", "/ack/x")
    assert Client().post(forged).status_code == 400
    other_page = signing.dumps({"page": page.pk, "user": 1}, salt="another.purpose")
    assert Client().post(f"/oncall/ack/{other_page}/").status_code == 400
    with time_machine.travel(
        dt.datetime.now(dt.UTC) + notifications.ACKNOWLEDGE_LINK_AGE + dt.timedelta(minutes=1)
    ):
        expired = Client().post(path)
    assert expired.status_code == 400 and b"expired" in expired.content
    page.refresh_from_db()
    assert page.status == PageStatus.OPEN
