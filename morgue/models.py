import datetime as dt
from typing import Self
from zoneinfo import ZoneInfo

from django.conf import settings
from django.core.exceptions import ObjectDoesNotExist
from django.core.validators import MaxValueValidator
from django.db import models
from django.utils import timezone

from . import tokens
from .sleep import is_asleep
from .timezones import zone
from .validators import validate_time_zone


def new_calendar_token() -> str:
    """The feed token's old default, named by migration 0001; tokens are now made by morgue.tokens."""
    return tokens.new_token()


# Callables, not fixed times: Django's check for fixed date and time defaults
# (fields.W161) would otherwise fire whenever it runs near these hours.
def default_sleep_start() -> dt.time:
    return dt.time(22, 0)


def default_sleep_end() -> dt.time:
    return dt.time(7, 0)


class ProfileQuerySet(models.QuerySet["Profile"]):
    def for_user(self, user) -> "Profile":
        """The person's profile, made with defaults the first time it is asked for.

        Accounts made by `createsuperuser` or the admin have no profile until
        then; creating it lazily keeps that path free of signals.
        """
        try:
            return user.profile  # loaded once per request and kept on the user
        except ObjectDoesNotExist:
            pass
        profile, _ = self.get_or_create(user=user)
        user.profile = profile
        return profile


# How long before a shift starts its holder is reminded (Profile.shift_reminder_minutes).
DEFAULT_SHIFT_REMINDER_MINUTES = 60
MAX_SHIFT_REMINDER_MINUTES = 24 * 60


class Profile(models.Model):
    user = models.OneToOneField(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="profile")
    display_name = models.CharField(max_length=150, blank=True)
    time_zone = models.CharField(max_length=64, default="UTC", validators=[validate_time_zone])
    sleep_start = models.TimeField(default=default_sleep_start, help_text="Local time sleep starts.")
    sleep_end = models.TimeField(default=default_sleep_end, help_text="Local time sleep ends.")
    # The feed token itself is shown once, when made (reset_calendar_token); only these are kept.
    calendar_token_prefix = models.CharField(max_length=tokens.PREFIX_LENGTH, blank=True, db_index=True)
    calendar_token_hash = models.CharField(max_length=tokens.HASH_LENGTH, blank=True)
    shift_reminder_minutes = models.PositiveIntegerField(
        default=DEFAULT_SHIFT_REMINDER_MINUTES,
        validators=[MaxValueValidator(MAX_SHIFT_REMINDER_MINUTES)],
        help_text="Minutes before a shift starts to be reminded of it by email; 0 for no reminders.",
    )

    objects = ProfileQuerySet.as_manager()

    # The plain feed token, only on the instance that made it (reset_calendar_token).
    calendar_token: str | None = None

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

    @property
    def has_calendar_token(self) -> bool:
        return bool(self.calendar_token_hash)

    def reset_calendar_token(self) -> str:
        """A new feed token, returned once; the old one stops working."""
        token = tokens.new_token()
        self.calendar_token_prefix = tokens.prefix_of(token)
        self.calendar_token_hash = tokens.hash_token(token)
        self.save(update_fields=["calendar_token_prefix", "calendar_token_hash"])
        self.calendar_token = token
        return token

    @classmethod
    def for_calendar_token(cls, token: str | None) -> "Profile | None":
        """The active person whose feed token this is, or None."""
        if not token:
            return None
        candidates = cls.objects.select_related("user").filter(
            calendar_token_prefix=tokens.prefix_of(token), user__is_active=True
        )
        return tokens.first_match(candidates, token, hash_of=lambda profile: profile.calendar_token_hash)


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


# --- API tokens ---------------------------------------------------------------------


class TokenScope(models.TextChoices):
    READ = "read", "Read only"
    WRITE = "write", "Read and write"


class ApiTokenQuerySet(models.QuerySet["ApiToken"]):
    def usable(self, at: dt.datetime | None = None) -> Self:
        at = at or timezone.now()
        return self.filter(revoked_at__isnull=True).filter(
            models.Q(expires_at__isnull=True) | models.Q(expires_at__gt=at)
        )


