import datetime as dt
import secrets
from typing import Self

from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.validators import MaxValueValidator, MinValueValidator
from django.db import models
from django.utils import timezone

from morgue.models import Team
from morgue.timezones import zone
from morgue.validators import validate_time_zone

from . import shifts as shift_rules


class Level(models.TextChoices):
    L1 = "L1", "L1"
    L2 = "L2", "L2"


class ShiftSource(models.TextChoices):
    ROTATION = "rotation", "Rotation"
    OVERRIDE = "override", "Override"


class Advance(models.TextChoices):
    WALL_TIME = "wall_time", "By wall time (restrictions only mask the rotation)"
    ON_DUTY = "on_duty", "By time on duty (hand off after the turn's length inside the windows)"


def validate_restrictions(value: object) -> None:
    try:
        shift_rules.parse_restrictions(value)
    except ValueError as error:
        raise ValidationError(str(error)) from error


def default_handoff_time() -> dt.time:
    # A callable, not a fixed time: Django's check for fixed date and time
    # defaults (fields.W161) would otherwise fire whenever it runs near 10:00.
    return dt.time(10, 0)


class Rotation(models.Model):
    team = models.ForeignKey(Team, on_delete=models.CASCADE, related_name="rotations")
    name = models.CharField(max_length=100)
    slug = models.SlugField(max_length=50, unique=True)
    time_zone = models.CharField(max_length=64, default="UTC", validators=[validate_time_zone])
    shift_length_days = models.PositiveSmallIntegerField(
        default=3,
        validators=[
            MinValueValidator(shift_rules.MIN_LENGTH_DAYS),
            MaxValueValidator(shift_rules.MAX_LENGTH_DAYS),
        ],
    )
    shift_length_hours = models.PositiveSmallIntegerField(
        null=True,
        blank=True,
        validators=[
            MinValueValidator(shift_rules.MIN_LENGTH_HOURS),
            MaxValueValidator(shift_rules.MAX_LENGTH_HOURS),
        ],
        help_text="A turn in hours (12 for follow-the-sun); when empty, the turn is in days.",
    )
    handoff_time = models.TimeField(default=default_handoff_time)
    restrictions = models.JSONField(
        default=list,
        blank=True,
        validators=[validate_restrictions],
        help_text="Weekly windows (local) in which the rotation is active; always active when empty.",
    )
    advance = models.CharField(max_length=10, choices=Advance, default=Advance.WALL_TIME)
    layer = models.PositiveSmallIntegerField(
        null=True,
        blank=True,
        validators=[MinValueValidator(1), MaxValueValidator(99)],
        help_text=(
            "Layered rotations of a team serve its levels together: where a higher layer has "
            "someone on call, it wins. Empty: not layered."
        ),
    )
    first_shift_date = models.DateField()
    has_l2 = models.BooleanField(default=True, help_text="Levels L1 and L2; L1 only when off.")
    escalation_timeout_minutes = models.PositiveSmallIntegerField(
        default=15, validators=[MinValueValidator(1), MaxValueValidator(24 * 60)]
    )
    everyone_else = models.BooleanField(
        default=False,
        help_text="Members are everyone in the group who is not in another rotation, recomputed at handoff.",
    )
    group = models.ForeignKey(
        "auth.Group",
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
        help_text="The group an everyone-else rotation draws from (engineers when empty).",
    )
    # The rule in force from shift `anchor_number` on: it starts on
    # `anchor_date` at `anchor_time` (the handoff time when empty), local wall
    # time. An edit moves the anchor to the next handoff, date and time (turns
    # in hours hand off at other times than `handoff_time`), so shifts already
    # begun keep the rule they were made with.
    anchor_date = models.DateField(null=True, blank=True, editable=False)
    anchor_time = models.TimeField(null=True, blank=True, editable=False)
    anchor_number = models.PositiveIntegerField(default=0, editable=False)
    # An ended rotation has no shift from this instant on; what it held before
    # stays (shifts, overrides, the pages they answered). A rule replaced in a
    # schedule source is ended so, and a new rotation takes over at the same instant.
    ends_at = models.DateTimeField(
        null=True, blank=True, help_text="No shifts from this instant on; empty: it goes on."
    )
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["team__name", "name"]

    def __str__(self) -> str:
        return self.name

    @property
    def levels(self) -> list[str]:
        return [Level.L1, Level.L2] if self.has_l2 else [Level.L1]

    @property
    def zone(self):
        return zone(self.time_zone)

    def schedule(self) -> shift_rules.Schedule:
        """The wall-clock rule for shifts from the anchor on."""
        return shift_rules.Schedule(
            zone=self.zone,
            length_days=self.shift_length_days,
            handoff=self.handoff_time,
            anchor_date=self.anchor_date or self.first_shift_date,
            anchor_number=self.anchor_number,
            length_hours=self.shift_length_hours,
            anchor_time=self.anchor_time if self.anchor_date else None,
        )

    def weekly_windows(self) -> list[shift_rules.WeeklyWindow]:
        return shift_rules.parse_restrictions(self.restrictions)

    @property
    def turn_length(self) -> dt.timedelta:
        return self.schedule().step

    def describe_turn(self) -> str:
        if self.shift_length_hours:
            count, unit = self.shift_length_hours, "hour"
        else:
            count, unit = self.shift_length_days, "day"
        return f"{count} {unit}{'' if count == 1 else 's'}"

    def describe_restrictions(self) -> str:
        """The weekly windows as people read them: "Mon 09:00 – Mon 17:00, …"."""
        return ", ".join(
            f"{shift_rules.WEEKDAYS[window.start_day].title()} {window.start_time:%H:%M} – "
            f"{shift_rules.WEEKDAYS[window.end_day].title()} {window.end_time:%H:%M}"
            for window in self.weekly_windows()
        )


