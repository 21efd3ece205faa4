import datetime as dt
import importlib

import pytest
from django.apps import apps
from django.utils import timezone

from tests.factories import AlertFactory, AlertShiftFactory, ProfileFactory, TeamFactory, UserFactory

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


@pytest.fixture(autouse=True)
def default_categories(transactional_db):
    """The categories a migration seeds; an earlier transactional test's flush takes them away."""
    importlib.import_module("alerts_review.migrations.0002_default_categories").seed(apps, None)


def test_classifying_a_shifts_alerts_changes_the_monthly_report(page, live_server, login):
    person = ProfileFactory(user=UserFactory(username="nina")).user
    ops = TeamFactory(slug="ops", name="Ops")
    ops.members.add(person)
    now = timezone.now()
    AlertShiftFactory(
        rotation__team=ops,
        user=person,
        starts_at=now - dt.timedelta(days=2),
        ends_at=now + dt.timedelta(days=1),
    )
    fired = [now - dt.timedelta(seconds=seconds) for seconds in (10, 20, 30)]
    AlertFactory(team=ops, paged=person, check_name="DiskSpaceLow", fired_at=fired[0])
    AlertFactory(team=ops, paged=person, check_name="DiskSpaceLow", fired_at=fired[1])
    load = AlertFactory(team=ops, paged=person, check_name="HighLoad", fired_at=fired[2])
    month = f"{fired[2]:%Y-%m}"  # the UTC month the report counts them in

    login("nina")
    page.goto(f"{live_server.url}/alerts/")
    assert "0 of 3 classified" in page.inner_text("#progress")

    page.locator('section[data-check="DiskSpaceLow"] form.apply-all button[value="threshold"]').click()
    page.wait_for_selector("text=2 alerts of DiskSpaceLow are now threshold.")
    assert "2 of 3 classified" in page.inner_text("#progress")

    page.locator(f'#alert-{load.pk} button[value="issue"]').click()
    page.wait_for_selector("#progress >> text=3 of 3 classified")

    page.goto(f"{live_server.url}/alerts/reports/{month}/?team=ops")
    signal = page.inner_text("#figure-signal")
    assert "1 actionable, 2 not" in signal
    assert "33%" in signal
    assert "DiskSpaceLow" in page.inner_text("#by-check")

    # Reclassify and see the report follow.
    page.goto(f"{live_server.url}/alerts/")
    page.locator('section[data-check="DiskSpaceLow"] form.apply-all button[value="issue"]').click()
    page.wait_for_selector("text=2 alerts of DiskSpaceLow are now issue.")
    page.goto(f"{live_server.url}/alerts/reports/{month}/?team=ops")
    assert "3 actionable, 0 not" in page.inner_text("#figure-signal")
