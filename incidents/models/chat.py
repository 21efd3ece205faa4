"""The chat channel an incident is run in: a Slack channel Morgue made, or the Mattermost one it began in."""

from django.db import models
from django.utils import timezone


class ChatProvider(models.TextChoices):
    SLACK = "slack", "Slack"
    MATTERMOST = "mattermost", "Mattermost"


class ChannelSetup(models.TextChoices):
    PENDING = "pending", "Waiting for a worker"
    SENDING = "sending", "Being set up"
    DONE = "done", "Set up"
    FAILED = "failed", "Failed, trying again"
    REFUSED = "refused", "Refused by the chat (not retried)"


# Kinds of subscriber channel (incidents.services.running.Channel) that post to an incident's room.
ROOM_KINDS = {ChatProvider.SLACK: "slack-room", ChatProvider.MATTERMOST: "mm-room"}


class IncidentChannel(models.Model):
    """Where the incident is talked about: status updates and role changes are posted there.

    For Slack, Morgue creates the channel (`#inc-<id>-<slug>`), invites the role
    holders and posts the incident's card, each step recorded here as it is done,
    so a retried setup does only what is left. `setup` is claimed like a delivery
    (a conditional UPDATE), so one worker sets it up at a time. For Mattermost the
    channel is the one the incident was declared in, and posts go through the
    incoming webhook, so there is nothing to set up.
    """

    incident = models.OneToOneField(
        "incidents.Incident", on_delete=models.CASCADE, related_name="chat_channel"
    )
    provider = models.CharField(max_length=20, choices=ChatProvider)
    # Slack: the channel's id (C…), empty until it is created. Mattermost: the channel's name.
    channel_id = models.CharField(max_length=100, blank=True)
    name = models.CharField(max_length=80)
    setup = models.CharField(max_length=10, choices=ChannelSetup, default=ChannelSetup.PENDING)
    claimed_at = models.DateTimeField(null=True, blank=True)
    attempts = models.PositiveSmallIntegerField(default=0)
    error = models.CharField(max_length=200, blank=True)
    invited = models.BooleanField(default=False)
    card_ts = models.CharField(
        max_length=40, blank=True, help_text="The Slack timestamp of the incident card."
    )
    created_at = models.DateTimeField(default=timezone.now)
    history_pulled_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        indexes = [models.Index(fields=["provider", "channel_id"], name="incident_channel_lookup")]

    def __str__(self) -> str:
        return f"#{self.name} ({self.get_provider_display()})"

    @property
    def room_kind(self) -> str:
        return ROOM_KINDS[ChatProvider(self.provider)]