class RotationMember(models.Model):
    rotation = models.ForeignKey(Rotation, on_delete=models.CASCADE, related_name="members")
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="rotation_memberships"
    )
    position = models.PositiveIntegerField(default=0)
    experienced = models.BooleanField(default=False, help_text="Has done on-call before.")

    class Meta:
        ordering = ["rotation", "position", "id"]
        constraints = [
            models.UniqueConstraint(fields=["rotation", "user"], name="rotation_member_unique"),
        ]

    def __str__(self) -> str:
        return f"{self.user} in {self.rotation}"


# No materialised shift piece is longer than the longest shift (28 days, plus
# an hour of DST). Reads that may assume it (oncall.selectors.on_call_now) add
# `starts_at > at - LONGEST_SHIFT` so the (starts_at, ends_at) index scans a
# narrow range instead of every shift that ever started.
LONGEST_SHIFT = dt.timedelta(days=shift_rules.MAX_LENGTH_DAYS, hours=2)


# Who holds a level at an instant, when more than one piece is in force:
# the team's oldest rotation. Within one rotation the pieces of a level never
# overlap: an override (an accepted swap is one) replaces the part of the
# piece it covers when it is made and again whenever shifts are rebuilt
# (oncall.services), so there the covering piece is the holder, whatever its
# source. The start and id only make the order total.
HOLDER_ORDER = ("rotation_id", "starts_at", "id")


class ShiftQuerySet(models.QuerySet["Shift"]):
    def covering(self, at: dt.datetime) -> Self:
        """Shifts in force at an instant: starts_at <= at < ends_at (Shift.covers)."""
        return self.filter(starts_at__lte=at, ends_at__gt=at)

    def holding(self, *, level: str, at: dt.datetime, until: dt.datetime | None = None) -> Self:
        """Pieces of `level` in force at `at` (or at any instant up to `until`), in HOLDER_ORDER.

        Of a team's (or a rotation's) pieces, the first that covers an instant
        holds the level then: oncall.selectors.Holders reads it so.
        """
        return self.filter(level=level, starts_at__lte=until or at, ends_at__gt=at).order_by(*HOLDER_ORDER)

    def overlapping(self, since: dt.datetime, until: dt.datetime) -> Self:
        return self.filter(starts_at__lt=until, ends_at__gt=since)


