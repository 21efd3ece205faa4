import datetime as dt

from django.conf import settings
from django.db import models
from django.urls import reverse
from django.utils import timezone


class Severity(models.IntegerChoices):
    # 1 is the worst. The words shown for each level are configurable
    # (settings.MORGUE_SEVERITY_LABELS); these are the defaults.
    SEV1 = 1, "1 – critical: site down or data loss"
    SEV2 = 2, "2 – major: a core feature broken for many"
    SEV3 = 3, "3 – moderate: degraded for some"
    SEV4 = 4, "4 – minor: small or internal impact"
    SEV5 = 5, "5 – negligible: near miss"


class Status(models.TextChoices):
    OPEN = "open", "Open"
    RESOLVED = "resolved", "Resolved"
    REVIEW_SCHEDULED = "review-scheduled", "Review scheduled"
    REVIEWED = "reviewed", "Reviewed"
    CLOSED = "closed", "Closed"


class ProblemType(models.TextChoices):
    INTERNAL = "internal", "Internal"
    VENDOR = "vendor", "Vendor"


class Impact(models.TextChoices):
    CUSTOMER = "customer", "Customer-facing"
    INTERNAL = "internal", "Internal only"
    DATA = "data", "Data integrity"
    PERFORMANCE = "performance", "Performance"
    SECURITY = "security", "Security"


class Tag(models.Model):
    name = models.SlugField(max_length=50, unique=True)

    class Meta:
        ordering = ["name"]

    def __str__(self) -> str:
        return self.name


class IncidentQuerySet(models.QuerySet):
    def visible(self):
        """Not soft-deleted: what every list, page and metric shows."""
        return self.filter(deleted_at__isnull=True)

    def open(self):
        return self.visible().filter(status=Status.OPEN)

    def started_between(self, since: dt.datetime | None, until: dt.datetime | None):
        queryset = self
        if since is not None:
            queryset = queryset.filter(impact_started_at__gte=since)
        if until is not None:
            queryset = queryset.filter(impact_started_at__lt=until)
        return queryset


def _seconds_between(start: dt.datetime | None, end: dt.datetime | None) -> int | None:
    if start is None or end is None:
        return None
    return int((end - start).total_seconds())


class Incident(models.Model):
    title = models.CharField(max_length=200)
    severity = models.PositiveSmallIntegerField(choices=Severity.choices, default=Severity.SEV3)
    status = models.CharField(max_length=20, choices=Status.choices, default=Status.OPEN, db_index=True)

    team = models.ForeignKey(
        "oncall.Team",
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="incidents",
        help_text="The owning team.",
    )
    affected_service = models.CharField(max_length=100, blank=True)
    problem_type = models.CharField(max_length=20, choices=ProblemType.choices, blank=True)
    impact_type = models.CharField(max_length=20, choices=Impact.choices, blank=True)
    tags = models.ManyToManyField(Tag, blank=True, related_name="incidents")
    contact = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    facilitator = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="facilitated_incidents",
    )

    # Milestones, stored in UTC. Each may carry a note on where it came from.
    impact_started_at = models.DateTimeField(db_index=True)
    impact_started_source = models.CharField(max_length=200, blank=True)
    detected_at = models.DateTimeField()
    detected_source = models.CharField(max_length=200, blank=True)
    acknowledged_at = models.DateTimeField(null=True, blank=True)
    acknowledged_source = models.CharField(max_length=200, blank=True)
    status_posted_at = models.DateTimeField(null=True, blank=True)
    status_posted_source = models.CharField(max_length=200, blank=True)
    mitigated_at = models.DateTimeField(null=True, blank=True)
    mitigated_source = models.CharField(max_length=200, blank=True)
    resolved_at = models.DateTimeField(null=True, blank=True)
    resolved_source = models.CharField(max_length=200, blank=True)

    # The postmortem document: Markdown, rendered and sanitised on display.
    tldr = models.TextField(blank=True)
    what_happened = models.TextField(blank=True)
    why_surprised = models.TextField(blank=True)
    went_well = models.TextField(blank=True)
    got_lucky = models.TextField(blank=True)
    contributing_factors = models.TextField(blank=True)

    # Optimistic locking: every accepted edit increments it; an edit based on
    # an older version is refused rather than silently overwriting.
    version = models.PositiveIntegerField(default=1)

    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    created_at = models.DateTimeField(default=timezone.now)
    updated_at = models.DateTimeField(default=timezone.now)
    deleted_at = models.DateTimeField(null=True, blank=True, db_index=True)

    objects = IncidentQuerySet.as_manager()

    class Meta:
        ordering = ["-impact_started_at", "-id"]
        indexes = [models.Index(fields=["deleted_at", "-impact_started_at"], name="incident_visible_start")]

    def __str__(self) -> str:
        return self.title

    def get_absolute_url(self) -> str:
        return reverse("incidents:detail", args=[self.pk])

    @property
    def time_to_detect_seconds(self) -> int | None:
        return _seconds_between(self.impact_started_at, self.detected_at)

    @property
    def time_to_resolve_seconds(self) -> int | None:
        return _seconds_between(self.detected_at, self.resolved_at)

    @property
    def impact_seconds(self) -> int | None:
        return _seconds_between(self.impact_started_at, self.mitigated_at or self.resolved_at)
