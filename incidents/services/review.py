"""Workflows of the postmortem review: facilitator, meeting, calendar invitations, cancellations, emails."""

import datetime as dt
from collections.abc import Iterable, Sequence
from email.utils import parseaddr
from typing import Any

import icalendar
from django.conf import settings
from django.contrib.auth.models import User
from django.db import transaction
from django.db.models import F, Max
from django.utils import timezone

from incidents.exceptions import ReviewNotReady
from incidents.models import CancellationReason, Incident, ReviewCancellation, ReviewMeeting, Status
from morgue import vtimezone
from morgue.emails import Alternative, Attachment, on_behalf_of, send_email, was_sent
from morgue.models import Profile, display_name
from morgue.tasking import enqueue, enqueue_on_commit
from morgue.timezones import zone as zone_named

from .incident import update_incident

# Enqueued by name: tasks import services, never the other way round.
SEND_INVITATION_TASK = "incidents.tasks.review.send_review_invitation"
SEND_CANCELLATION_TASK = "incidents.tasks.review.send_review_cancellation"
INVITATION_EMAIL = "review-invitation"
CANCELLATION_EMAIL = "review-cancellation"


@transaction.atomic
def schedule_review(
    *,
    incident: Incident,
    facilitator: User,
    starts_at: dt.datetime,
    by: User,
    attendees: Iterable[User] = (),
    duration_minutes: int = 60,
    location: str = "",
) -> ReviewMeeting:
    """Schedule (or move) the review meeting; the incident becomes review-scheduled.

    People dropped from a meeting they were invited to are sent a cancellation.
    """
    # The stored status, not the caller's copy of it (which may predate an unscheduling).
    status = _locked_status(incident)
    if status == Status.OPEN:
        raise ReviewNotReady("Resolve the incident before scheduling its review.", field="starts_at")
    if starts_at <= timezone.now():
        raise ReviewNotReady("The review meeting must start in the future.", field="starts_at")
    if not 15 <= duration_minutes <= 480:
        raise ReviewNotReady(
            "A review meeting lasts between 15 minutes and 8 hours.", field="duration_minutes"
        )
    zone_name = Profile.objects.for_user(facilitator).time_zone
    people = {facilitator, *attendees}
    meeting = ReviewMeeting.objects.select_for_update().filter(incident=incident).first()
    now = timezone.now()
    if meeting is None:
        # Same UID as any review of this incident called off before: calendars
        # that were told of its cancellation only take a higher SEQUENCE.
        meeting = ReviewMeeting(incident=incident, created_at=now, sequence=_next_sequence(incident))
    else:
        moved = (meeting.starts_at, meeting.duration_minutes, meeting.location, meeting.facilitator_id) != (
            starts_at,
            duration_minutes,
            location,
            facilitator.pk,
        )
        dropped = [person for person in meeting.attendees.all() if person not in people]
        told = dropped if _was_invited(meeting) else []
        # A change calendars must pick up: a new SEQUENCE, same UID.
        if moved or told:
            meeting.sequence += 1
        if told:
            # Described as it was: the event the dropped people have in their calendars.
            _record_cancellation(
                meeting, reason=CancellationReason.REMOVED, people=told, sequence=meeting.sequence
            )
    meeting.facilitator = facilitator
    meeting.starts_at = starts_at
    meeting.duration_minutes = duration_minutes
    meeting.location = location
    meeting.time_zone = zone_name
    meeting.updated_at = now
    meeting.save()
    meeting.attendees.set(people)
    incident.review = meeting
    changes: dict[str, object] = {"facilitator": facilitator}
    if status == Status.RESOLVED:
        changes["status"] = Status.REVIEW_SCHEDULED
    update_incident(incident=incident, by=by, version=None, changes=changes, note="Review scheduled")
    return meeting


@transaction.atomic
def unschedule_review(*, incident: Incident, by: User) -> Incident:
    """Call the review meeting off: invited attendees get a cancellation; the incident is resolved again."""
    meeting = ReviewMeeting.objects.select_for_update().filter(incident=incident).first()
    if meeting is None:
        raise ReviewNotReady("No review meeting is scheduled for this incident.")
    if meeting.has_started:
        raise ReviewNotReady("The review meeting has already started; it can no longer be unscheduled.")
    _call_off(meeting, reason=CancellationReason.UNSCHEDULED)
    return _resolve_again(incident=incident, by=by, note="Review unscheduled")