class ApiToken(models.Model):
    """A person's key for scripts calling the API, stored as a prefix and a hash (see morgue.tokens)."""

    # last_used_at is written at most this often, so a busy script costs one UPDATE a minute.
    USE_RECORDED_EVERY = dt.timedelta(minutes=1)

    owner = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="api_tokens")
    name = models.CharField(max_length=100, help_text="What the token is for, e.g. the script using it.")
    scope = models.CharField(max_length=10, choices=TokenScope, default=TokenScope.READ)
    prefix = models.CharField(max_length=tokens.PREFIX_LENGTH, db_index=True)
    secret_hash = models.CharField(max_length=tokens.HASH_LENGTH)
    created_at = models.DateTimeField(default=timezone.now)
    expires_at = models.DateTimeField(null=True, blank=True, help_text="Empty: never (staff only).")
    last_used_at = models.DateTimeField(null=True, blank=True)
    revoked_at = models.DateTimeField(null=True, blank=True)

    objects = ApiTokenQuerySet.as_manager()

    # The plain token, only on the instance that made it (morgue.services.create_api_token).
    token: str | None = None

    class Meta:
        verbose_name = "API token"
        ordering = ["-created_at", "-id"]

    def __str__(self) -> str:
        return f"{self.name} ({self.prefix}…)"

    def is_expired(self, at: dt.datetime | None = None) -> bool:
        return self.expires_at is not None and self.expires_at <= (at or timezone.now())

    @property
    def can_write(self) -> bool:
        return self.scope == TokenScope.WRITE

    def status(self, at: dt.datetime | None = None) -> str:
        if self.revoked_at is not None:
            return "revoked"
        return "expired" if self.is_expired(at) else "active"

    def note_use(self, at: dt.datetime) -> None:
        """Remember when the token was last used, writing at most once a minute."""
        if self.last_used_at is not None and at - self.last_used_at < self.USE_RECORDED_EVERY:
            return
        # Conditional, so two requests in the same minute write once.
        ApiToken.objects.filter(pk=self.pk).filter(
            models.Q(last_used_at__isnull=True) | models.Q(last_used_at__lte=at - self.USE_RECORDED_EVERY)
        ).update(last_used_at=at)
        self.last_used_at = at

    @classmethod
    def for_token(cls, token: str) -> "ApiToken | None":
        """The token row (active or not) a presented token belongs to, or None."""
        candidates = cls.objects.select_related("owner").filter(prefix=tokens.prefix_of(token))
        return tokens.first_match(candidates, token, hash_of=lambda row: row.secret_hash)


OPS_SLUG = "ops"


class TeamQuerySet(models.QuerySet["Team"]):
    def pageable(self) -> Self:
        # Ops first: "If you're not sure who to page, page Ops911."
        return self.filter(pageable=True).order_by(
            models.Case(models.When(slug=OPS_SLUG, then=0), default=1), "name"
        )


class Team(models.Model):
    """A group of people who are paged together and own incidents, alerts and remediation items."""

    name = models.CharField(max_length=100, unique=True)
    slug = models.SlugField(max_length=50, unique=True)
    pageable = models.BooleanField(default=True, help_text="Listed in the page-any-team directory.")
    email = models.EmailField(blank=True, help_text="Where notifications for the team go.")
    webhook_url = models.URLField(blank=True)
    fallback_team = models.ForeignKey(
        "self",
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
        help_text="Paged when nobody on this team acknowledges; Ops when empty.",
    )
    members = models.ManyToManyField(
        settings.AUTH_USER_MODEL, blank=True, related_name="teams", through="TeamMembership"
    )

    objects = TeamQuerySet.as_manager()

    class Meta:
        # The table keeps the name it had when teams lived in the on-call app.
        db_table = "oncall_team"
        ordering = ["name"]

    def __str__(self) -> str:
        return self.name

    def escalation_team(self) -> "Team | None":
        """Who to page when this team does not answer: its fallback, else Ops (never itself)."""
        if self.fallback_team_id and self.fallback_team_id != self.pk:
            return self.fallback_team
        if self.slug == OPS_SLUG:
            return None
        return Team.objects.filter(slug=OPS_SLUG).first()


