"""Workflows about people."""

import datetime as dt

from django.contrib.auth import get_user_model
from django.contrib.auth.models import Group
from django.db import transaction

from . import audit
from .models import Profile

ENGINEERS_GROUP = "engineers"


@transaction.atomic
def create_person(
    *,
    username: str,
    email: str = "",
    display_name: str = "",
    time_zone: str = "UTC",
    first_name: str = "",
    last_name: str = "",
    is_staff: bool = False,
    engineer: bool = True,
    password: str | None = None,
) -> Profile:
    """Create a person with their profile; engineers join the `engineers` group."""
    user = get_user_model().objects.create_user(
        username=username,
        email=email,
        password=password,
        first_name=first_name,
        last_name=last_name,
        is_staff=is_staff,
    )
    if engineer:
        group, _ = Group.objects.get_or_create(name=ENGINEERS_GROUP)
        user.groups.add(group)
    profile = Profile.objects.create(user=user, display_name=display_name, time_zone=time_zone)
    audit.record_created(user, extra={"groups": [ENGINEERS_GROUP] if engineer else []})
    return profile


# What the audit trail shows of a person's own settings.
PROFILE_FIELDS = ("display_name", "time_zone", "sleep_start", "sleep_end", "shift_reminder_minutes")


@transaction.atomic
def update_profile(
    *,
    profile: Profile,
    email: str | None = None,
    display_name: str | None = None,
    time_zone: str | None = None,
    sleep_start: dt.time | None = None,
    sleep_end: dt.time | None = None,
    shift_reminder_minutes: int | None = None,
) -> Profile:
    """Change what a person may change about themselves."""
    before = {"email": profile.user.email, **audit.values(profile, PROFILE_FIELDS)}
    if email is not None and email != profile.user.email:
        profile.user.email = email
        profile.user.save(update_fields=["email"])
    for field, value in (
        ("display_name", display_name),
        ("time_zone", time_zone),
        ("sleep_start", sleep_start),
        ("sleep_end", sleep_end),
        ("shift_reminder_minutes", shift_reminder_minutes),
    ):
        if value is not None:
            setattr(profile, field, value)
    profile.full_clean()
    profile.save()
    audit.record_changes(
        profile, before=before, after={"email": profile.user.email, **audit.values(profile, PROFILE_FIELDS)}
    )
    return profile


@transaction.atomic
def reset_calendar_token(*, profile: Profile) -> str:
    """Give a person a new calendar-feed address; the old one stops working."""
    before = audit.values(profile, ["calendar_token"])
    token = profile.reset_calendar_token()
    audit.record(
        audit.Action.TOKEN_RESET,
        profile,
        changes=audit.diff(before, audit.values(profile, ["calendar_token"])),
        labels={"calendar_token": "Calendar feed token"},
    )
    return token
