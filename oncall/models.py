from django.conf import settings
from django.db import models

OPS_SLUG = "ops"


class TeamQuerySet(models.QuerySet):
    def pageable(self):
        # Ops first: "If you're not sure who to page, page Ops911."
        return self.filter(pageable=True).order_by(
            models.Case(models.When(slug=OPS_SLUG, then=0), default=1), "name"
        )


class Team(models.Model):
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
    members = models.ManyToManyField(settings.AUTH_USER_MODEL, blank=True, related_name="teams")

    objects = TeamQuerySet.as_manager()

    class Meta:
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


class Level(models.TextChoices):
    L1 = "L1", "L1"
    L2 = "L2", "L2"


class ShiftSource(models.TextChoices):
    ROTATION = "rotation", "Rotation"
    OVERRIDE = "override", "Override"


class Rotation(models.Model):
    team = models.ForeignKey(Team, on_delete=models.CASCADE, related_name="rotations")
    name = models.CharField(max_length=100)
    slug = models.SlugField(max_length=50, unique=True)
    time_zone = models.CharField(max_length=64, default="UTC")
    shift_length_days = models.PositiveSmallIntegerField(default=3)
    handoff_time = models.TimeField(default="10:00")
    first_shift_date = models.DateField()
    has_l2 = models.BooleanField(default=True, help_text="Levels L1 and L2; L1 only when off.")
    escalation_timeout_minutes = models.PositiveSmallIntegerField(default=15)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["team__name", "name"]

    def __str__(self) -> str:
        return self.name

    @property
    def levels(self) -> list[str]:
        return [Level.L1, Level.L2] if self.has_l2 else [Level.L1]


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


class ShiftQuerySet(models.QuerySet):
    def covering(self, at):
        """Shifts in force at an instant: starts_at <= at < ends_at."""
        return self.filter(starts_at__lte=at, ends_at__gt=at)

    def overlapping(self, since, until):
        return self.filter(starts_at__lt=until, ends_at__gt=since)


class Shift(models.Model):
    """One person holding one level of a rotation for a window of time.

    Rotation shifts are materialised ahead of time; an override splits the
    shift it covers so that, for every level, windows never overlap or leave
    gaps.
    """

    rotation = models.ForeignKey(Rotation, on_delete=models.CASCADE, related_name="shifts")
    level = models.CharField(max_length=2, choices=Level.choices, default=Level.L1)
    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="shifts")
    starts_at = models.DateTimeField()
    ends_at = models.DateTimeField()
    source = models.CharField(max_length=10, choices=ShiftSource.choices, default=ShiftSource.ROTATION)
    number = models.PositiveIntegerField(help_text="k: the rotation's shift number this piece belongs to.")

    objects = ShiftQuerySet.as_manager()

    class Meta:
        ordering = ["rotation", "starts_at", "level"]
        indexes = [
            models.Index(fields=["rotation", "level", "starts_at"], name="shift_rotation_level_start"),
            models.Index(fields=["starts_at", "ends_at"], name="shift_window"),
            models.Index(fields=["user", "starts_at"], name="shift_user_start"),
        ]

    def __str__(self) -> str:
        return f"{self.rotation} {self.level} {self.user} {self.starts_at:%Y-%m-%d %H:%M}"
