"""'Your open pages' on / and /oncall/, and what a page's detail offers once it ran out or resolved."""

import datetime as dt

import pytest
import time_machine
from django.contrib.messages import get_messages

from oncall import selectors, services
from oncall.exceptions import PageClosed
from oncall.models import Level, Page, PageStatus, PageStep
from oncall.services.notifications import acknowledge_token
from tests.factories import IncidentFactory, TeamFactory, UserFactory

pytestmark = pytest.mark.django_db
NOW = dt.datetime(2026, 7, 14, 2, 5, tzinfo=dt.UTC)  # 03:05 in London, summer time


def reaching(
    person, *, team=None, status=PageStatus.OPEN, message="Checkout is down", minutes_ago=10, **fields
):
    """A page whose first step named `person`."""
    team = team or TeamFactory(name="Payments", slug="payments")
    created = NOW - dt.timedelta(minutes=minutes_ago)
    page = Page.objects.create(team=team, message=message, status=status, created_at=created, **fields)
    PageStep.objects.create(
        page=page, number=1, team=team, level=Level.L1, user=person, due_at=created, notified_at=created
    )
    return page


def test_open_pages_are_the_unresolved_ones_that_reached_the_person_newest_first(person):
    older = reaching(person, minutes_ago=30)
    acknowledged = reaching(person, status=PageStatus.ACKNOWLEDGED, acknowledged_by=person, minutes_ago=20)
    exhausted = reaching(person, status=PageStatus.EXHAUSTED, minutes_ago=15)
    reaching(person, status=PageStatus.RESOLVED, minutes_ago=5)
    reaching(UserFactory(), minutes_ago=1)  # someone else's

    assert selectors.open_pages_for(user=person) == [exhausted, acknowledged, older]


def test_home_and_on_call_show_your_open_pages_with_acknowledge_only_while_open(browser_client, person):
    waiting = reaching(person, message="Card auths failing")
    reaching(person, status=PageStatus.ACKNOWLEDGED, acknowledged_by=person, message="Queue backing up")

    for address in ("/", "/oncall/"):
        with time_machine.travel(NOW):
            html = browser_client.get(address).content.decode()
        panel = html[html.index("Your open pages") : html.index("</section>", html.index("Your open pages"))]
        assert "Card auths failing" in panel and "Queue backing up" in panel and "Payments" in panel
        assert "10\xa0minutes ago" in panel
        # One Acknowledge button: the acknowledged page has none.
        assert panel.count('value="acknowledge"') == 1
        assert f'action="/oncall/pages/{waiting.pk}/"' in panel


def test_your_open_pages_is_absent_when_none_reached_you(browser_client, person):
    reaching(person, status=PageStatus.RESOLVED)
    reaching(UserFactory())

    for address in ("/", "/oncall/"):
        assert "Your open pages" not in browser_client.get(address).content.decode()


def test_your_open_pages_cost_one_query_however_many(browser_client, person, django_assert_max_num_queries):
    team = TeamFactory()
    reaching(person, team=team)
    for address in ("/", "/oncall/"):
        browser_client.get(address)
    counts = {}
    for address in ("/", "/oncall/"):
        with django_assert_max_num_queries(30) as captured:
            browser_client.get(address)
        counts[address] = len(captured)
    for index in range(8):
        reaching(person, team=TeamFactory(), minutes_ago=index)
    for address in ("/", "/oncall/"):
        with django_assert_max_num_queries(counts[address]):
            assert browser_client.get(address).content.decode().count('class="open-page"') == 9


def test_page_detail_shows_times_in_the_viewers_zone_and_the_incident(browser_client, person):
    person.profile.time_zone = "Europe/London"
    person.profile.save(update_fields=["time_zone"])
    incident = IncidentFactory(title="Card auths failing at the acquirer")
    page = reaching(
        person,
        status=PageStatus.ACKNOWLEDGED,
        acknowledged_by=person,
        acknowledged_at=NOW - dt.timedelta(minutes=4),
        incident=incident,
    )

    html = browser_client.get(f"/oncall/pages/{page.pk}/").content.decode()

    # The person's zone is Europe/London: 01:55 UTC is 02:55 BST.
    assert "Tue 14 Jul 2026, 02:55 BST" in html and "Tue 14 Jul 2026, 03:01 BST" in html
    assert "Times in Europe/London" in html
    assert f'<a href="{incident.get_absolute_url()}">Card auths failing at the acquirer</a>' in html
    assert 'value="acknowledge"' not in html and 'value="resolve"' in html


@pytest.mark.parametrize("status", [PageStatus.EXHAUSTED, PageStatus.RESOLVED])
def test_a_page_that_ran_out_or_resolved_offers_no_acknowledge_and_refuses_one(
    browser_client, person, status
):
    page = reaching(person, status=status)

    html = browser_client.get(f"/oncall/pages/{page.pk}/").content.decode()
    assert 'value="acknowledge"' not in html

    response = browser_client.post(f"/oncall/pages/{page.pk}/", {"action": "acknowledge"})
    assert response.status_code == 302
    page.refresh_from_db()
    assert page.status == status and page.acknowledged_by is None
    (message,) = [str(message) for message in get_messages(response.wsgi_request)]
    assert "can no longer be acknowledged" in message or "nothing left to acknowledge" in message


def test_acknowledging_an_exhausted_page_is_refused_by_the_service_and_the_api(person, api):
    page = reaching(person, status=PageStatus.EXHAUSTED)
    with pytest.raises(PageClosed):
        services.acknowledge_page(page=page, user=person)

    response = api.post(f"/api/v1/pages/{page.pk}/acknowledge/", {}, format="json")
    assert response.status_code == 409
    assert "can no longer be acknowledged" in str(response.json())


def test_acknowledging_an_open_page_twice_changes_nothing(person):
    page = reaching(person)
    first = services.acknowledge_page(page=page, user=person, silence=False, now=NOW)
    again = services.acknowledge_page(
        page=page, user=UserFactory(), silence=False, now=NOW + dt.timedelta(hours=1)
    )
    assert first.status == again.status == PageStatus.ACKNOWLEDGED
    assert again.acknowledged_by == person and again.acknowledged_at == NOW


def test_the_one_tap_link_of_a_page_that_ran_out_explains_instead_of_acknowledging(client, person):
    page = reaching(person, status=PageStatus.EXHAUSTED)
    address = f"/oncall/ack/{acknowledge_token(page=page, user=person)}/"

    assert 'type="submit"' not in client.get(address).content.decode()
    html = client.post(address).content.decode()

    assert "can no longer be acknowledged" in html
    page.refresh_from_db()
    assert page.status == PageStatus.EXHAUSTED and page.acknowledged_by is None
