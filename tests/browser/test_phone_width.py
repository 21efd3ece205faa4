"""The demo's pages fit a phone: nothing makes a page wider than a 390 px screen (no sideways scroll).

A wide table scrolls inside itself (morgue/static/morgue/style.css); the page never does.
"""

import io

import pytest
from django.core.management import call_command

from incidents.models import GraphSnapshot, Incident, Status
from oncall.models import Page, PageStatus

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

PHONE = {"width": 390, "height": 844}

# What sticks out past the right edge (outside tables, which scroll), to name it when a page is too wide.
WIDEST = """() => [...document.querySelectorAll('body *')]
  .filter(element => element.getBoundingClientRect().right > document.documentElement.clientWidth + 1)
  .filter(element => !element.parentElement.closest('table'))
  .slice(0, 12)
  .map(element => `<${element.tagName.toLowerCase()} class="${element.className}"> ends at `
    + `${Math.round(element.getBoundingClientRect().right)}px`)
"""


def _demo_pages() -> list[str]:
    incident = GraphSnapshot.objects.order_by("pk").first().incident
    reviewed = Incident.objects.filter(status=Status.REVIEWED).order_by("pk").first()
    exhausted = Page.objects.get(status=PageStatus.EXHAUSTED)
    return [
        f"/incidents/{incident.pk}/",
        f"/incidents/{reviewed.pk}/",
        "/incidents/",
        "/oncall/",
        "/oncall/page/",
        f"/oncall/pages/{exhausted.pk}/",
        "/oncall/rotations/ops-weekly/",
        "/oncall/rotations/support-office/",
        "/oncall/rotations/support-office/schedule/",
        "/oncall/fairness/",
        "/alerts/",
        "/alerts/reports/",
        "/alerts/paging/",
        "/alerts/paging/ops/",
        "/",
        "/incidents/review-queue/",
        "/profile/",
    ]


def test_demo_incident_on_call_and_alerts_pages_have_no_sideways_scroll_on_a_phone(page, live_server, login):
    call_command("seed_demo", stdout=io.StringIO())
    page.set_viewport_size(PHONE)
    login("demo", "morgue-demo")

    too_wide = {}
    for path in _demo_pages():
        response = page.goto(f"{live_server.url}{path}")
        assert response is not None and response.ok, path
        width = page.evaluate("document.documentElement.scrollWidth")
        if width > PHONE["width"]:
            too_wide[path] = (width, page.evaluate(WIDEST))

    assert too_wide == {}
