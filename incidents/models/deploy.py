import datetime as dt
from typing import TYPE_CHECKING, Self

from django.conf import settings
from django.db import models
from django.utils import timezone

if TYPE_CHECKING:
    from .incident import Incident

PRODUCTION = "production"


class DeployQuerySet(models.QuerySet["Deploy"]):
    def production(self) -> Self:
        return self.filter(environment=PRODUCTION)

    def started_between(self, since: dt.datetime | None, until: dt.datetime | None) -> Self:
        queryset = self
        if since is not None:
            queryset = queryset.filter(started_at__gte=since)
        if until is not None:
            queryset = queryset.filter(started_at__lt=until)
        return queryset

    def before_incident(self, incident: "Incident", *, minutes: int) -> Self:
        """Production deploys from `minutes` before impact started up to detection, newest first."""
        # Served by the (environment, started_at) index: one range scan.
        return (
            self.production()
            .filter(
                started_at__gte=incident.impact_started_at - dt.timedelta(minutes=minutes),
                started_at__lte=incident.detected_at,
            )
            .order_by("-started_at", "-id")
        )


class Deploy(models.Model):
    """One deploy of one stack to one environment, as a deploy tool or CI job reported it."""

    stack = models.SlugField(max_length=50, help_text="web, web_config, search, …")
    environment = models.SlugField(max_length=50, help_text="qa, staging, production, …")
    # The deploy tool's user name: not necessarily a Morgue account.
    deployer = models.CharField(max_length=100, blank=True)
    old_revision = models.CharField(max_length=100, blank=True)
    new_revision = models.CharField(max_length=100)
    started_at = models.DateTimeField()
    finished_at = models.DateTimeField(null=True, blank=True)
    diff_url = models.URLField(max_length=2000, blank=True)
    log_url = models.URLField(max_length=2000, blank=True)
    message = models.TextField(blank=True)
    created_at = models.DateTimeField(default=timezone.now)

    incidents = models.ManyToManyField(
        "incidents.Incident", through="DeployLink", related_name="deploys", blank=True
    )

    objects = DeployQuerySet.as_manager()

    class Meta:
        ordering = ["-started_at", "-id"]
        constraints = [
            # What makes a report of the same deploy twice the same deploy.
            models.UniqueConstraint(
                fields=["stack", "environment", "new_revision", "started_at"], name="deploy_unique_report"
            ),
            models.CheckConstraint(
                condition=models.Q(finished_at__isnull=True)
                | models.Q(finished_at__gte=models.F("started_at")),
                name="deploy_finished_after_start",
            ),
        ]
        indexes = [
            models.Index(fields=["environment", "started_at"], name="deploy_environment_start"),
            models.Index(fields=["started_at"], name="deploy_start"),
        ]

    def __str__(self) -> str:
        return f"{self.stack} {self.environment} {self.short_old} → {self.short_new}"

    @property
    def duration_seconds(self) -> int | None:
        if self.finished_at is None:
            return None
        return int((self.finished_at - self.started_at).total_seconds())

    @property
    def short_old(self) -> str:
        return self.old_revision[:10]

    @property
    def short_new(self) -> str:
        return self.new_revision[:10]

    def summary(self) -> str:
        """The deploy log's one line: `web | PRODUCTION | alice | 3ee7f99bb3 → 4add615720`."""
        who = self.deployer or "unknown"
        return (
            f"{self.stack} | {self.environment.upper()} | {who} | {self.short_old or '—'} → {self.short_new}"
        )


class DeployLink(models.Model):
    """A deploy someone judged part of an incident; it shows on the incident's timeline."""

    deploy = models.ForeignKey(Deploy, on_delete=models.CASCADE, related_name="links")
    incident = models.ForeignKey("incidents.Incident", on_delete=models.CASCADE, related_name="deploy_links")
    event = models.OneToOneField(
        "incidents.TimelineEvent", null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    linked_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    linked_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["-deploy__started_at"]
        constraints = [models.UniqueConstraint(fields=["deploy", "incident"], name="deploy_link_once")]

    def __str__(self) -> str:
        return f"{self.deploy} ↔ incident {self.incident_id}"
