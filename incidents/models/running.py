"""Running an incident while it happens: roles, status updates, subscribers, postmortem templates."""

import secrets

from django.conf import settings
from django.db import models
from django.utils import timezone

LEAD = "lead"
COMMUNICATIONS = "communications"
SCRIBE = "scribe"


class RoleKind(models.Model):
    """A role held during an incident: the built-in lead, communications lead and scribe, or staff's own."""

    slug = models.SlugField(max_length=50, unique=True)
    name = models.CharField(max_length=100)
    description = models.CharField(max_length=300, blank=True)
    order = models.PositiveSmallIntegerField(default=100, help_text="Lower comes first on the incident page.")

    class Meta:
        ordering = ["order", "name"]

    def __str__(self) -> str:
        return self.name


class RoleAssignmentQuerySet(models.QuerySet["RoleAssignment"]):
    def current(self) -> "RoleAssignmentQuerySet":
        """Held now: not handed over."""
        return self.filter(ended_at__isnull=True)


class RoleAssignment(models.Model):
    """One person holding one role on one incident, from `assigned_at` until handed over (`ended_at`)."""

    incident = models.ForeignKey("incidents.Incident", on_delete=models.CASCADE, related_name="roles")
    role = models.ForeignKey(RoleKind, on_delete=models.PROTECT, related_name="assignments")
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="incident_roles"
    )
    assigned_at = models.DateTimeField(default=timezone.now)
    assigned_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    ended_at = models.DateTimeField(null=True, blank=True)

    objects = RoleAssignmentQuerySet.as_manager()

    class Meta:
        ordering = ["role__order", "assigned_at", "id"]
        constraints = [
            # One holder of a role at a time: a handover ends the old row before the new one starts.
            models.UniqueConstraint(
                fields=["incident", "role"], condition=models.Q(ended_at__isnull=True), name="one_role_holder"
            )
        ]
        indexes = [models.Index(fields=["user", "ended_at"], name="role_holder_current")]

    def __str__(self) -> str:
        return f"{self.role} of {self.incident_id}: {self.user_id}"


class StatusUpdate(models.Model):
    """What people outside the response are told: what is affected, what we are doing, when we say more."""

    incident = models.ForeignKey(
        "incidents.Incident", on_delete=models.CASCADE, related_name="status_updates"
    )
    posted_at = models.DateTimeField(default=timezone.now)
    author = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    affected = models.TextField(help_text="What is affected, for whom, in words a customer understands.")
    doing = models.TextField(help_text="What we are doing about it.")
    next_update_at = models.DateTimeField(null=True, blank=True, help_text="When the next update is due.")

    class Meta:
        ordering = ["-posted_at", "-id"]
        indexes = [models.Index(fields=["incident", "-posted_at"], name="status_update_incident")]

    def __str__(self) -> str:
        return f"Update {self.pk} on incident {self.incident_id}"


