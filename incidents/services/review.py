"""Workflows of the postmortem review: facilitator, meeting, calendar invitation and its email."""

import datetime as dt
from collections.abc import Iterable

import icalendar
from django.conf import settings
from django.contrib.auth.models import User
from django.db import transaction
from django.db.models import F
from django.utils import timezone

from incidents.exceptions import ReviewNotReady
from incidents.models import Incident, ReviewMeeting, Status
from morgue.emails import Attachment, send_email, was_sent
from morgue.models import Profile, display_name
from morgue.tasking import enqueue, enqueue_on_commit
from morgue.timezones import zone as zone_named

from .incident import update_incident

# Enqueued by name: tasks import services, never the other way round.
SEND_INVITATION_TASK = "incidents.tasks.review.send_review_invitation"
INVITATION_EMAIL = "review-invitation"


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
    """Schedule (or move) the review meeting; the incident becomes review-scheduled."""
    if incident.status == Status.OPEN:
        raise ReviewNotReady("Resolve the incident before scheduling its review.", field="starts_at")
    if starts_at <= timezone.now():
        raise ReviewNotReady("The review meeting must start in the future.", field="starts_at")
    if not 15 <= duration_minutes <= 480:
        raise ReviewNotReady(
            "A review meeting lasts between 15 minutes and 8 hours.", field="duration_minutes"
        )
    zone_name = Profile.objects.for_user(facilitator).time_zone
    meeting = ReviewMeeting.objects.select_for_update().filter(incident=incident).first()
    now = timezone.now()
    if meeting is None:
        meeting = ReviewMeeting(incident=incident, created_at=now)
    else:
        # A change calendars must pick up: a new SEQUENCE, same UID.
        if (meeting.starts_at, meeting.duration_minutes, meeting.location, meeting.facilitator_id) != (
            starts_at,
            duration_minutes,
            location,
            facilitator.pk,
        ):
            meeting.sequence += 1
    meeting.facilitator = facilitator
    meeting.starts_at = starts_at
    meeting.duration_minutes = duration_minutes
    meeting.location = location
    meeting.time_zone = zone_name
    meeting.updated_at = now
    meeting.save()
    meeting.attendees.set({facilitator, *attendees})
    incident.review = meeting
    changes: dict[str, object] = {"facilitator": facilitator}
    if incident.status == Status.RESOLVED:
        changes["status"] = Status.REVIEW_SCHEDULED
    update_incident(incident=incident, by=by, version=None, changes=changes, note="Review scheduled")
    return meeting


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


def invitation_ics(*, meeting: ReviewMeeting) -> bytes:
    """The meeting as an iCalendar REQUEST, in the facilitator's time zone."""
    incident = meeting.incident
    zone = zone_named(meeting.time_zone)
    url = f"{settings.MORGUE_BASE_URL}{incident.get_absolute_url()}"
    calendar = icalendar.Calendar()
    calendar.add("prodid", "-//Morgue//Postmortem review//EN")
    calendar.add("version", "2.0")
    calendar.add("method", "REQUEST")
    event = icalendar.Event()
    event.add("uid", meeting.uid)
    event.add("sequence", meeting.sequence)
    event.add("dtstamp", meeting.updated_at.astimezone(dt.UTC))
    event.add("dtstart", meeting.starts_at.astimezone(zone))
    event.add("dtend", meeting.ends_at.astimezone(zone))
    event.add("summary", f"Postmortem review: {incident.title}")
    event.add("description", f"Blameless review of incident #{incident.pk}.\n{url}")
    event.add("url", url)
    event.add("status", "CONFIRMED")
    if meeting.location:
        event.add("location", meeting.location)
    organizer = icalendar.vCalAddress(f"mailto:{meeting.facilitator.email or settings.DEFAULT_FROM_EMAIL}")
    organizer.params["cn"] = icalendar.vText(display_name(meeting.facilitator))
    organizer.params["role"] = icalendar.vText("CHAIR")
    event.add("organizer", organizer)
    for person in sorted(meeting.attendees.all(), key=lambda user: user.username):
        if not person.email:
            continue
        attendee = icalendar.vCalAddress(f"mailto:{person.email}")
        attendee.params["cn"] = icalendar.vText(display_name(person))
        attendee.params["role"] = icalendar.vText("REQ-PARTICIPANT")
        attendee.params["partstat"] = icalendar.vText("NEEDS-ACTION")
        attendee.params["rsvp"] = icalendar.vText("TRUE")
        event.add("attendee", attendee, encode=False)
    calendar.add_component(event)
    calendar.add_missing_timezones()
    ical: bytes = calendar.to_ical()  # untyped in icalendar
    return ical


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
    zone = zone_named(meeting.time_zone)
    context = {
        "meeting": meeting,
        "incident": meeting.incident,
        "local_start": meeting.starts_at.astimezone(zone),
        "zone_name": meeting.time_zone,
        "facilitator_name": display_name(meeting.facilitator),
        "url": f"{settings.MORGUE_BASE_URL}{meeting.incident.get_absolute_url()}",
    }
    calendar = Attachment(
        "review.ics", invitation_ics(meeting=meeting), "text/calendar; method=REQUEST; charset=utf-8"
    )
    delivery = send_email(
        name=INVITATION_EMAIL,
        key=str(meeting_id),
        sequence=sequence,
        to=recipients,
        context=context,
        attachments=[calendar],
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
