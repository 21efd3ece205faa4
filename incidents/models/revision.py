import datetime as dt

from django.conf import settings
from django.db import models
from django.utils import timezone

# Someone who opened the editor this recently is shown as "editing".
PRESENCE_WINDOW = dt.timedelta(minutes=2)


class Revision(models.Model):
    """One accepted save of an incident: who, when, which fields changed, and the whole state after it."""

    incident = models.ForeignKey("incidents.Incident", on_delete=models.CASCADE, related_name="revisions")
    # The incident's version after this save; unique per incident, so two
    # saves can never both claim the same version.
    number = models.PositiveIntegerField()
    author = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    created_at = models.DateTimeField(default=timezone.now)
    changed_fields = models.JSONField(default=list, blank=True)
    snapshot = models.JSONField(default=dict)
    note = models.CharField(max_length=200, blank=True)

    class Meta:
        ordering = ["-number"]
        constraints = [
            models.UniqueConstraint(fields=["incident", "number"], name="revision_unique_number"),
        ]

    def __str__(self) -> str:
        return f"{self.incident_id} v{self.number}"


class EditorPresence(models.Model):
    """The last time a person opened (or kept open) an incident's editor."""

    incident = models.ForeignKey("incidents.Incident", on_delete=models.CASCADE, related_name="+")
    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="+")
    seen_at = models.DateTimeField(default=timezone.now)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["incident", "user"], name="editor_presence_unique"),
        ]

    def __str__(self) -> str:
        return f"{self.user_id} editing {self.incident_id} at {self.seen_at:%H:%M}"