class Role(models.TextChoices):
    """A person's role in one team; what each may do is `morgue.permissions.RULES`."""

    VIEWER = "viewer", "Viewer"
    RESPONDER = "responder", "Responder"
    MANAGER = "manager", "Team manager"


class TeamMembership(models.Model):
    """A person in a team, with their role there. `team.members.add(user)` makes a responder."""

    team = models.ForeignKey(Team, on_delete=models.CASCADE, related_name="memberships")
    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="memberships")
    role = models.CharField(max_length=12, choices=Role, default=Role.RESPONDER)
    from_directory = models.BooleanField(
        default=False,
        help_text="Given by a directory group (MORGUE_GROUP_ROLES): set again, or removed, at each sign-in.",
    )

    class Meta:
        # The table Django made for `Team.members` before roles existed; its rows became responders.
        db_table = "oncall_team_members"
        unique_together = [("team", "user")]
        ordering = ["team__name", "user__username"]

    def __str__(self) -> str:
        return f"{display_name(self.user)} in {self.team} ({self.get_role_display()})"


# --- Email deliveries ------------------------------------------------------------------


class DeliveryStatus(models.TextChoices):
    SENDING = "sending", "Sending"
    SENT = "sent", "Sent"
    FAILED = "failed", "Failed"


class EmailDeliveryQuerySet(models.QuerySet["EmailDelivery"]):
    def of(self, *, name: str, key: str, recipient: str = "", sequence: int = 0) -> "EmailDeliveryQuerySet":
        return self.filter(name=name, key=key, recipient=recipient, sequence=sequence)

    def sent(self) -> "EmailDeliveryQuerySet":
        return self.filter(status=DeliveryStatus.SENT)


class EmailDelivery(models.Model):
    """One email that goes out once: claimed before it is sent (see morgue.emails)."""

    name = models.CharField(max_length=64, help_text="The email's templates: templates/emails/<name>-….")
    key = models.CharField(max_length=200, help_text="What the email is about, e.g. a meeting's id.")
    recipient = models.CharField(
        max_length=200,
        blank=True,
        help_text="Whose copy it is (a user id) when each person gets their own; empty for one message.",
    )
    sequence = models.PositiveIntegerField(
        default=0, help_text="A new sequence sends the email again, e.g. an updated invitation."
    )
    status = models.CharField(max_length=10, choices=DeliveryStatus, default=DeliveryStatus.SENDING)
    recipient_count = models.PositiveIntegerField(default=0, help_text="Addresses the message went to.")
    attempts = models.PositiveSmallIntegerField(default=1)
    claimed_at = models.DateTimeField()
    sent_at = models.DateTimeField(null=True, blank=True)
    error = models.CharField(max_length=200, blank=True, help_text="Why the last attempt failed.")

    objects = EmailDeliveryQuerySet.as_manager()

    class Meta:
        verbose_name_plural = "email deliveries"
        constraints = [
            models.UniqueConstraint(fields=["name", "key", "recipient", "sequence"], name="email_sent_once")
        ]

    def __str__(self) -> str:
        return f"{self.name} {self.key} (sequence {self.sequence})"


class Submission(models.Model):
    """A create form's one-time token, claimed by the first POST that carries it (see morgue.submissions).

    A second POST of the same form (a double click, or back and submit again)
    finds the token taken and is sent to what the first one made.
    """

    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="+")
    token = models.CharField(max_length=100, help_text="The form's name and a UUID made when it was shown.")
    result_url = models.CharField(max_length=500, blank=True, help_text="Where the first submission led.")
    created_at = models.DateTimeField(auto_now_add=True, db_index=True)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["user", "token"], name="submission_once_per_person")]

    def __str__(self) -> str:
        return self.token


