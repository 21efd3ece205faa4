import datetime as dt

from django.contrib.auth.models import User
from django.db import IntegrityError, transaction

from morgue.exceptions import MorgueError

from ..models import Deploy, DeployLink, EventKind, Incident, TimelineEvent


@transaction.atomic
def record_deploy(
    *,
    stack: str,
    environment: str,
    new_revision: str,
    started_at: dt.datetime,
    old_revision: str = "",
    deployer: str = "",
    finished_at: dt.datetime | None = None,
    diff_url: str = "",
    log_url: str = "",
    message: str = "",
) -> tuple[Deploy, bool]:
    """Record a deploy once; a second report of the same deploy returns the first (created False)."""
    if finished_at is not None and finished_at < started_at:
        raise MorgueError("A deploy cannot finish before it started.", field="finished_at")
    key = {"stack": stack, "environment": environment, "new_revision": new_revision, "started_at": started_at}
    fields = {
        "old_revision": old_revision,
        "deployer": deployer,
        "finished_at": finished_at,
        "diff_url": diff_url,
        "log_url": log_url,
        "message": message,
    }
    existing = Deploy.objects.filter(**key).first()
    if existing is not None:
        return existing, False
    try:
        # A savepoint, so a concurrent report of the same deploy losing the
        # unique-constraint race reads the winner instead of failing.
        with transaction.atomic():
            return Deploy.objects.create(**key, **fields), True
    except IntegrityError:
        return Deploy.objects.get(**key), False


def _deploy_event_text(deploy: Deploy) -> str:
    who = deploy.deployer or "someone"
    revisions = f"{deploy.short_old or '—'} → {deploy.short_new}"
    text = f"Deploy: {deploy.stack} to {deploy.environment} by {who}, {revisions}"
    if deploy.message:
        text += f" ({deploy.message})"
    return text


@transaction.atomic
def link_deploy(*, incident: Incident, deploy: Deploy, user: User | None = None) -> DeployLink:
    """Link a deploy to an incident and put it on the timeline; linking twice is a no-op."""
    link = DeployLink.objects.select_for_update().filter(incident=incident, deploy=deploy).first()
    if link is not None:
        return link
    event = TimelineEvent.objects.create(
        incident=incident,
        occurred_at=deploy.started_at,
        kind=EventKind.DEPLOY,
        text=_deploy_event_text(deploy),
        link=deploy.diff_url or deploy.log_url,
        author=user if user is not None and user.is_authenticated else None,
    )
    try:
        with transaction.atomic():
            return DeployLink.objects.create(
                incident=incident, deploy=deploy, event=event, linked_by=event.author
            )
    except IntegrityError:
        event.delete()
        return DeployLink.objects.get(incident=incident, deploy=deploy)


@transaction.atomic
def unlink_deploy(*, incident: Incident, deploy: Deploy) -> Deploy:
    """Remove a deploy from an incident, and its timeline entry."""
    for link in DeployLink.objects.select_for_update().filter(incident=incident, deploy=deploy):
        if link.event_id:
            TimelineEvent.objects.filter(pk=link.event_id).delete()
        link.delete()
    return deploy
