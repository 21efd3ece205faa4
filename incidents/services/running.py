"""Running an incident while it happens: declaring, roles, status updates to subscribers, the public page.

Status updates and role changes fan out through one function, `_fan_out`, to
every subscriber's channels (`subscriber_channels`: e-mail, chat webhooks, a
team's webhook) and to the incident's own chat channel when it has one (a Slack
channel Morgue made, or the Mattermost channel it was declared in; see
incidents.services.rooms). Each copy is claimed before it is sent, so it goes out
once however often the task runs.
"""

import datetime as dt
import logging
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from typing import Any

from django.conf import settings
from django.contrib.auth.models import User
from django.db import IntegrityError, transaction
from django.db.models import F, Q
from django.urls import reverse
from django.utils import timezone

from incidents import redaction
from incidents.models import (
    ROOM_KINDS,
    ChatProvider,
    EventKind,
    Incident,
    IncidentChannel,
    RoleAssignment,
    RoleChangeDelivery,
    RoleKind,
    Status,
    StatusUpdate,
    Subscription,
    TimelineEvent,
    UpdateDelivery,
    UpdateDeliveryStatus,
)
from incidents.models.running import COMMUNICATIONS, LEAD, SCRIBE, new_public_token
from incidents.selectors.running import postmortem_sections
from morgue import permissions
from morgue.emails import send_email
from morgue.exceptions import MorgueError
from morgue.models import Team, display_name
from morgue.tasking import enqueue_on_commit
from oncall import providers
from oncall.models import ContactKind, ContactMethod, Page
from oncall.services.pages import page_team

from . import rooms
from .incident import add_timeline_event, create_incident, update_incident

logger = logging.getLogger(__name__)

DELIVER_TASK = "incidents.tasks.running.deliver_status_update"
DELIVER_ROLE_TASK = "incidents.tasks.running.deliver_role_change"
INVITE_TASK = "incidents.tasks.chat.invite_role_holders"
UPDATE_EMAIL = "incident-status-update"
ROLE_EMAIL = "incident-role-change"
# Published postmortems (as the feed of postmortems says): reviewed or closed.
PUBLISHED = (Status.REVIEWED, Status.CLOSED)
# A claim left "sending" this long belongs to a worker that died mid-send.
CLAIM_LEASE = dt.timedelta(minutes=15)
BUILT_IN_ROLES = {
    LEAD: ("Incident lead", 10),
    COMMUNICATIONS: ("Communications lead", 20),
    SCRIBE: ("Scribe", 30),
}


def _person(by: User | None) -> User | None:
    return by if by is not None and by.is_authenticated else None


# --- Declaring -----------------------------------------------------------------------


@transaction.atomic
def declare_incident(
    *,
    by: User | None,
    title: str,
    severity: int,
    team: Team | None,
    page: Page | None = None,
    page_the_team: bool = False,
    now: dt.datetime | None = None,
    **fields: Any,
) -> Incident:
    """Open an incident now: impact and detection default to now, the declarer leads and follows it.

    Declared from a page, the page records the incident (`Page.incident`) and the
    incident lists it; `page_the_team` pages the team through oncall's page_team.
    """
    now = now or timezone.now()
    if not title.strip():
        raise MorgueError("Give the incident a title.", field="title")
    fields.setdefault("impact_started_at", page.created_at if page is not None else now)
    fields.setdefault("detected_at", max(fields["impact_started_at"], page.created_at if page else now))
    incident = create_incident(by=by, title=title.strip(), severity=severity, team=team, **fields)
    person = _person(by)
    text = f"Declared by {display_name(person)}" if person else "Declared"
    if page is not None:
        Page.objects.filter(pk=page.pk).update(incident=incident)
        text += f" from the page to {page.team.name}"
    add_timeline_event(incident=incident, by=by, occurred_at=now, kind=EventKind.DETECTION, text=text + ".")
    if person is not None:
        assign_role(incident=incident, role=role_kind(LEAD), user=person, by=by, at=now)
        subscribe(incident=incident, user=person)
    if team is not None:
        subscribe(incident=incident, team=team)
    if page_the_team:
        if team is None:
            raise MorgueError("Choose a team to page.", field="team")
        page_team(
            team=team, message=f"Incident declared: {incident.title}", created_by=person, incident=incident
        )
    return incident


# --- Roles ---------------------------------------------------------------------------


