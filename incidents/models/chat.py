"""The chat channel an incident is run in (a Slack channel Morgue made, or the Mattermost one it began in),
and the Slack user groups kept to who is on call."""

from django.core.exceptions import ValidationError
from django.core.validators import RegexValidator
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


class SlackUserGroup(models.Model):
    """A Slack user group (say `@ops-oncall`) kept to the people now on call for a team, or one rotation.

    `synced_holders` is what was last handled (the Morgue ids of the holders,
    sorted): the beat compares the holders with it, so Slack is only called at a
    handoff, and a conditional UPDATE on it claims each change, so a repeated
    task changes nothing.
    """

    usergroup_id = models.CharField(
        max_length=20,
        unique=True,
        validators=[
            RegexValidator(r"^S[A-Z0-9]{2,19}$", "A Slack user group's id starts with S, like S0614TZR7.")
        ],
        help_text="The user group's id (S…): in Slack, the group's ⋮ menu → Copy group ID.",
    )
    team = models.ForeignKey("morgue.Team", on_delete=models.CASCADE, related_name="+")
    rotation = models.ForeignKey(
        "oncall.Rotation",
        null=True,
        blank=True,
        on_delete=models.CASCADE,
        related_name="+",
        help_text="Only this rotation's holders; empty for the team's (its oldest rotation's, gaps filled).",
    )
    include_l2 = models.BooleanField(default=False, help_text="Also the person holding L2.")
    synced_holders = models.CharField(max_length=200, blank=True, editable=False)
    synced_at = models.DateTimeField(null=True, blank=True, editable=False)
    slack_users = models.CharField(
        max_length=500, blank=True, editable=False, help_text="The Slack users Morgue last set."
    )
    error = models.CharField(max_length=200, blank=True, editable=False)

    class Meta:
        verbose_name = "Slack on-call user group"

    def __str__(self) -> str:
        return f"{self.usergroup_id} ({self.rotation or self.team})"

    def clean(self) -> None:
        if self.rotation is not None and self.team_id and self.rotation.team_id != self.team_id:
            raise ValidationError({"rotation": "The rotation must be one of the team's."})