class Subscription(models.Model):
    """A person or a team following an incident: each status update goes to them."""

    incident = models.ForeignKey("incidents.Incident", on_delete=models.CASCADE, related_name="subscriptions")
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.CASCADE, related_name="+"
    )
    team = models.ForeignKey("morgue.Team", null=True, blank=True, on_delete=models.CASCADE, related_name="+")
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        constraints = [
            models.CheckConstraint(
                condition=models.Q(user__isnull=False, team__isnull=True)
                | models.Q(user__isnull=True, team__isnull=False),
                name="subscription_person_or_team",
            ),
            models.UniqueConstraint(
                fields=["incident", "user"],
                condition=models.Q(user__isnull=False),
                name="subscription_user_once",
            ),
            models.UniqueConstraint(
                fields=["incident", "team"],
                condition=models.Q(team__isnull=False),
                name="subscription_team_once",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.user_id or self.team_id} follows {self.incident_id}"


class UpdateDeliveryStatus(models.TextChoices):
    SENDING = "sending", "Sending"
    SENT = "sent", "Sent"
    FAILED = "failed", "Failed, trying again"
    REFUSED = "refused", "Refused (not retried)"


class UpdateDelivery(models.Model):
    """One status update to one chat address: claimed before it is sent, so it goes out once.

    Email copies are claimed in morgue.emails (EmailDelivery) instead.
    """

    update = models.ForeignKey(StatusUpdate, on_delete=models.CASCADE, related_name="deliveries")
    kind = models.CharField(max_length=10, help_text="The oncall.providers sender: slack, teams or webhook.")
    address = models.CharField(max_length=500)
    status = models.CharField(
        max_length=10, choices=UpdateDeliveryStatus, default=UpdateDeliveryStatus.SENDING
    )
    claimed_at = models.DateTimeField(default=timezone.now)
    sent_at = models.DateTimeField(null=True, blank=True)
    attempts = models.PositiveSmallIntegerField(default=1)
    error = models.CharField(max_length=200, blank=True)

    class Meta:
        verbose_name_plural = "update deliveries"
        constraints = [
            models.UniqueConstraint(fields=["update", "kind", "address"], name="update_delivered_once")
        ]

    def __str__(self) -> str:
        return f"update {self.update_id} to {self.kind}"


def validate_sections(value: object) -> None:
    """A list of {"section": <a postmortem field>, "prompt": "…"}, each section once."""
    from django.core.exceptions import ValidationError

    from .incident import POSTMORTEM_FIELDS

    if not isinstance(value, list) or not value:
        raise ValidationError('List the sections, each as {"section": …, "prompt": …}.')
    seen = set()
    for entry in value:
        if not isinstance(entry, dict) or entry.get("section") not in POSTMORTEM_FIELDS:
            raise ValidationError(f"Each section is one of {', '.join(POSTMORTEM_FIELDS)}, with a prompt.")
        if not isinstance(entry.get("prompt", ""), str):
            raise ValidationError("A prompt is text.")
        if entry["section"] in seen:
            raise ValidationError(f"{entry['section']} is listed twice.")
        seen.add(entry["section"])


def new_public_token() -> str:
    return secrets.token_urlsafe(24)


class PostmortemTemplate(models.Model):
    """Postmortem sections with their prompts, for a severity, a team, both, or every incident."""

    name = models.CharField(max_length=100)
    severity = models.PositiveSmallIntegerField(null=True, blank=True, help_text="Empty: any severity.")
    team = models.ForeignKey("morgue.Team", null=True, blank=True, on_delete=models.CASCADE, related_name="+")
    sections = models.JSONField(
        default=list,
        validators=[validate_sections],
        help_text='The sections in order, each {"section": "what_happened", "prompt": "…"}; '
        "sections left out are not asked for.",
    )

    class Meta:
        ordering = ["name"]

    def __str__(self) -> str:
        return self.name


class RoleChangeDelivery(models.Model):
    """One role change to one chat address (a subscriber's webhook, the incident's channel): sent once.

    The same claim as UpdateDelivery; e-mail copies are claimed in morgue.emails.
    """

    assignment = models.ForeignKey(RoleAssignment, on_delete=models.CASCADE, related_name="deliveries")
    kind = models.CharField(max_length=10, help_text="The oncall.providers sender, or the incident's room.")
    address = models.CharField(max_length=500)
    status = models.CharField(
        max_length=10, choices=UpdateDeliveryStatus, default=UpdateDeliveryStatus.SENDING
    )
    claimed_at = models.DateTimeField(default=timezone.now)
    sent_at = models.DateTimeField(null=True, blank=True)
    attempts = models.PositiveSmallIntegerField(default=1)
    error = models.CharField(max_length=200, blank=True)

    class Meta:
        verbose_name_plural = "role change deliveries"
        constraints = [
            models.UniqueConstraint(
                fields=["assignment", "kind", "address"], name="role_change_delivered_once"
            )
        ]

    def __str__(self) -> str:
        return f"role change {self.assignment_id} to {self.kind}"