def role_kind(slug: str) -> RoleKind:
    """A role by its slug; the built-in ones exist even when a migration's rows were flushed."""
    if slug in BUILT_IN_ROLES:
        name, order = BUILT_IN_ROLES[slug]
        return RoleKind.objects.get_or_create(slug=slug, defaults={"name": name, "order": order})[0]
    try:
        return RoleKind.objects.get(slug=slug)
    except RoleKind.DoesNotExist:
        raise MorgueError(f"{slug} is not a role.", field="role") from None


@transaction.atomic
def assign_role(
    *, incident: Incident, role: RoleKind, user: User, by: User | None, at: dt.datetime | None = None
) -> RoleAssignment:
    """Give `user` the role, handing it over from whoever holds it; both ends go on the timeline."""
    # Checked here, not only by the pages and the API: chat commands run as the chat user's person.
    permissions.require_actor(by, "edit", incident)
    at = at or timezone.now()
    if not user.is_active:
        raise MorgueError(
            f"{user.get_username()} cannot take a role: their account is inactive.", field="user"
        )
    # The incident's row lock serialises two handovers of the same role.
    Incident.objects.select_for_update().filter(pk=incident.pk).first()
    current = (
        RoleAssignment.objects.current().filter(incident=incident, role=role).select_related("user").first()
    )
    if current is not None and current.user_id == user.pk:
        return current
    if current is not None:
        RoleAssignment.objects.filter(pk=current.pk).update(ended_at=at)
        text = f"{role.name} handed over from {display_name(current.user)} to {display_name(user)}."
    else:
        text = f"{display_name(user)} is {role.name.lower()}."
    assignment = RoleAssignment.objects.create(
        incident=incident, role=role, user=user, assigned_at=at, assigned_by=_person(by)
    )
    add_timeline_event(incident=incident, by=by, occurred_at=at, kind=EventKind.ACTION, text=text)
    enqueue_on_commit(DELIVER_ROLE_TASK, assignment.pk)
    room = IncidentChannel.objects.filter(incident=incident, provider=ChatProvider.SLACK).first()
    if room is not None:
        enqueue_on_commit(INVITE_TASK, room.pk)  # the new holder joins the incident's channel
    return assignment


@transaction.atomic
def release_role(
    *, incident: Incident, role: RoleKind, by: User | None, at: dt.datetime | None = None
) -> None:
    """Nobody holds the role any more (recorded on the timeline)."""
    permissions.require_actor(by, "edit", incident)
    at = at or timezone.now()
    current = (
        RoleAssignment.objects.current().filter(incident=incident, role=role).select_related("user").first()
    )
    if current is None:
        return
    RoleAssignment.objects.filter(pk=current.pk).update(ended_at=at)
    add_timeline_event(
        incident=incident,
        by=by,
        occurred_at=at,
        kind=EventKind.ACTION,
        text=f"{display_name(current.user)} is no longer {role.name.lower()}.",
    )


# --- Subscribers ---------------------------------------------------------------------


def subscribe(*, incident: Incident, user: User | None = None, team: Team | None = None) -> Subscription:
    """A person or a team follows the incident (once; following again changes nothing)."""
    if (user is None) == (team is None):
        raise MorgueError("Subscribe a person or a team.", field="team")
    subscription, _ = Subscription.objects.get_or_create(incident=incident, user=user, team=team)
    return subscription


def unsubscribe(*, incident: Incident, user: User | None = None, team: Team | None = None) -> None:
    """Stop following the incident."""
    if (user is None) == (team is None):
        raise MorgueError("Unsubscribe a person or a team.", field="team")
    Subscription.objects.filter(incident=incident, user=user, team=team).delete()


@dataclass(frozen=True)
class Channel:
    """Where one subscriber hears about the incident: `kind` is email or an oncall.providers sender."""

    kind: str
    address: str