@transaction.atomic
def call_off_review_of_deleted(*, incident: Incident, by: User) -> None:
    """A deleted incident's upcoming review is called off, as if unscheduled (a past one stays on record)."""
    meeting = ReviewMeeting.objects.select_for_update().filter(incident=incident).first()
    if meeting is None or meeting.has_started:
        return
    _call_off(meeting, reason=CancellationReason.INCIDENT_DELETED)
    _resolve_again(incident=incident, by=by, note="Review called off: incident deleted")


def _resolve_again(*, incident: Incident, by: User, note: str) -> Incident:
    # Review-scheduled needs a meeting (Incident.move_to): without one the incident is resolved again.
    changes = {"status": Status.RESOLVED} if _locked_status(incident) == Status.REVIEW_SCHEDULED else {}
    return update_incident(incident=incident, by=by, version=None, changes=changes, note=note)


def _locked_status(incident: Incident) -> str:
    return Incident.objects.select_for_update().values_list("status", flat=True).get(pk=incident.pk)


def _call_off(meeting: ReviewMeeting, *, reason: str) -> None:
    """Delete the meeting, recording its cancellation for everyone who may have it in a calendar."""
    people = list(meeting.attendees.all()) if _was_invited(meeting) else []
    # Recorded even when nobody is told: a review scheduled again continues after this SEQUENCE.
    _record_cancellation(meeting, reason=reason, people=people, sequence=meeting.sequence + 1)
    meeting.delete()


def _was_invited(meeting: ReviewMeeting) -> bool:
    """Whether an invitation was ever asked for: only then can anyone have the meeting in a calendar."""
    return meeting.requested_sequence >= 0 or meeting.sent_sequence >= 0


def _next_sequence(incident: Incident) -> int:
    latest = ReviewCancellation.objects.filter(incident=incident).aggregate(latest=Max("sequence"))["latest"]
    return 0 if latest is None else latest + 1


def _record_cancellation(
    meeting: ReviewMeeting, *, reason: str, people: Sequence[User], sequence: int
) -> ReviewCancellation:
    cancellation = ReviewCancellation.objects.create(
        incident_id=meeting.incident_id,
        reason=reason,
        sequence=sequence,
        facilitator_id=meeting.facilitator_id,
        starts_at=meeting.starts_at,
        duration_minutes=meeting.duration_minutes,
        time_zone=meeting.time_zone,
        location=meeting.location,
    )
    cancellation.attendees.set(people)
    enqueue_on_commit(SEND_CANCELLATION_TASK, cancellation.pk)
    return cancellation


@transaction.atomic
def request_invitation(*, meeting: ReviewMeeting) -> ReviewMeeting:
    """Email the invitation to every attendee after commit; asking again re-sends it as a new sequence."""
    meeting = ReviewMeeting.objects.select_for_update().get(pk=meeting.pk)
    if not meeting.invitation_pending:
        # Already sent (someone lost it): the same event, a higher SEQUENCE.
        meeting.sequence += 1
        meeting.updated_at = timezone.now()
    meeting.requested_sequence = meeting.sequence
    meeting.invitation_requested_at = timezone.now()
    meeting.save(update_fields=["sequence", "updated_at", "requested_sequence", "invitation_requested_at"])
    sequence = meeting.sequence
    enqueue_on_commit(SEND_INVITATION_TASK, meeting.pk, sequence)
    return meeting


def resend_lost_invitations(*, older_than: dt.timedelta = dt.timedelta(minutes=10)) -> int:
    """Enqueue again every requested invitation not sent after `older_than` (its task was lost)."""
    now = timezone.now()
    lost = ReviewMeeting.objects.filter(
        sent_sequence__lt=F("requested_sequence"),
        requested_sequence=F("sequence"),
        invitation_requested_at__lt=now - older_than,
        starts_at__gt=now,
    ).values_list("pk", "sequence")
    count = 0
    for meeting_id, sequence in lost:
        enqueue(SEND_INVITATION_TASK, meeting_id, sequence)
        count += 1
    return count


def resend_lost_cancellations(*, older_than: dt.timedelta = dt.timedelta(minutes=10)) -> int:
    """Enqueue again every cancellation not sent after `older_than` whose meeting was still to come."""
    now = timezone.now()
    lost = ReviewCancellation.objects.filter(
        sent_at__isnull=True, created_at__lt=now - older_than, starts_at__gt=now
    ).values_list("pk", flat=True)
    count = 0
    for cancellation_id in lost:
        enqueue(SEND_CANCELLATION_TASK, cancellation_id)
        count += 1
    return count


