from typing import Self

from django.conf import settings
from django.db import models
from django.utils import timezone


class SnapshotStatus(models.TextChoices):
    PENDING = "pending", "Pending"
    CAPTURED = "captured", "Captured"
    FAILED = "failed", "Failed"


class GraphSnapshotQuerySet(models.QuerySet["GraphSnapshot"]):
    def pending(self) -> Self:
        return self.filter(status=SnapshotStatus.PENDING)


def snapshot_path(snapshot: "GraphSnapshot", filename: str) -> str:
    return f"graphs/{snapshot.incident_id}/{filename}"


class GraphSnapshot(models.Model):
    """A graph kept with the incident: the live link, and a stored copy that outlives the metrics store."""

    incident = models.ForeignKey(
        "incidents.Incident", on_delete=models.CASCADE, related_name="graph_snapshots"
    )
    title = models.CharField(max_length=200)
    # The URL as pasted (the live graph) and, for Graphite, the same URL pinned to
    # the incident window; `fetch_url` is what the worker fetches.
    url = models.URLField(max_length=2000, blank=True)
    fetch_url = models.URLField(max_length=4000, blank=True)
    status = models.CharField(
        max_length=10, choices=SnapshotStatus, default=SnapshotStatus.PENDING, db_index=True
    )
    failure_reason = models.CharField(max_length=500, blank=True)
    attempts = models.PositiveSmallIntegerField(default=0)
    image = models.FileField(upload_to=snapshot_path, blank=True, max_length=300)
    content_type = models.CharField(max_length=50, blank=True)
    size = models.PositiveIntegerField(null=True, blank=True)
    fetched_at = models.DateTimeField(null=True, blank=True)
    # The timeline moment the graph illustrates.
    pinned_at = models.DateTimeField(null=True, blank=True)
    event = models.OneToOneField(
        "incidents.TimelineEvent", null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    created_at = models.DateTimeField(default=timezone.now)

    objects = GraphSnapshotQuerySet.as_manager()

    class Meta:
        ordering = ["created_at", "id"]

    def __str__(self) -> str:
        return self.title

    @property
    def is_graphite(self) -> bool:
        return bool(self.url) and self.fetch_url != self.url