_ShiftManagerBase = models.Manager.from_queryset(ShiftQuerySet)


class ShiftManager(_ShiftManagerBase):
    """Layer-resolved pieces: what people hold. A piece masked by a higher layer is only kept
    so that the rotation's own turns can be rebuilt; nobody reads it as being on call."""

    def get_queryset(self) -> ShiftQuerySet:  # type: ignore[override]
        return ShiftQuerySet(self.model, using=self._db).filter(masked=False)


class Shift(models.Model):
    """One person holding one level of a rotation for a window of time.

    Rotation shifts are materialised ahead of time; an override splits the
    shift it covers so that, for every level, windows never overlap or leave
    gaps.
    """

    rotation = models.ForeignKey(Rotation, on_delete=models.CASCADE, related_name="shifts")
    level = models.CharField(max_length=2, choices=Level, default=Level.L1)
    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="shifts")
    starts_at = models.DateTimeField()
    ends_at = models.DateTimeField()
    source = models.CharField(max_length=10, choices=ShiftSource, default=ShiftSource.ROTATION)
    number = models.PositiveIntegerField(help_text="k: the rotation's shift number this piece belongs to.")
    masked = models.BooleanField(
        default=False, help_text="Covered by a higher layer of the team: nobody holds it."
    )

    # `objects` (the default, so every reader and every relation) holds the
    # final, layer-resolved pieces; `all_pieces` also the masked ones, for the
    # services that rebuild a rotation's turns and resolve layers.
    objects = ShiftManager()
    all_pieces = ShiftQuerySet.as_manager()

    class Meta:
        # By column, not by the rotation: ordering by the relation would join
        # rotation and team (their own ordering) into every shift query.
        ordering = ["rotation_id", "starts_at", "level"]
        indexes = [
            models.Index(fields=["rotation", "level", "starts_at"], name="shift_rotation_level_start"),
            models.Index(fields=["starts_at", "ends_at"], name="shift_window"),
            models.Index(fields=["user", "starts_at"], name="shift_user_start"),
        ]

    def __str__(self) -> str:
        return f"{self.rotation} {self.level} {self.user} {self.starts_at:%Y-%m-%d %H:%M}"

    @property
    def permission_team(self):
        """Whose roles govern the shift (morgue.permissions): its rotation's team."""
        return self.rotation.team

    def covers(self, at: dt.datetime) -> bool:
        """In force at an instant: the same half-open window as ShiftQuerySet.covering."""
        return self.starts_at <= at < self.ends_at


class Override(models.Model):
    """A person taking one level of a rotation for a window, for a reason.

    Kept apart from the shift pieces it produces so that shifts materialised
    later (or regenerated after an edit) get it applied again.
    """

    rotation = models.ForeignKey(Rotation, on_delete=models.CASCADE, related_name="overrides")
    level = models.CharField(max_length=2, choices=Level, default=Level.L1)
    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="overrides")
    starts_at = models.DateTimeField()
    ends_at = models.DateTimeField()
    reason = models.CharField(max_length=200, blank=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL, related_name="+"
    )
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["rotation", "starts_at"]
        constraints = [
            models.CheckConstraint(
                condition=models.Q(ends_at__gt=models.F("starts_at")), name="override_window"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.user} {self.level} of {self.rotation} {self.starts_at:%Y-%m-%d %H:%M}"

    @property
    def permission_team(self):
        """Whose roles govern the override (morgue.permissions): its rotation's team."""
        return self.rotation.team


class SwapStatus(models.TextChoices):
    ASKED = "asked", "Asked"
    ACCEPTED = "accepted", "Accepted"
    DECLINED = "declined", "Declined"
    WITHDRAWN = "withdrawn", "Withdrawn"


class Swap(models.Model):
    """One person asking another to take a window of their shift; accepted, it becomes an override."""

    rotation = models.ForeignKey(Rotation, on_delete=models.CASCADE, related_name="swaps")
    level = models.CharField(max_length=2, choices=Level, default=Level.L1)
    requested_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="+")
    taken_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="+")
    starts_at = models.DateTimeField()
    ends_at = models.DateTimeField()
    reason = models.CharField(max_length=200, blank=True)
    status = models.CharField(max_length=10, choices=SwapStatus, default=SwapStatus.ASKED)
    override = models.OneToOneField(Override, null=True, blank=True, on_delete=models.SET_NULL)
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["-created_at"]

    def __str__(self) -> str:
        return f"{self.requested_by} → {self.taken_by} {self.level} {self.starts_at:%Y-%m-%d}"