def subscriber_channels(*, incident: Incident) -> list[Channel]:
    """Every address the incident's subscribers are told at, each once, in a stable order.

    A person: their account's e-mail and their chat webhooks (Slack-compatible,
    Teams). A team: its e-mail and its webhook. A person who follows it and whose
    team follows it too hears once per address. Last, the incident's own chat
    channel, when it has one (incidents.models.chat.IncidentChannel).
    """
    subscriptions = list(Subscription.objects.filter(incident=incident).select_related("user", "team"))
    user_ids = [subscription.user_id for subscription in subscriptions if subscription.user_id]
    chats: dict[int, list[ContactMethod]] = {}
    for method in ContactMethod.objects.filter(
        user_id__in=user_ids, kind__in=[ContactKind.SLACK, ContactKind.TEAMS]
    ).order_by("pk"):
        chats.setdefault(method.user_id, []).append(method)
    channels: list[Channel] = []
    for subscription in sorted(subscriptions, key=lambda subscription: subscription.pk):
        if subscription.user is not None:
            if not subscription.user.is_active:
                continue
            if subscription.user.email:
                channels.append(Channel("email", subscription.user.email))
            channels += [
                Channel(method.kind, method.address) for method in chats.get(subscription.user.pk, [])
            ]
        elif subscription.team is not None:
            if subscription.team.email:
                channels.append(Channel("email", subscription.team.email))
            if subscription.team.webhook_url:
                channels.append(Channel("webhook", subscription.team.webhook_url))
    room = IncidentChannel.objects.filter(incident=incident).first()
    if room is not None:
        channels.append(Channel(room.room_kind, room.name))
    return list(dict.fromkeys(channels))


# --- Status updates ------------------------------------------------------------------


def _check_public_text(incident: Incident, texts: Iterable[str], field: str) -> None:
    """A public incident's words are published as they are written: refuse what must not be."""
    if not incident.is_public:
        return
    found = [finding for text in texts for finding in redaction.findings(text)]
    if found:
        raise MorgueError(
            f"This incident's page is public; take this out first. {found[0].sentence()}.", field=field
        )


@transaction.atomic
def post_status_update(
    *,
    incident: Incident,
    by: User | None,
    affected: str,
    doing: str,
    next_update_at: dt.datetime | None = None,
    now: dt.datetime | None = None,
) -> StatusUpdate:
    """Publish an update for people outside the response and send it to every subscriber.

    The first one sets "status page updated" when the incident has no such time yet.
    """
    permissions.require_actor(by, "edit", incident)
    now = now or timezone.now()
    if not affected.strip():
        raise MorgueError("Say what is affected.", field="affected")
    if not doing.strip():
        raise MorgueError("Say what is being done.", field="doing")
    if next_update_at is not None and next_update_at <= now:
        raise MorgueError("The next update must be in the future.", field="next_update_at")
    _check_public_text(incident, [affected], "affected")
    _check_public_text(incident, [doing], "doing")
    update = StatusUpdate.objects.create(
        incident=incident,
        posted_at=now,
        author=_person(by),
        affected=affected.strip(),
        doing=doing.strip(),
        next_update_at=next_update_at,
    )
    locked = Incident.objects.select_for_update().get(pk=incident.pk)
    if locked.status_posted_at is None:
        update_incident(
            incident=locked,
            by=by,
            version=None,
            changes={
                "status_posted_at": max(now, locked.impact_started_at),
                "status_posted_source": "The first status update in Morgue",
            },
            note="First status update",
        )
    add_timeline_event(
        incident=incident,
        by=by,
        occurred_at=now,
        kind=EventKind.COMMUNICATION,
        text=f"Status update: {update.affected} — {update.doing}",
    )
    enqueue_on_commit(DELIVER_TASK, update.pk)
    return update


def _update_context(update: StatusUpdate) -> dict[str, Any]:
    incident = update.incident
    return {
        "update": update,
        "incident": incident,
        "link": f"{settings.MORGUE_BASE_URL.rstrip('/')}{incident.get_absolute_url()}",
    }


def _message(update: StatusUpdate) -> providers.Message:
    incident = update.incident
    lines = [f"Affected: {update.affected}", f"What we are doing: {update.doing}"]
    if update.next_update_at is not None:
        lines.append(f"Next update: {timezone.localtime(update.next_update_at):%Y-%m-%d %H:%M %Z}")
    link = f"{settings.MORGUE_BASE_URL.rstrip('/')}{incident.get_absolute_url()}"
    return providers.Message(
        title=f"[sev {incident.severity}] {incident.title}: status update",
        text="\n".join(lines),
        link=link,
        acknowledge_url="",
        extra={
            "event": "incident.status_update",
            "incident": incident.pk,
            "title": incident.title,
            "severity": incident.severity,
            "update": update.pk,
            "posted_at": update.posted_at.isoformat(),
        },
    )


Delivery = UpdateDelivery | RoleChangeDelivery