def invitation_ics(*, meeting: ReviewMeeting) -> bytes:
    """The meeting as an iCalendar REQUEST, in the facilitator's time zone."""
    attendees = sorted(meeting.attendees.all(), key=lambda user: user.username)
    return _calendar(
        method="REQUEST",
        status="CONFIRMED",
        incident=meeting.incident,
        uid=meeting.uid,
        sequence=meeting.sequence,
        stamp=meeting.updated_at,
        starts_at=meeting.starts_at,
        ends_at=meeting.ends_at,
        time_zone=meeting.time_zone,
        location=meeting.location,
        facilitator=meeting.facilitator,
        attendees=attendees,
    )


def cancellation_ics(*, cancellation: ReviewCancellation) -> bytes:
    """The cancellation as an iCalendar CANCEL of the same event (UID), for the people it tells."""
    attendees = sorted(cancellation.attendees.all(), key=lambda user: user.username)
    return _calendar(
        method="CANCEL",
        status="CANCELLED",
        incident=cancellation.incident,
        uid=cancellation.uid,
        sequence=cancellation.sequence,
        stamp=cancellation.created_at,
        starts_at=cancellation.starts_at,
        ends_at=cancellation.ends_at,
        time_zone=cancellation.time_zone,
        location=cancellation.location,
        facilitator=cancellation.facilitator,
        attendees=attendees,
    )


def _calendar(
    *,
    method: str,
    status: str,
    incident: Incident,
    uid: str,
    sequence: int,
    stamp: dt.datetime,
    starts_at: dt.datetime,
    ends_at: dt.datetime,
    time_zone: str,
    location: str,
    facilitator: Any,
    attendees: Sequence[Any],
) -> bytes:
    url = f"{settings.MORGUE_BASE_URL}{incident.get_absolute_url()}"
    calendar = icalendar.Calendar()
    calendar.add("prodid", "-//Morgue//Postmortem review//EN")
    calendar.add("version", "2.0")
    calendar.add("method", method)
    zone = zone_named(time_zone)
    rule = vtimezone.exact_rule(zone.key, [starts_at, ends_at])
    if rule is None or (not rule.has_daylight and not rule.standard_offset):
        # UTC, which every calendar reads right: no VTIMEZONE says this zone
        # exactly (morgue.vtimezone), or it is UTC all year anyway.
        start, end = starts_at.astimezone(dt.UTC), ends_at.astimezone(dt.UTC)
    else:
        start, end = starts_at.astimezone(zone), ends_at.astimezone(zone)
        calendar.add_component(icalendar.Timezone.from_ical(vtimezone.vtimezone(zone.key, rule)))
    event = icalendar.Event()
    event.add("uid", uid)
    event.add("sequence", sequence)
    event.add("dtstamp", stamp.astimezone(dt.UTC))
    event.add("dtstart", start)
    event.add("dtend", end)
    event.add("summary", f"Postmortem review: {incident.title}")
    event.add("description", f"Blameless review of incident #{incident.pk}.\n{url}")
    event.add("url", url)
    event.add("status", status)
    if location:
        event.add("location", location)
    server_address = parseaddr(settings.DEFAULT_FROM_EMAIL)[1]
    if facilitator is not None and facilitator.email:
        organizer = icalendar.vCalAddress(f"mailto:{facilitator.email}")
        # The server sends on the facilitator's behalf (the email's From is its own address).
        organizer.params["sent-by"] = icalendar.vText(f"mailto:{server_address}")
    else:
        organizer = icalendar.vCalAddress(f"mailto:{server_address}")
    if facilitator is not None:
        organizer.params["cn"] = icalendar.vText(display_name(facilitator))
        organizer.params["role"] = icalendar.vText("CHAIR")
    event.add("organizer", organizer)
    for person in attendees:
        if not person.email:
            continue
        attendee = icalendar.vCalAddress(f"mailto:{person.email}")
        attendee.params["cn"] = icalendar.vText(display_name(person))
        attendee.params["role"] = icalendar.vText("REQ-PARTICIPANT")
        attendee.params["partstat"] = icalendar.vText("NEEDS-ACTION")
        attendee.params["rsvp"] = icalendar.vText("TRUE" if method == "REQUEST" else "FALSE")
        event.add("attendee", attendee, encode=False)
    calendar.add_component(event)
    ical: bytes = calendar.to_ical()  # untyped in icalendar
    return ical


