import datetime as dt
import secrets
from zoneinfo import ZoneInfo

from django.conf import settings
from django.db import models

from .sleep import is_asleep
from .timezones import zone
from .validators import validate_time_zone


def new_calendar_token() -> str:
    return secrets.token_urlsafe(24)


# Callables, not fixed times: Django's check for fixed date and time defaults
# (fields.W161) would otherwise fire whenever it runs near these hours.
def default_sleep_start() -> dt.time:
    return dt.time(22, 0)


def default_sleep_end() -> dt.time:
    return dt.time(7, 0)


class ProfileQuerySet(models.QuerySet):
    def for_user(self, user) -> "Profile":
        """The person's profile, made with defaults the first time it is asked for.

        Accounts made by `createsuperuser` or the admin have no profile until
        then; creating it lazily keeps that path free of signals.
        """
        profile, _ = self.get_or_create(user=user)
        return profile


class Profile(models.Model):
    user = models.OneToOneField(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="profile")
    display_name = models.CharField(max_length=150, blank=True)
    time_zone = models.CharField(max_length=64, default="UTC", validators=[validate_time_zone])
    sleep_start = models.TimeField(default=default_sleep_start, help_text="Local time sleep starts.")
    sleep_end = models.TimeField(default=default_sleep_end, help_text="Local time sleep ends.")
    calendar_token = models.CharField(max_length=64, unique=True, default=new_calendar_token)

    objects = ProfileQuerySet.as_manager()

    class Meta:
        ordering = ["user__username"]

    def __str__(self) -> str:
        return self.name

    @property
    def name(self) -> str:
        return self.display_name or self.user.get_full_name() or self.user.username

    @property
    def zone(self) -> ZoneInfo:
        return zone(self.time_zone)

    def is_asleep_at(self, instant: dt.datetime) -> bool:
        """Whether an instant falls inside this person's sleep hours, on their wall clock."""
        return is_asleep(instant, self.zone, self.sleep_start, self.sleep_end)

    def reset_calendar_token(self) -> str:
        self.calendar_token = new_calendar_token()
        self.save(update_fields=["calendar_token"])
        return self.calendar_token


def name_from_columns(username: str, first_name: str, last_name: str, profile_name: str | None) -> str:
    """Profile.name from columns a raw query read: the display name, else the full name, else the username."""
    return profile_name or f"{first_name} {last_name}".strip() or username


def display_name(user) -> str:
    """A person's name for display, without a query when the profile is loaded."""
    try:
        profile = user.profile
    except Profile.DoesNotExist:
        return user.get_full_name() or user.username
    return profile.name