def _claim(model: type[Delivery], owner: dict[str, Any], channel: Channel) -> Delivery | None:
    """This worker's claim on one chat copy, or None when it went out or another worker holds it.

    `owner` names what is sent ({"update": …} or {"assignment": …}); the unique
    (owner, kind, address) constraint makes the first insert the claim.
    """
    now = timezone.now()
    manager: Any = model.objects
    try:
        with transaction.atomic():
            created: Delivery = manager.create(
                **owner, kind=channel.kind, address=channel.address, claimed_at=now
            )
            return created
    except IntegrityError:
        pass
    retryable = Q(status=UpdateDeliveryStatus.FAILED) | Q(
        status=UpdateDeliveryStatus.SENDING, claimed_at__lt=now - CLAIM_LEASE
    )
    rows = manager.filter(**owner, kind=channel.kind, address=channel.address)
    if not rows.filter(retryable).update(
        status=UpdateDeliveryStatus.SENDING, claimed_at=now, attempts=F("attempts") + 1, error=""
    ):
        return None
    claimed: Delivery = rows.get()
    return claimed


class DeliveryPending(Exception):
    """Some copies failed for a reason that may pass: the task retries, the others stay sent.

    `retry_after` is the wait a chat asked for (Slack's Retry-After), when one did.
    """

    def __init__(self, message: str, *, retry_after: float | None = None) -> None:
        super().__init__(message)
        self.retry_after = retry_after


def _send_chat(incident: Incident, channel: Channel, message: providers.Message) -> None:
    """One copy to a subscriber's chat address or to the incident's own channel; raises DeliveryFailed."""
    if channel.kind in ROOM_KINDS.values():
        room = IncidentChannel.objects.filter(incident=incident).first()
        if room is None:
            raise providers.DeliveryFailed("The incident no longer has a chat channel.", permanent=True)
        rooms.post_to_room(room, message)
    else:
        providers.send(channel.kind, channel.address, message)


def _fan_out(
    *,
    incident: Incident,
    model: type[Delivery],
    owner: dict[str, Any],
    email: str,
    email_key: str,
    context: Callable[[], dict[str, Any]],
    message: Callable[[], providers.Message],
) -> int:
    """Send one thing to every subscriber's channels, each copy claimed once; the number sent now.

    A copy that fails for good (a refused address, a 4xx) is recorded and not
    retried; one that may pass raises DeliveryPending once the others are done.
    """
    sent = 0
    pending: list[str] = []
    retry_after: float | None = None
    for channel in subscriber_channels(incident=incident):
        if channel.kind == "email":
            if send_email(
                name=email,
                key=email_key,
                recipient=channel.address[:200],
                to=[channel.address],
                context=context,
            ):
                sent += 1
            continue
        delivery = _claim(model, owner, channel)
        if delivery is None:
            continue
        rows: Any = model.objects.filter(pk=delivery.pk)
        try:
            _send_chat(incident, channel, message())
        except providers.DeliveryFailed as error:
            status = UpdateDeliveryStatus.FAILED if not error.permanent else UpdateDeliveryStatus.REFUSED
            rows.update(status=status, error=str(error)[:200])
            if not error.permanent:
                pending.append(channel.kind)
            if isinstance(error, rooms.RoomBusy):
                retry_after = max(retry_after or 0, error.retry_after)
            continue
        rows.update(status=UpdateDeliveryStatus.SENT, sent_at=timezone.now())
        sent += 1
    if pending:
        raise DeliveryPending(f"{len(pending)} chat copies to try again.", retry_after=retry_after)
    return sent


def deliver_status_update(*, update_id: int) -> int:
    """Send one update to every subscriber's channels, each copy once; the number sent now.

    Runs outside a transaction (each claim commits before its send).
    """
    update = StatusUpdate.objects.select_related("incident").filter(pk=update_id).first()
    if update is None:
        return 0
    return _fan_out(
        incident=update.incident,
        model=UpdateDelivery,
        owner={"update": update},
        email=UPDATE_EMAIL,
        email_key=f"status-update:{update.pk}",
        context=lambda: _update_context(update),
        message=lambda: _message(update),
    )


