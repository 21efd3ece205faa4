from alerts_review import demo as alerts_demo
from alerts_review.models import Alert
from incidents.models import RemediationItem
from morgue.models import Team


def test_the_demo_has_three_months_of_alerts_mostly_classified_and_knows_who_was_paged(demo):
    count = Alert.objects.count()
    assert 3000 < count < 5000
    assert Alert.objects.filter(category__isnull=False).count() > count * 0.7
    assert Alert.objects.filter(category__isnull=True).exists()
    assert Alert.objects.filter(team__slug="ops", paged__isnull=False).exists()


def test_demo_alerts_stored_before_the_on_call_demo_learn_who_was_paged_when_seeded_again(demo):
    ops = Team.objects.get(slug="ops")
    latest = Alert.objects.filter(team=ops).latest("fired_at")
    paged = latest.paged
    assert paged is not None
    Alert.objects.filter(pk=latest.pk).update(paged=None)  # as if seeded before there were shifts
    count = Alert.objects.count()

    alerts_demo.seed()

    assert Alert.objects.count() == count
    latest.refresh_from_db()
    assert latest.paged == paged


def test_the_demo_turns_last_months_top_recommendations_into_remediation_items_once(demo):
    items = RemediationItem.objects.filter(incident__isnull=True)
    count = items.count()
    assert count >= 2
    assert all(item.review_action.review.team.members.filter(pk=item.owner_id).exists() for item in items)

    alerts_demo.seed()

    assert items.count() == count


def test_the_demo_pages_from_its_alerts_with_a_policy_per_team_a_window_and_a_paused_watchdog(demo):
    from alerts_review.models import Heartbeat, MaintenanceWindow, PagingDecision, PagingPolicy
    from oncall.models import PageStatus

    assert PagingPolicy.objects.count() == Team.objects.filter(alerts__isnull=False).distinct().count()
    window = MaintenanceWindow.objects.get()
    held = Alert.objects.filter(paging=PagingDecision.MAINTENANCE)
    assert held.exists() and all(window.covers(check=a.check_name, at=a.fired_at) for a in held)
    assert not Alert.objects.filter(paging=PagingDecision.UNDECIDED).exists()
    assert Heartbeat.objects.get(check_name="Watchdog").is_active is False
    paged = Alert.objects.filter(page__isnull=False).select_related("page")
    assert paged.count() == 3
    assert all(
        alert.page.status == PageStatus.RESOLVED and alert.page.resolution_notified_at for alert in paged
    )

    alerts_demo.seed()  # idempotent

    assert MaintenanceWindow.objects.count() == 1 and paged.count() == 3
