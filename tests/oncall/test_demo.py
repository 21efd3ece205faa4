import datetime as dt

import time_machine
from django.core import mail
from django.utils import timezone

from alerts_review import tasks as alerts_tasks
from incidents.tasks.review import sweep_review_invitations
from morgue.models import EmailDelivery
from oncall import tasks
from oncall.models import (
    ContactMethod,
    Notification,
    NotificationRule,
    Override,
    Page,
    PageStatus,
    PageStep,
    Rotation,
    Shift,
)


def test_demo_has_five_rotations_a_year_of_history_overrides_and_pages_in_each_settled_state(demo):
    assert set(Rotation.objects.values_list("slug", flat=True)) == {
        "ops-weekly",
        "dev",
        "payments",
        "support",
        "support-office",
    }
    dev = Rotation.objects.get(slug="dev")
    assert dev.everyone_else and dev.shift_length_days == 3 and dev.has_l2
    assert dev.members.count() >= 10
    assert Override.objects.count() >= 3
    assert set(Page.objects.values_list("status", flat=True)) == {
        PageStatus.ACKNOWLEDGED,
        PageStatus.EXHAUSTED,
        PageStatus.RESOLVED,  # opened by demo alerts, resolved with them
    }
    # One page climbed the ladder before someone answered it.
    assert Page.objects.filter(status=PageStatus.ACKNOWLEDGED, steps__number=2).exists()
    oldest = Shift.objects.order_by("starts_at").first().starts_at
    newest = Shift.objects.order_by("-ends_at").first().ends_at
    assert (newest - oldest).days >= 365 + 180


def test_nothing_in_the_demo_pages_or_emails_anyone_an_hour_after_it_is_seeded(demo):
    mail.outbox.clear()
    deliveries, steps = EmailDelivery.objects.count(), PageStep.objects.count()

    with time_machine.travel(timezone.now() + dt.timedelta(hours=1)):
        # What the beat and the worker would run by then: the sweep, and every
        # page step's own notify and escalate tasks (enqueued when it was seeded).
        tasks.sweep_pages()
        tasks.sweep_notifications()
        assert tasks.send_shift_reminders() == 0
        for step_id, page_id, number in PageStep.objects.values_list("pk", "page_id", "number"):
            tasks.notify_page_step(step_id)
            tasks.escalate_page_step(page_id, number)
        # Paging from alerts: lost decisions, silent heartbeats, resolution notices.
        assert alerts_tasks.sweep_paging() == 0
        for page_id in Page.objects.values_list("pk", flat=True):
            tasks.notify_page_resolved(page_id)
        invitations = sweep_review_invitations()

    assert invitations == 0
    assert not Notification.objects.exists()
    assert ContactMethod.objects.exists() and NotificationRule.objects.exists()
    assert mail.outbox == []
    assert EmailDelivery.objects.count() == deliveries
    assert PageStep.objects.count() == steps
    assert not Page.objects.filter(status=PageStatus.OPEN).exists()


def test_support_follows_the_sun_under_an_office_hours_layer(demo):
    follow_the_sun = Rotation.objects.get(slug="support")
    office = Rotation.objects.get(slug="support-office")
    assert follow_the_sun.shift_length_hours == 12 and office.restrictions
    assert office.layer > follow_the_sun.layer
    berlin = office.zone
    for piece in office.shifts.all()[:20]:
        start, end = piece.starts_at.astimezone(berlin), piece.ends_at.astimezone(berlin)
        assert start.weekday() < 5 and start.hour == 9 and end.hour == 17
    # Where the office layer has someone, the follow-the-sun layer is masked.
    piece = office.shifts.filter(starts_at__gt=timezone.now()).first()
    assert not Shift.objects.covering(piece.starts_at).filter(rotation=follow_the_sun).exists()
    assert Shift.all_pieces.covering(piece.starts_at).filter(rotation=follow_the_sun, masked=True).exists()
