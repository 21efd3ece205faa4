"""The Slack Web API calls of an incident's channel, after the change that asked for them commits."""

from celery import Task, shared_task

from incidents.services import chat_channel as services
from incidents.services import slack_groups

MAX_RETRIES = 8


def _countdown(task: Task, error: services.ChatPending) -> float:
    # Slack's Retry-After is waited out exactly (never sooner); otherwise back off 30 s, 60 s … 10 min.
    if error.retry_after is not None:
        return max(error.retry_after, 1.0)
    return min(600.0, 30.0 * 2**task.request.retries)


@shared_task(bind=True, acks_late=True, max_retries=MAX_RETRIES)
def set_up_slack_channel(self: Task, room_id: int) -> bool:
    """Create the incident's channel, invite the role holders, post the card (each step once)."""
    try:
        return services.set_up_slack_channel(room_id=room_id) is not None
    except services.ChatPending as error:
        raise self.retry(exc=error, countdown=_countdown(self, error)) from error


@shared_task(bind=True, acks_late=True, max_retries=MAX_RETRIES)
def invite_role_holders(self: Task, room_id: int) -> None:
    """Invite whoever holds a role now to the incident's channel."""
    try:
        services.invite_role_holders(room_id=room_id)
    except services.ChatPending as error:
        raise self.retry(exc=error, countdown=_countdown(self, error)) from error


@shared_task(bind=True, acks_late=True, max_retries=MAX_RETRIES)
def pull_channel_history(self: Task, room_id: int) -> int:
    """Import the channel's messages into the timeline; the number of new events."""
    try:
        result = services.pull_channel_history(room_id=room_id)
    except services.ChatPending as error:
        raise self.retry(exc=error, countdown=_countdown(self, error)) from error
    return result.imported if result is not None else 0


@shared_task
def requeue_lost_channel_setups() -> int:
    """Beat sweep: enqueue again the Slack channel setups whose task was lost."""
    return len(services.requeue_lost_channel_setups())


@shared_task(bind=True, acks_late=True, max_retries=MAX_RETRIES)
def sync_slack_user_group(self: Task, group_id: int) -> None:
    """Set a Slack user group to the people on call now (nothing when they already are)."""
    try:
        slack_groups.sync_user_group(group_id=group_id)
    except services.ChatPending as error:
        raise self.retry(exc=error, countdown=_countdown(self, error)) from error


@shared_task
def sync_slack_user_groups() -> int:
    """Beat: enqueue the sync of each Slack user group whose on-call holders changed."""
    return len(slack_groups.enqueue_user_group_syncs())
