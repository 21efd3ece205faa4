"""Calling a review meeting off: dropped attendees, unscheduling, a deleted incident (METHOD:CANCEL)."""

import datetime as dt
from unittest import mock

import icalendar
import pytest
import time_machine
from django.core import mail

from incidents.exceptions import ReviewNotReady, StatusChangeRefused
from incidents.models import ReviewCancellation, ReviewMeeting, Revision, Status
from incidents.services.incident import change_status, delete_incident
from incidents.services.review import request_invitation, schedule_review, unschedule_review
from incidents.tasks.review import (
    send_review_cancellation,
    send_review_invitation,
    sweep_review_invitations,
)
from morgue.celery import app
from tests.factories import IncidentFactory, ProfileFactory, UserFactory

pytestmark = pytest.mark.django_db

NOW = dt.datetime(2026, 3, 6, 15, 0, tzinfo=dt.UTC)
STARTS = NOW + dt.timedelta(days=3)


@pytest.fixture
def facilitator():
    return ProfileFactory(
        user=UserFactory(username="dana", email="dana@example.com", first_name="Dana", last_name="Reyes"),
        time_zone="Europe/London",
    ).user


@pytest.fixture
def guest():
    return ProfileFactory(user=UserFactory(username="gil", email="gil@example.com")).user


@pytest.fixture
def incident():
    return IncidentFactory(
        title="Queue backlog",
        status=Status.RESOLVED,
        impact_started_at=NOW - dt.timedelta(hours=3),
        detected_at=NOW - dt.timedelta(hours=2),
        resolved_at=NOW - dt.timedelta(hours=1),
    )


@pytest.fixture
def invited(incident, facilitator, person, guest):
    """A meeting whose invitation went out to the facilitator, `person` and `guest`."""
    with time_machine.travel(NOW, tick=False):
        meeting = schedule_review(
            incident=incident, facilitator=facilitator, starts_at=STARTS, attendees=[person, guest], by=person
        )
        request_invitation(meeting=meeting)
        assert send_review_invitation(meeting.pk, 0) is True
    mail.outbox.clear()
    return meeting


def calendar_of(message) -> icalendar.Calendar:
    """The text/calendar alternative, as calendar clients read it."""
    (content,) = [
        content for content, mimetype in message.alternatives if mimetype.startswith("text/calendar")
    ]
    return icalendar.Calendar.from_ical(content)


def the_event(message) -> icalendar.Event:
    (event,) = calendar_of(message).walk("VEVENT")
    return event


def attendees_of(event) -> set[str]:
    attendees = event.get("ATTENDEE", [])
    # icalendar gives one ATTENDEE as itself, several as a list.
    return {str(attendee) for attendee in (attendees if isinstance(attendees, list) else [attendees])}


@time_machine.travel(NOW, tick=False)
def test_a_dropped_attendee_is_sent_a_cancellation_of_the_same_event(
    invited, facilitator, person, guest, django_capture_on_commit_callbacks
):
    with (
        mock.patch.object(app, "send_task") as send_task,
        django_capture_on_commit_callbacks(execute=False) as callbacks,
    ):
        moved = schedule_review(
            incident=invited.incident,
            facilitator=facilitator,
            starts_at=STARTS,
            attendees=[person],
            by=person,
        )
    send_task.assert_not_called()
    with mock.patch.object(app, "send_task") as send_task:
        for callback in callbacks:
            callback()
    cancellation = ReviewCancellation.objects.get()
    # Enqueued by name once the transaction commits.
    send_task.assert_called_once_with(send_review_cancellation.name, args=(cancellation.pk,))

    assert send_review_cancellation(cancellation.pk) is True
    assert send_review_cancellation(cancellation.pk) is False

    assert moved.sequence == 1 and cancellation.sequence == 1
    (message,) = mail.outbox
    assert message.to == ["gil@example.com"]
    assert message.subject.startswith("Cancelled: Postmortem review: Queue backlog")
    assert calendar_of(message)["METHOD"] == "CANCEL"
    event = the_event(message)
    assert (str(event["UID"]), int(event["SEQUENCE"]), str(event["STATUS"])) == (invited.uid, 1, "CANCELLED")
    assert attendees_of(event) == {"mailto:gil@example.com"}
    assert event["DTSTART"].dt == STARTS
    cancellation.refresh_from_db()
    assert cancellation.sent_at is not None


@time_machine.travel(NOW, tick=False)
def test_dropping_someone_who_was_never_invited_tells_nobody(incident, facilitator, person, guest):
    meeting = schedule_review(
        incident=incident, facilitator=facilitator, starts_at=STARTS, attendees=[person, guest], by=person
    )

    again = schedule_review(
        incident=incident, facilitator=facilitator, starts_at=STARTS, attendees=[person], by=person
    )

    assert again.pk == meeting.pk and again.sequence == 0
    assert not ReviewCancellation.objects.exists()


