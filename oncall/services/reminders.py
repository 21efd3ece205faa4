"""Reminding each person of a shift shortly before it starts, by email, once."""

import datetime as dt
import functools
import logging
from typing import Any

from django.conf import settings
from django.urls import reverse
from django.utils import timezone

from morgue.emails import send_email
from morgue.models import DEFAULT_SHIFT_REMINDER_MINUTES, MAX_SHIFT_REMINDER_MINUTES, Profile
from morgue.timezones import zone

from ..models import Shift

logger = logging.getLogger(__name__)

REMINDER_EMAIL = "oncall-shift-reminder"


def _profile(shift: Shift) -> Profile | None:
    # Accounts made by createsuperuser or the admin may have no profile yet: the defaults hold.
    return getattr(shift.user, "profile", None)


def _lead_minutes(shift: Shift) -> int:
    profile = _profile(shift)
    return profile.shift_reminder_minutes if profile else DEFAULT_SHIFT_REMINDER_MINUTES


def send_shift_reminders() -> int:
    """Email everyone whose shift starts within their reminder lead time; each shift once.

    Overrides are shifts too (their pieces are in the shift table). A shift
    that has started already gets no reminder: a late sweep stays quiet
    rather than telling someone what they are already doing. Times are UTC
    instants, so the lead is the same length across a DST change.
    """
    now = timezone.now()
    horizon = now + dt.timedelta(minutes=MAX_SHIFT_REMINDER_MINUTES)
    shifts = (
        Shift.objects.filter(starts_at__gt=now, starts_at__lte=horizon)
        .exclude(user__email="")
        .filter(user__is_active=True)
        .select_related("rotation__team", "user__profile")
        .order_by("starts_at", "id")
    )
    sent = 0
    for shift in shifts:
        lead = _lead_minutes(shift)
        if lead <= 0 or shift.starts_at - dt.timedelta(minutes=lead) > now:
            continue
        try:
            delivery = send_email(
                name=REMINDER_EMAIL,
                key=str(shift.pk),
                recipient=str(shift.user_id),
                to=[shift.user.email],
                context=functools.partial(_context, shift),
            )
        except Exception:
            # One bad address must not keep everyone else unreminded; the next sweep tries again.
            logger.exception("The reminder of shift %s could not be sent", shift.pk)
            continue
        sent += delivery is not None
    return sent


def _context(shift: Shift) -> dict[str, Any]:
    profile = _profile(shift)
    return {
        "shift": shift,
        "zone": profile.zone if profile else zone("UTC"),
        "name": profile.name if profile else shift.user.username,
        "link": settings.MORGUE_BASE_URL + reverse("oncall:rotation", args=[shift.rotation.slug]),
    }
