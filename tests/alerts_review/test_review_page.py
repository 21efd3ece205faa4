import datetime as dt
import re

import pytest
import time_machine
from django.db import connection
from django.test.utils import CaptureQueriesContext

from alerts_review.models import Alert
from alerts_review.selectors import REVIEW_PAGE_SIZE
from tests.factories import AlertFactory, AlertShiftFactory, TeamFactory, category

pytestmark = pytest.mark.django_db

UTC = dt.UTC
NOW = dt.datetime(2026, 10, 5, 12, tzinfo=UTC)


@pytest.fixture
def shift(person):
    ops = TeamFactory(slug="ops", name="Ops")
    ops.members.add(person)
    AlertShiftFactory(
        rotation__team=ops,
        user=person,
        starts_at=dt.datetime(2026, 9, 20, 10, tzinfo=UTC),
        ends_at=dt.datetime(2026, 9, 23, 10, tzinfo=UTC),
    )
    return AlertShiftFactory(
        rotation__team=ops,
        user=person,
        starts_at=dt.datetime(2026, 10, 1, 10, tzinfo=UTC),
        ends_at=dt.datetime(2026, 10, 4, 10, tzinfo=UTC),
    )


@pytest.fixture
def alerts(shift):
    team = shift.rotation.team
    made = [
        AlertFactory(team=team, check_name="Disk", fired_at=dt.datetime(2026, 10, 2, hour, tzinfo=UTC))
        for hour in (1, 2, 3)
    ]
    made.append(
        AlertFactory(
            team=team,
            check_name="Load",
            fired_at=dt.datetime(2026, 10, 3, 4, tzinfo=UTC),
            category=category("issue"),
        )
    )
    AlertFactory(team=team, check_name="Before", fired_at=dt.datetime(2026, 9, 30, tzinfo=UTC))
    AlertFactory(
        team=TeamFactory(slug="dev"), check_name="Theirs", fired_at=dt.datetime(2026, 10, 2, tzinfo=UTC)
    )
    return made


@time_machine.travel(NOW, tick=False)
def test_the_review_shows_the_last_shifts_alerts_grouped_by_check(
    browser_client, alerts, django_assert_max_num_queries
):
    with django_assert_max_num_queries(12):
        response = browser_client.get("/alerts/")
    page = response.content.decode()
    assert "1 of 4 classified" in page
    assert page.index('data-check="Load"') < page.index('data-check="Disk"')  # newest first
    assert "Before" not in page and "Theirs" not in page
    assert "Apply to all 3 alerts of this check in this shift" in page


@time_machine.travel(NOW, tick=False)
def test_one_click_classifies_an_alert(browser_client, alerts):
    alert = alerts[0]
    response = browser_client.post(
        f"/alerts/{alert.pk}/classify/",
        {"category": "threshold", "note": "flappy", "woke_me_up": "on", "next": "/alerts/"},
    )
    assert response.status_code == 302 and response.url == f"/alerts/#alert-{alert.pk}"
    alert.refresh_from_db()
    assert (alert.category.slug, alert.note, alert.woke_me_up) == ("threshold", "flappy", True)
    assert "2 of 4 classified" in browser_client.get("/alerts/").content.decode()


@pytest.mark.parametrize("elsewhere", ["//evil.example/alerts/", "https://evil.example/alerts/", "/admin/"])
@time_machine.travel(NOW, tick=False)
def test_classifying_returns_only_to_the_alerts_pages(browser_client, alerts, elsewhere):
    alert = alerts[0]

    response = browser_client.post(f"/alerts/{alert.pk}/classify/", {"category": "issue", "next": elsewhere})

    assert response.status_code == 302 and response.url == f"/alerts/#alert-{alert.pk}"


@time_machine.travel(dt.datetime(2026, 10, 2, 2, 30, tzinfo=UTC), tick=False)
def test_the_review_of_a_shift_still_running_shows_the_alerts_so_far(browser_client, alerts):
    # The Disk alerts fired at 01:00, 02:00 and 03:00: the last is after "now".
    page = browser_client.get("/alerts/").content.decode()

    assert "0 of 2 classified" in page


@time_machine.travel(NOW, tick=False)
def test_apply_to_all_classifies_every_alert_of_the_check_in_the_shift(browser_client, alerts, shift):
    response = browser_client.post(
        f"/alerts/shifts/{shift.pk}/classify-check/",
        {"check": "Disk", "category": "check-faulty"},
        follow=True,
    )
    assert "3 alerts of Disk are now check-faulty." in response.content.decode()
    assert Alert.objects.filter(category__slug="check-faulty").count() == 3
    assert Alert.objects.get(check_name="Before").category is None