def role_change_sentence(assignment: RoleAssignment) -> str:
    """ "Lena is incident lead." or "Incident lead handed over from Pat to Lena.", as the timeline says."""
    before = (
        RoleAssignment.objects.filter(
            incident_id=assignment.incident_id, role_id=assignment.role_id, pk__lt=assignment.pk
        )
        .select_related("user")
        .order_by("-pk")
        .first()
    )
    if before is not None and before.ended_at == assignment.assigned_at:
        return (
            f"{assignment.role.name} handed over from {display_name(before.user)} "
            f"to {display_name(assignment.user)}."
        )
    return f"{display_name(assignment.user)} is {assignment.role.name.lower()}."


def _role_message(assignment: RoleAssignment, sentence: str) -> providers.Message:
    incident = assignment.incident
    return providers.Message(
        title=f"[sev {incident.severity}] {incident.title}: {assignment.role.name.lower()}",
        text=sentence,
        link=f"{settings.MORGUE_BASE_URL.rstrip('/')}{incident.get_absolute_url()}",
        acknowledge_url="",
        extra={
            "event": "incident.role_change",
            "incident": incident.pk,
            "title": incident.title,
            "severity": incident.severity,
            "role": assignment.role.slug,
            "user": assignment.user.get_username(),
            "assigned_at": assignment.assigned_at.isoformat(),
        },
    )


def deliver_role_change(*, assignment_id: int) -> int:
    """Tell every subscriber's channels (and the incident's channel) who took a role; each copy once."""
    assignment = (
        RoleAssignment.objects.select_related("incident", "role", "user").filter(pk=assignment_id).first()
    )
    if assignment is None:
        return 0
    sentence = role_change_sentence(assignment)
    incident = assignment.incident
    return _fan_out(
        incident=incident,
        model=RoleChangeDelivery,
        owner={"assignment": assignment},
        email=ROLE_EMAIL,
        email_key=f"role-change:{assignment.pk}",
        context=lambda: {
            "incident": incident,
            "role": assignment.role.name.lower(),
            "sentence": sentence,
            "at": assignment.assigned_at,
            "link": f"{settings.MORGUE_BASE_URL.rstrip('/')}{incident.get_absolute_url()}",
        },
        message=lambda: _role_message(assignment, sentence),
    )


# --- The public page -----------------------------------------------------------------


def public_findings(*, incident: Incident, postmortem: bool) -> list[redaction.Finding]:
    """What the public page would show that must not be published."""
    texts = [incident.title, *(f"{u.affected}\n{u.doing}" for u in incident.status_updates.all())]
    if postmortem:
        texts += [getattr(incident, name) for name, _, _ in postmortem_sections(incident=incident)]
    return [finding for text in texts for finding in redaction.findings(text)]


@transaction.atomic
def set_public(*, incident: Incident, by: User | None, public: bool, postmortem: bool = False) -> Incident:
    """Show (or hide) the read-only public page, and the postmortem on it once published.

    The page gets an unguessable address the first time; hiding it keeps the
    address, so links sent out work again when it is shown again. Publishing is
    refused while the redaction check finds e-mail or IP addresses, internal host
    names or tokens (incidents.redaction).
    """
    locked = Incident.objects.select_for_update().get(pk=incident.pk)
    if postmortem and not public:
        raise MorgueError("The postmortem is shown only on a public page.", field="postmortem")
    if postmortem and locked.status not in PUBLISHED:
        raise MorgueError("Only a reviewed postmortem can be published.", field="postmortem")
    if public:
        found = public_findings(incident=locked, postmortem=postmortem)
        if found:
            raise MorgueError(
                f"Not published: {found[0].sentence()}. Rephrase it and publish again.",
                field="postmortem" if postmortem else "public",
            )
    locked.is_public = public
    locked.public_postmortem = postmortem
    if public and not locked.public_token:
        locked.public_token = new_public_token()
    locked.save(update_fields=["is_public", "public_postmortem", "public_token"])
    add_timeline_event(
        incident=locked,
        by=by,
        occurred_at=timezone.now(),
        kind=EventKind.COMMUNICATION,
        text=(
            ("Public page shown" + (" with the postmortem." if postmortem else "."))
            if public
            else "Public page hidden."
        ),
    )
    return locked


def public_url(incident: Incident) -> str:
    return reverse("incidents:public", args=[incident.public_token]) if incident.public_token else ""


# --- Starred events ------------------------------------------------------------------


def star_event(*, event: TimelineEvent, starred: bool) -> TimelineEvent:
    """Mark a timeline event as one the postmortem's readers must see (or not)."""
    TimelineEvent.objects.filter(pk=event.pk).update(starred=starred)
    event.starred = starred
    return event