def new_page_token() -> str:
    return secrets.token_urlsafe(16)


class PageStatus(models.TextChoices):
    OPEN = "open", "Open"
    ACKNOWLEDGED = "acknowledged", "Acknowledged"
    EXHAUSTED = "exhausted", "Nobody answered"
    RESOLVED = "resolved", "Resolved"


class PageQuerySet(models.QuerySet["Page"]):
    def open(self) -> Self:
        return self.filter(status=PageStatus.OPEN)

    def unresolved(self) -> Self:
        """Pages whose problem is not over, answered or not: what new alerts may attach to."""
        return self.exclude(status=PageStatus.RESOLVED)


class Page(models.Model):
    team = models.ForeignKey(Team, on_delete=models.PROTECT, related_name="pages")
    message = models.TextField()
    incident = models.ForeignKey(
        "incidents.Incident", null=True, blank=True, on_delete=models.SET_NULL, related_name="pages"
    )
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL, related_name="pages_sent"
    )
    created_at = models.DateTimeField(default=timezone.now)
    status = models.CharField(max_length=12, choices=PageStatus, default=PageStatus.OPEN)
    acknowledged_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    acknowledged_at = models.DateTimeField(null=True, blank=True)
    token = models.CharField(max_length=32, default=new_page_token, editable=False)
    resolved_at = models.DateTimeField(null=True, blank=True)
    resolution_notified_at = models.DateTimeField(
        null=True, blank=True, help_text="When the people notified were told it resolved (claims the notice)."
    )

    objects = PageQuerySet.as_manager()

    class Meta:
        ordering = ["-created_at"]

    def __str__(self) -> str:
        return f"Page {self.pk} to {self.team}"

    @property
    def can_be_acknowledged(self) -> bool:
        """Only while it escalates: one nobody answered has run out, one resolved is over."""
        return self.status == PageStatus.OPEN

    def why_not_acknowledgeable(self) -> str:
        """The sentence shown when an acknowledgement comes too late; empty while it can be acknowledged."""
        if self.status == PageStatus.EXHAUSTED:
            return (
                "Nobody answered this page and its escalation has run out, so it can no longer be "
                "acknowledged; resolve it when the problem is over."
            )
        if self.status == PageStatus.RESOLVED:
            return "This page is resolved; there is nothing left to acknowledge."
        return ""


class PageStep(models.Model):
    """One rung of a page's escalation: who was notified, when, and when it ran out.

    `escalated_at` is set by the one task that claims the step (a conditional
    UPDATE), so a repeated or late task never notifies the next rung twice.
    """

    page = models.ForeignKey(Page, on_delete=models.CASCADE, related_name="steps")
    number = models.PositiveSmallIntegerField()
    team = models.ForeignKey(Team, on_delete=models.PROTECT, related_name="+")
    level = models.CharField(max_length=2, choices=Level)
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="page_steps"
    )
    created_at = models.DateTimeField(default=timezone.now)
    due_at = models.DateTimeField(help_text="When this step escalates if nobody acknowledges.")
    notified_at = models.DateTimeField(null=True, blank=True)
    escalated_at = models.DateTimeField(null=True, blank=True)
    note = models.CharField(max_length=200, blank=True)

    class Meta:
        ordering = ["page", "number"]
        constraints = [models.UniqueConstraint(fields=["page", "number"], name="page_step_unique")]
        indexes = [models.Index(fields=["due_at"], name="page_step_due")]

    def __str__(self) -> str:
        return f"{self.page} step {self.number}: {self.team} {self.level}"