@time_machine.travel(NOW, tick=False)
def test_an_unknown_category_is_reported_on_the_page(browser_client, alerts):
    response = browser_client.post(f"/alerts/{alerts[0].pk}/classify/", {"category": "meh"}, follow=True)
    assert "meh is not a category" in response.content.decode()


@time_machine.travel(NOW, tick=False)
def test_someone_elses_shift_cannot_be_classified_by_an_outsider(client, alerts, shift):
    from tests.factories import ProfileFactory, UserFactory

    client.force_login(ProfileFactory(user=UserFactory(username="outsider")).user)
    url = f"/alerts/shifts/{shift.pk}/classify-check/"
    response = client.post(url, {"check": "Disk", "category": "issue"})
    assert response.status_code == 403
    assert "or the person on the shift, may classify the alerts of its shifts." in response.content.decode()
    assert not Alert.objects.filter(category__slug="issue", check_name="Disk").exists()


@time_machine.travel(NOW, tick=False)
def test_someone_without_shifts_is_told_so(browser_client):
    assert "You have had no on-call shift yet" in browser_client.get("/alerts/").content.decode()


@time_machine.travel(NOW, tick=False)
def test_the_earlier_shift_is_linked(browser_client, alerts, shift):
    page = browser_client.get("/alerts/").content.decode()
    assert "Earlier shift" in page


def make_noisy_shift(shift, count: int) -> list[Alert]:
    """A shift's worth of alerts at the longest sizes a sender may send, over many checks."""
    start = shift.starts_at
    return Alert.objects.bulk_create(
        [
            Alert(
                source="generic",
                identity=f"noisy-{n}",
                check_name=f"Check {n % 300:03d} " + "x" * 180,
                host="h" * 255,
                state="CRITICAL",
                summary="s" * 2000,
                team=shift.rotation.team,
                fired_at=start + dt.timedelta(seconds=97 * n),
                out_of_hours=n % 2 == 0,
            )
            for n in range(count)
        ]
    )


@time_machine.travel(NOW, tick=False)
def test_a_noisy_shift_is_shown_a_page_at_a_time_under_300_kb(browser_client, shift):
    alerts = make_noisy_shift(shift, 1200)
    seen: list[str] = []
    url = "/alerts/"
    pages = 0
    while url:
        response = browser_client.get(url)
        assert response.status_code == 200
        assert len(response.content) < 300_000, (url, len(response.content))
        page = response.content.decode()
        seen += re.findall(r'<tr id="alert-(\d+)"', page)
        assert "of 1200 classified" in page
        older = re.search(r'href="(\?page=\d+)" rel="next"', page)
        url = f"/alerts/{older.group(1)}" if older else None
        pages += 1
    assert pages == 1200 // REVIEW_PAGE_SIZE
    newest_first = sorted(alerts, key=lambda alert: (alert.fired_at, alert.pk), reverse=True)
    assert seen == [str(alert.pk) for alert in newest_first]


@time_machine.travel(NOW, tick=False)
def test_the_review_page_costs_the_same_queries_however_noisy_the_shift(
    browser_client, shift, django_assert_num_queries
):
    make_noisy_shift(shift, 60)
    with CaptureQueriesContext(connection) as few:
        browser_client.get("/alerts/?page=2")
    Alert.objects.all().delete()
    make_noisy_shift(shift, 900)
    with django_assert_num_queries(len(few)):
        browser_client.get("/alerts/?page=2")


@time_machine.travel(NOW, tick=False)
def test_a_check_split_across_pages_shows_its_whole_shifts_counts(browser_client, shift):
    make_noisy_shift(shift, 600)  # 300 checks, two alerts each, far apart in time
    page = browser_client.get("/alerts/").content.decode()
    assert "Apply to all 2 alerts of this check in this shift" in page
    assert "0 of 2 classified" in page


@time_machine.travel(NOW, tick=False)
def test_classifying_on_a_later_page_returns_to_that_page(browser_client, shift):
    alerts = make_noisy_shift(shift, 120)
    response = browser_client.post(
        f"/alerts/{alerts[0].pk}/classify/", {"category": "issue", "next": "/alerts/?page=3"}
    )
    assert response.url == f"/alerts/?page=3#alert-{alerts[0].pk}"


@time_machine.travel(NOW, tick=False)
@pytest.mark.parametrize("page", ["0", "99", "last", "-1"])
def test_a_page_out_of_range_shows_a_page_rather_than_an_error(browser_client, shift, page):
    make_noisy_shift(shift, 120)
    response = browser_client.get(f"/alerts/?page={page}")
    assert response.status_code == 200
    assert response.content.decode().count('<tr id="alert-') >= 1