def _email_context(
    *,
    incident: Incident,
    starts_at: dt.datetime,
    duration_minutes: int,
    time_zone: str,
    location: str,
    facilitator: Any,
) -> dict[str, Any]:
    return {
        "incident": incident,
        "local_start": starts_at.astimezone(zone_named(time_zone)),
        "zone_name": time_zone,
        "duration_minutes": duration_minutes,
        "location": location,
        "facilitator_name": display_name(facilitator) if facilitator is not None else "",
        "url": f"{settings.MORGUE_BASE_URL}{incident.get_absolute_url()}",
    }


def _sender(facilitator: Any) -> dict[str, Any]:
    """From the server's own address (mail systems refuse other senders), on behalf of the facilitator."""
    if facilitator is None:
        return {}
    return {
        "from_email": on_behalf_of(display_name(facilitator)),
        "reply_to": [facilitator.email] if facilitator.email else [],
    }


def _calendar_parts(ics: bytes, *, method: str) -> dict[str, Any]:
    # Inline as an alternative of the body, which mail clients turn into
    # accept/decline buttons, and attached as a file for the rest (as an
    # application/ics, so no client processes the same message twice).
    return {
        "alternatives": [Alternative(ics.decode(), f"text/calendar; method={method}")],
        "attachments": [Attachment("review.ics", ics, "application/ics")],
    }


def deliver_invitation(*, meeting_id: int, sequence: int) -> bool:
    """Send the invitation of this sequence once; False when it was already sent (or superseded)."""
    meeting = (
        ReviewMeeting.objects.select_related("incident", "facilitator")
        .filter(pk=meeting_id, sequence=sequence)
        .first()
    )
    if meeting is None or not meeting.invitation_pending:
        return False
    recipients = sorted({person.email for person in meeting.attendees.all() if person.email})
    if not recipients:
        # Nobody to invite: the sequence counts as sent, so the sweep lets it be.
        _record_invitation_sent(meeting_id=meeting_id, sequence=sequence)
        return False
    context = {
        "meeting": meeting,
        **_email_context(
            incident=meeting.incident,
            starts_at=meeting.starts_at,
            duration_minutes=meeting.duration_minutes,
            time_zone=meeting.time_zone,
            location=meeting.location,
            facilitator=meeting.facilitator,
        ),
    }
    delivery = send_email(
        name=INVITATION_EMAIL,
        key=str(meeting_id),
        sequence=sequence,
        to=recipients,
        context=context,
        **_calendar_parts(invitation_ics(meeting=meeting), method="REQUEST"),
        **_sender(meeting.facilitator),
    )
    # Recorded on the meeting also when an earlier run sent it but stopped before recording it.
    if delivery is not None or was_sent(name=INVITATION_EMAIL, key=str(meeting_id), sequence=sequence):
        _record_invitation_sent(meeting_id=meeting_id, sequence=sequence)
    return delivery is not None


def _record_invitation_sent(*, meeting_id: int, sequence: int) -> None:
    # Never back to an older sequence: a late task of one must not undo a newer send.
    ReviewMeeting.objects.filter(pk=meeting_id, sent_sequence__lt=sequence).update(
        sent_sequence=sequence, invitation_sent_at=timezone.now()
    )


def deliver_cancellation(*, cancellation_id: int) -> bool:
    """Send a cancellation once; False when it was already sent or nobody is to be told."""
    cancellation = (
        ReviewCancellation.objects.select_related("incident", "facilitator")
        .filter(pk=cancellation_id, sent_at__isnull=True)
        .first()
    )
    if cancellation is None:
        return False
    recipients = sorted({person.email for person in cancellation.attendees.all() if person.email})
    key = str(cancellation_id)
    if not recipients:
        _record_cancellation_sent(cancellation_id=cancellation_id)
        return False
    context = {
        "cancellation": cancellation,
        **_email_context(
            incident=cancellation.incident,
            starts_at=cancellation.starts_at,
            duration_minutes=cancellation.duration_minutes,
            time_zone=cancellation.time_zone,
            location=cancellation.location,
            facilitator=cancellation.facilitator,
        ),
    }
    delivery = send_email(
        name=CANCELLATION_EMAIL,
        key=key,
        sequence=cancellation.sequence,
        to=recipients,
        context=context,
        **_calendar_parts(cancellation_ics(cancellation=cancellation), method="CANCEL"),
        **_sender(cancellation.facilitator),
    )
    if delivery is not None or was_sent(name=CANCELLATION_EMAIL, key=key, sequence=cancellation.sequence):
        _record_cancellation_sent(cancellation_id=cancellation_id)
    return delivery is not None


def _record_cancellation_sent(*, cancellation_id: int) -> None:
    ReviewCancellation.objects.filter(pk=cancellation_id, sent_at__isnull=True).update(sent_at=timezone.now())