class ContactKind(models.TextChoices):
    EMAIL = "email", "Email"
    SMS = "sms", "SMS"
    VOICE = "voice", "Voice call"
    PUSH = "push", "Push (ntfy)"
    SLACK = "slack", "Chat webhook (Slack-compatible)"
    TEAMS = "teams", "Microsoft Teams"


class ContactMethod(models.Model):
    """One way to reach a person: an email address, a phone number, an ntfy topic or a chat webhook."""

    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="contact_methods"
    )
    kind = models.CharField(max_length=10, choices=ContactKind)
    address = models.CharField(max_length=500)
    label = models.CharField(max_length=100, blank=True)
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["user", "pk"]
        constraints = [
            models.UniqueConstraint(fields=["user", "kind", "address"], name="contact_method_unique")
        ]

    def __str__(self) -> str:
        return f"{self.get_kind_display()} {self.address}"


class NotificationRule(models.Model):
    """Send to this method this many minutes after a page step names the person."""

    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="notification_rules"
    )
    contact_method = models.ForeignKey(ContactMethod, on_delete=models.CASCADE, related_name="rules")
    delay_minutes = models.PositiveSmallIntegerField(default=0)

    class Meta:
        ordering = ["user", "delay_minutes", "pk"]
        constraints = [
            models.UniqueConstraint(fields=["user", "contact_method"], name="notification_rule_unique")
        ]

    def __str__(self) -> str:
        return f"{self.contact_method} after {self.delay_minutes} min"


class NotificationStatus(models.TextChoices):
    PENDING = "pending", "Waiting"
    SENDING = "sending", "Sending"
    RETRYING = "retrying", "Failed, trying again"
    SENT = "sent", "Sent"
    DELIVERED = "delivered", "Delivered"
    FAILED = "failed", "Failed"
    CANCELLED = "cancelled", "Not needed"


class Notification(models.Model):
    """One message to one address for one page step (or fire drill): claimed, sent, marked sent.

    The unique (key, kind, address) makes it exactly once: a duplicated task,
    a sweep and a retry all find the same row, and only the worker whose
    conditional UPDATE moved it to "sending" sends.
    """

    key = models.CharField(max_length=40, help_text="What it is about: step:<id> or drill:<id>.")
    step = models.ForeignKey(
        PageStep, null=True, blank=True, on_delete=models.CASCADE, related_name="notifications"
    )
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.CASCADE, related_name="+"
    )
    contact_method = models.ForeignKey(
        ContactMethod, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    kind = models.CharField(max_length=10)
    address = models.CharField(max_length=500)
    due_at = models.DateTimeField()
    status = models.CharField(max_length=10, choices=NotificationStatus, default=NotificationStatus.PENDING)
    attempts = models.PositiveSmallIntegerField(default=0)
    claimed_at = models.DateTimeField(null=True, blank=True)
    sent_at = models.DateTimeField(null=True, blank=True)
    provider_id = models.CharField(
        max_length=64, blank=True, help_text="The provider's id, e.g. a Twilio SID."
    )
    receipt = models.CharField(max_length=200, blank=True, help_text="What the provider answered.")
    error = models.CharField(max_length=200, blank=True)
    fallback_for = models.ForeignKey(
        "self", null=True, blank=True, on_delete=models.SET_NULL, related_name="fallbacks"
    )

    class Meta:
        ordering = ["due_at", "pk"]
        constraints = [
            models.UniqueConstraint(fields=["key", "kind", "address"], name="notification_once"),
        ]
        indexes = [models.Index(fields=["status", "due_at"], name="notification_waiting")]

    def __str__(self) -> str:
        return f"{self.kind} to {self.address} ({self.key})"
