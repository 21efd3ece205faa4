import datetime as dt

import pytest

from alerts_review import demo
from alerts_review.models import Alert
from morgue import demo as people_demo
from morgue.models import Team
from tests.factories import AlertShiftFactory

pytestmark = pytest.mark.django_db


def test_the_demo_adds_three_months_of_alerts_once_and_learns_who_was_paged_later():
    people_demo.seed()
    demo.seed()
    count = Alert.objects.count()
    assert 3000 < count < 5000
    assert Alert.objects.filter(category__isnull=False).count() > count * 0.7
    assert Alert.objects.filter(category__isnull=True).exists()

    # The on-call demo's shifts appear (seeded before this module on the next run).
    ops = Team.objects.get(slug="ops")
    latest = Alert.objects.filter(team=ops).latest("fired_at")
    shift = AlertShiftFactory(
        rotation__team=ops,
        user=ops.members.first(),
        starts_at=latest.fired_at - dt.timedelta(days=2),
        ends_at=latest.fired_at + dt.timedelta(hours=1),
    )
    demo.seed()
    assert Alert.objects.count() == count
    latest.refresh_from_db()
    assert latest.paged == shift.user


def test_the_demo_turns_last_months_top_recommendations_into_remediation_items_once():
    from incidents.models import RemediationItem

    people_demo.seed()
    demo.seed()
    items = RemediationItem.objects.filter(incident__isnull=True)
    count = items.count()
    assert count >= 2
    assert all(item.review_action.review.team.members.filter(pk=item.owner_id).exists() for item in items)

    demo.seed()
    assert items.count() == count
