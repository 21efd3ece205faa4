from django.conf import settings
from django.db import models


class EventKind(models.TextChoices):
    DETECTION = "detection", "Detection"
    ACTION = "action", "Action"
    COMMUNICATION = "communication", "Communication"
    DEPLOY = "deploy", "Deploy"
    GRAPH = "graph", "Graph"
    NOTE = "note", "Note"


class TimelineEvent(models.Model):
    incident = models.ForeignKey("incidents.Incident", on_delete=models.CASCADE, related_name="events")
    occurred_at = models.DateTimeField()
    kind = models.CharField(max_length=20, choices=EventKind, default=EventKind.NOTE)
    text = models.TextField()
    link = models.URLField(max_length=2000, blank=True)
    author = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    # Who said it, for events imported from a chat log (not always a Morgue user).
    speaker = models.CharField(max_length=100, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    # Starred events are the ones the postmortem's reader must see (the Markdown export lists them first).
    starred = models.BooleanField(default=False)

    class Meta:
        ordering = ["occurred_at", "id"]
        indexes = [models.Index(fields=["incident", "occurred_at"], name="timeline_incident_time")]

    def __str__(self) -> str:
        return f"{self.occurred_at:%Y-%m-%d %H:%M} {self.kind}: {self.text[:60]}"
