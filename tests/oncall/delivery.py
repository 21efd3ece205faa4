"""What a worker does with notifications in tests: send each one due, as its task would."""

import contextlib
import datetime as dt

from django.utils import timezone

from oncall.models import Notification, NotificationStatus
from oncall.services import notifications


def deliver(now: dt.datetime | None = None) -> list[Notification]:
    """Run the send task of every notification due by `now` once; a failed send stays for its retry."""
    now = now or timezone.now()
    due = Notification.objects.filter(
        status__in=[NotificationStatus.PENDING, NotificationStatus.RETRYING], due_at__lte=now
    ).values_list("pk", flat=True)
    for notification_id in list(due):
        with contextlib.suppress(notifications.RetryLater):
            notifications.send_notification(notification_id=notification_id, now=now)
    return list(Notification.objects.order_by("pk"))
