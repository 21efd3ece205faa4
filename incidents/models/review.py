import datetime as dt

from django.conf import settings
from django.db import models
from django.utils import timezone

from morgue.validators import validate_time_zone


def review_uid(incident_id: int) -> str:
    """The calendar UID of an incident's review: every invitation, update and cancellation carries it."""
    host = settings.MORGUE_BASE_URL.split("://", 1)[-1].split("/", 1)[0].split(":", 1)[0] or "morgue"
    return f"incident-{incident_id}-review@{host}"


class ReviewMeeting(models.Model):
    """The postmortem review meeting of one incident; rescheduling updates it (same calendar UID)."""

    incident = models.OneToOneField("incidents.Incident", on_delete=models.CASCADE, related_name="review")
    facilitator = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    starts_at = models.DateTimeField()
    duration_minutes = models.PositiveSmallIntegerField(default=60)
    # The facilitator's zone when it was scheduled: the invitation's TZID.
    time_zone = models.CharField(max_length=64, default="UTC", validators=[validate_time_zone])
    location = models.CharField(max_length=200, blank=True)
    attendees = models.ManyToManyField(settings.AUTH_USER_MODEL, blank=True, related_name="+")
    # iCalendar SEQUENCE: incremented on every reschedule so calendars update the event.
    sequence = models.PositiveIntegerField(default=0)
    # The sequence whose invitation was last sent; the task claims a send by
    # raising it with a conditional UPDATE, so a redelivered task sends nothing.
    sent_sequence = models.IntegerField(default=-1)
    invitation_sent_at = models.DateTimeField(null=True, blank=True)
    # The sequence someone asked to send, and when: the beat sweep re-enqueues
    # a requested invitation whose task was lost.
    requested_sequence = models.IntegerField(default=-1)
    invitation_requested_at = models.DateTimeField(null=True, blank=True)
    created_at = models.DateTimeField(default=timezone.now)
    updated_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["starts_at"]

    def __str__(self) -> str:
        return f"Review of {self.incident_id} at {self.starts_at:%Y-%m-%d %H:%M}"

    @property
    def ends_at(self):
        return self.starts_at + dt.timedelta(minutes=self.duration_minutes)

    @property
    def uid(self) -> str:
        # Stable across reschedules: calendars match updates to the event by UID.
        return review_uid(self.incident_id)

    @property
    def has_started(self) -> bool:
        """Once started, a meeting is no longer called off (unscheduled, or with a deleted incident)."""
        return self.starts_at <= timezone.now()

    @property
    def invitation_pending(self) -> bool:
        return self.sent_sequence < self.sequence


class CancellationReason(models.TextChoices):
    REMOVED = "removed", "Removed from the meeting"
    UNSCHEDULED = "unscheduled", "Review unscheduled"
    INCIDENT_DELETED = "incident-deleted", "Incident deleted"


class ReviewCancellation(models.Model):
    """A review meeting called off for some of its attendees: what their calendars are told (METHOD:CANCEL).

    It keeps what the cancelled meeting was, since an unscheduled meeting is
    deleted, until the email has gone; and after, because a review scheduled
    again carries the same UID and must continue its SEQUENCE past this one.
    """

    incident = models.ForeignKey(
        "incidents.Incident", on_delete=models.CASCADE, related_name="review_cancellations"
    )
    reason = models.CharField(max_length=20, choices=CancellationReason)
    sequence = models.PositiveIntegerField(
        help_text="The meeting's calendar SEQUENCE this cancellation carries."
    )
    facilitator = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    starts_at = models.DateTimeField()
    duration_minutes = models.PositiveSmallIntegerField(default=60)
    time_zone = models.CharField(max_length=64, default="UTC", validators=[validate_time_zone])
    location = models.CharField(max_length=200, blank=True)
    attendees = models.ManyToManyField(
        settings.AUTH_USER_MODEL, blank=True, related_name="+", help_text="Who is told."
    )
    created_at = models.DateTimeField(default=timezone.now)
    sent_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["created_at"]

    def __str__(self) -> str:
        return (
            f"Review of {self.incident_id} cancelled ({self.get_reason_display()}, sequence {self.sequence})"
        )

    @property
    def ends_at(self):
        return self.starts_at + dt.timedelta(minutes=self.duration_minutes)

    @property
    def uid(self) -> str:
        return review_uid(self.incident_id)