class StoredFile(models.Model):
    """A file kept in the database (morgue.storage.DatabaseStorage): every host reads the same bytes."""

    name = models.CharField(max_length=300, unique=True)
    content = models.BinaryField()
    size = models.PositiveIntegerField()
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        verbose_name = "stored file"

    def __str__(self) -> str:
        return self.name


class SchedulerLease(models.Model):
    """Who may run the beat schedule until when (morgue.beat): a second beat started by mistake waits."""

    name = models.CharField(max_length=50, primary_key=True)
    holder = models.CharField(max_length=200)
    expires_at = models.DateTimeField()

    def __str__(self) -> str:
        return f"{self.name}: {self.holder} until {self.expires_at:%Y-%m-%d %H:%M:%S} UTC"


class Heartbeat(models.Model):
    """When something that runs periodically last showed it is alive (beat, a worker); read by /healthz."""

    name = models.CharField(max_length=50, primary_key=True)
    at = models.DateTimeField()

    def __str__(self) -> str:
        return f"{self.name} at {self.at:%Y-%m-%d %H:%M:%S} UTC"


class AuditRefused(Exception):
    """The audit trail is append-only: nothing in Morgue changes or removes an entry."""


class AuditEntryQuerySet(models.QuerySet["AuditEntry"]):
    # Bulk paths are shut too, so neither a view nor the admin's bulk delete can rewrite history.
    def update(self, **kwargs):
        raise AuditRefused("Audit entries cannot be changed.")

    def delete(self):
        raise AuditRefused("Audit entries cannot be deleted.")

    def for_object(self, kind: str, object_id: object) -> "AuditEntryQuerySet":
        return self.filter(kind=kind, object_id=str(object_id))


class AuditEntry(models.Model):
    """One recorded change: who, when, from where, to what, and each field's value before and after.

    Written only by `morgue.audit.record`. The object is named by kind, id and a
    label kept as text, so the entry outlives it; the actor's name is kept the same way.
    """

    # No database constraint: deleting a person must neither fail nor rewrite their entries.
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.DO_NOTHING,
        db_constraint=False,
        related_name="+",
    )
    actor_label = models.CharField(max_length=150, blank=True, help_text="Empty for the system.")
    at = models.DateTimeField()
    ip = models.GenericIPAddressField(null=True, blank=True)
    request_id = models.CharField(max_length=64, blank=True)
    action = models.CharField(max_length=40)
    kind = models.CharField(max_length=100, help_text="The object's model, as app_label.model_name.")
    object_id = models.CharField(max_length=64, blank=True)
    object_label = models.CharField(max_length=200, blank=True)
    # {field: [before, after]}; `labels` says what people call each field.
    changes = models.JSONField(default=dict, blank=True)
    labels = models.JSONField(default=dict, blank=True)

    objects = AuditEntryQuerySet.as_manager()

    class Meta:
        verbose_name_plural = "audit entries"
        indexes = [
            models.Index(fields=["at", "id"], name="audit_at"),
            models.Index(fields=["kind", "object_id", "at"], name="audit_object"),
            models.Index(fields=["actor", "at"], name="audit_actor"),
        ]

    def __str__(self) -> str:
        return f"{self.actor_label or 'system'} {self.action} {self.object_label or self.kind}"

    def save(self, *args, **kwargs) -> None:
        if not self._state.adding:
            raise AuditRefused("Audit entries cannot be changed.")
        super().save(*args, **kwargs)

    def delete(self, *args, **kwargs):
        raise AuditRefused("Audit entries cannot be deleted.")

    def change_rows(self) -> list[tuple[str, object, object]]:
        """(label, before, after) for each changed field, in the order recorded."""
        return [
            (self.labels.get(name, name.replace("_", " ").capitalize()), pair[0], pair[1])
            for name, pair in self.changes.items()
        ]