@time_machine.travel(NOW, tick=False)
def test_unscheduling_cancels_the_meeting_for_everyone_and_resolves_the_incident_again(invited, person):
    incident = unschedule_review(incident=invited.incident, by=person)

    assert incident.status == Status.RESOLVED
    assert not ReviewMeeting.objects.exists()
    assert Revision.objects.filter(incident=incident).latest("number").note == "Review unscheduled"
    cancellation = ReviewCancellation.objects.get()
    assert send_review_cancellation(cancellation.pk) is True
    (message,) = mail.outbox
    assert sorted(message.to) == ["dana@example.com", "gil@example.com", person.email]
    event = the_event(message)
    assert (str(event["UID"]), int(event["SEQUENCE"]), str(event["STATUS"])) == (invited.uid, 1, "CANCELLED")
    assert attendees_of(event) == {
        "mailto:dana@example.com",
        "mailto:gil@example.com",
        f"mailto:{person.email}",
    }
    # Review-scheduled needs a meeting (Incident.move_to): it cannot be set back by hand.
    with pytest.raises(StatusChangeRefused):
        change_status(incident=incident, status=Status.REVIEW_SCHEDULED, by=person)


@time_machine.travel(NOW, tick=False)
def test_a_review_scheduled_again_continues_the_calendar_sequence(invited, facilitator, person):
    unschedule_review(incident=invited.incident, by=person)

    again = schedule_review(incident=invited.incident, facilitator=facilitator, starts_at=STARTS, by=person)

    # The calendars were told of sequence 1 (the cancellation): a lower one would read as out of date.
    assert (again.uid, again.sequence) == (invited.uid, 2)
    again.incident.refresh_from_db()
    assert again.incident.status == Status.REVIEW_SCHEDULED


@time_machine.travel(NOW, tick=False)
def test_a_meeting_that_has_started_or_was_never_scheduled_cannot_be_unscheduled(invited, incident, person):
    with pytest.raises(ReviewNotReady, match="No review meeting"):
        unschedule_review(incident=IncidentFactory(status=Status.RESOLVED, resolved_at=NOW), by=person)
    with (
        time_machine.travel(STARTS + dt.timedelta(minutes=5), tick=False),
        pytest.raises(ReviewNotReady, match="already started"),
    ):
        unschedule_review(incident=incident, by=person)
    assert ReviewMeeting.objects.filter(pk=invited.pk).exists()
    assert not ReviewCancellation.objects.exists()


@time_machine.travel(NOW, tick=False)
def test_deleting_an_incident_calls_its_coming_review_off(invited, staff):
    incident = delete_incident(incident=invited.incident, by=staff)
    delete_incident(incident=incident, by=staff)  # deleting again tells nobody twice

    assert incident.is_deleted and incident.status == Status.RESOLVED
    assert not ReviewMeeting.objects.exists()
    cancellation = ReviewCancellation.objects.get()
    assert cancellation.reason == "incident-deleted"
    assert send_review_cancellation(cancellation.pk) is True
    (message,) = mail.outbox
    assert "the incident was deleted" in message.body
    assert str(the_event(message)["STATUS"]) == "CANCELLED"


def test_deleting_an_incident_leaves_a_review_already_held_on_record(invited, staff):
    with time_machine.travel(STARTS + dt.timedelta(days=1), tick=False):
        delete_incident(incident=invited.incident, by=staff)

    assert ReviewMeeting.objects.filter(pk=invited.pk).exists()
    assert not ReviewCancellation.objects.exists()


def test_the_sweep_enqueues_a_cancellation_whose_task_was_lost(invited, person):
    with time_machine.travel(NOW, tick=False):
        unschedule_review(incident=invited.incident, by=person)  # its on-commit task never runs here
    cancellation = ReviewCancellation.objects.get()
    with (
        time_machine.travel(NOW + dt.timedelta(minutes=11), tick=False),
        mock.patch.object(app, "send_task") as send_task,
    ):
        assert sweep_review_invitations() == 1
    send_task.assert_called_once_with(send_review_cancellation.name, args=(cancellation.pk,))
    with time_machine.travel(NOW + dt.timedelta(minutes=12), tick=False):
        send_review_cancellation(cancellation.pk)
    with time_machine.travel(NOW + dt.timedelta(minutes=30), tick=False):
        assert sweep_review_invitations() == 0


@time_machine.travel(NOW, tick=False)
def test_the_api_unschedules_the_review(invited, api):
    response = api.post(f"/api/v1/incidents/{invited.incident_id}/unschedule-review/")

    assert response.status_code == 200, response.content
    assert response.json()["status"] == "resolved"
    again = api.post(f"/api/v1/incidents/{invited.incident_id}/unschedule-review/")
    assert again.status_code == 400
    assert "No review meeting is scheduled" in again.content.decode()
    assert ReviewCancellation.objects.count() == 1


@time_machine.travel(NOW, tick=False)
def test_the_incident_page_unschedules_the_review_after_a_confirmation(invited, browser_client):
    page = browser_client.get(f"/incidents/{invited.incident_id}/")
    html = page.content.decode()
    assert "Unschedule review" in html
    assert f'action="/incidents/{invited.incident_id}/review/unschedule/"' in html

    response = browser_client.post(f"/incidents/{invited.incident_id}/review/unschedule/", follow=True)

    assert response.redirect_chain == [(f"/incidents/{invited.incident_id}/", 302)]
    html = response.content.decode()
    assert "Review unscheduled." in html and "Not scheduled." in html
    assert "Unschedule review" not in html
    assert ReviewCancellation.objects.count() == 1


@time_machine.travel(NOW, tick=False)
def test_unscheduling_is_a_post(invited, browser_client):
    assert browser_client.get(f"/incidents/{invited.incident_id}/review/unschedule/").status_code == 405
    assert ReviewMeeting.objects.filter(pk=invited.pk).exists()
