import datetime as dt
from email.utils import parseaddr
from unittest import mock
from zoneinfo import ZoneInfo

import icalendar
import pytest
import time_machine
from django.core import mail

from incidents.exceptions import ReviewNotReady
from incidents.models import ReviewMeeting, Status
from incidents.selectors.incident import review_queue, suggested_review_slot
from incidents.services.incident import change_status, delete_incident
from incidents.services.review import request_invitation, schedule_review
from incidents.tasks.review import send_review_invitation
from morgue.celery import app
from morgue.models import DeliveryStatus, EmailDelivery
from tests.factories import IncidentFactory, ProfileFactory, UserFactory

pytestmark = pytest.mark.django_db

NOW = dt.datetime(2026, 3, 6, 15, 0, tzinfo=dt.UTC)  # a Friday


@pytest.fixture
def facilitator():
    return ProfileFactory(
        user=UserFactory(username="fran", email="fran@example.com"), time_zone="America/New_York"
    ).user


@pytest.fixture
def resolved_incident():
    return IncidentFactory(
        title="Queue backlog",
        status=Status.RESOLVED,
        impact_started_at=NOW - dt.timedelta(hours=3),
        detected_at=NOW - dt.timedelta(hours=2),
        resolved_at=NOW - dt.timedelta(hours=1),
    )


@time_machine.travel(NOW, tick=False)
def test_the_suggested_slot_is_the_next_business_morning_on_the_facilitators_clock(
    resolved_incident, facilitator
):
    slot = suggested_review_slot(incident=resolved_incident, facilitator=facilitator)
    assert slot.astimezone(ZoneInfo("America/New_York")) == dt.datetime(
        2026, 3, 9, 10, 0, tzinfo=ZoneInfo("America/New_York")
    )


@time_machine.travel(NOW, tick=False)
def test_scheduling_sets_facilitator_and_status_and_rescheduling_bumps_the_sequence(
    resolved_incident, facilitator, person
):
    starts = dt.datetime(2026, 3, 9, 15, 0, tzinfo=dt.UTC)
    meeting = schedule_review(
        incident=resolved_incident, facilitator=facilitator, starts_at=starts, attendees=[person], by=person
    )
    resolved_incident.refresh_from_db()
    assert resolved_incident.status == Status.REVIEW_SCHEDULED
    assert resolved_incident.facilitator == facilitator
    assert set(meeting.attendees.all()) == {facilitator, person}
    assert meeting.time_zone == "America/New_York" and meeting.sequence == 0
    moved = schedule_review(
        incident=resolved_incident,
        facilitator=facilitator,
        starts_at=starts + dt.timedelta(days=1),
        by=person,
    )
    assert moved.pk == meeting.pk and moved.sequence == 1


@time_machine.travel(NOW, tick=False)
def test_an_open_incident_or_a_past_time_cannot_be_scheduled(facilitator, person, resolved_incident):
    with pytest.raises(ReviewNotReady, match="Resolve the incident"):
        schedule_review(
            incident=IncidentFactory(),
            facilitator=facilitator,
            starts_at=NOW + dt.timedelta(days=1),
            by=person,
        )
    with pytest.raises(ReviewNotReady, match="future"):
        schedule_review(incident=resolved_incident, facilitator=facilitator, starts_at=NOW, by=person)
    assert not ReviewMeeting.objects.exists()


@time_machine.travel(NOW, tick=False)
@pytest.mark.parametrize("minutes", [14, 481])
def test_a_review_meeting_lasts_between_a_quarter_hour_and_eight_hours(
    facilitator, person, resolved_incident, minutes
):
    with pytest.raises(ReviewNotReady, match="between 15 minutes and 8 hours"):
        schedule_review(
            incident=resolved_incident,
            facilitator=facilitator,
            starts_at=NOW + dt.timedelta(days=1),
            by=person,
            duration_minutes=minutes,
        )
    assert not ReviewMeeting.objects.exists()


@time_machine.travel(NOW, tick=False)
def test_the_ics_invitation_is_a_request_with_organizer_attendees_stable_uid_and_zone(
    resolved_incident, facilitator, person, api
):
    assert api.get(f"/api/v1/incidents/{resolved_incident.pk}/review.ics").status_code == 404
    starts = dt.datetime(2026, 3, 9, 15, 0, tzinfo=dt.UTC)
    schedule_review(
        incident=resolved_incident, facilitator=facilitator, starts_at=starts, attendees=[person], by=person
    )
    response = api.get(f"/api/v1/incidents/{resolved_incident.pk}/review.ics")
    assert response.status_code == 200
    assert response["Content-Type"].startswith("text/calendar")
    calendar = icalendar.Calendar.from_ical(response.content)
    assert calendar["METHOD"] == "REQUEST"
    event = next(iter(calendar.walk("VEVENT")))
    assert str(event["ORGANIZER"]) == "mailto:fran@example.com"
    assert {str(attendee) for attendee in event["ATTENDEE"]} == {
        "mailto:fran@example.com",
        f"mailto:{person.email}",
    }
    assert event["DTSTART"].dt == starts
    assert event["DTSTART"].params["TZID"] == "America/New_York"
    assert any(tz["TZID"] == "America/New_York" for tz in calendar.walk("VTIMEZONE"))
    uid = str(event["UID"])
    schedule_review(
        incident=resolved_incident,
        facilitator=facilitator,
        starts_at=starts + dt.timedelta(hours=2),
        by=person,
    )
    again = icalendar.Calendar.from_ical(
        api.get(f"/api/v1/incidents/{resolved_incident.pk}/review.ics").content
    )
    moved = next(iter(again.walk("VEVENT")))
    assert str(moved["UID"]) == uid
    assert int(moved["SEQUENCE"]) == 1


@time_machine.travel(NOW, tick=False)
def test_the_invitation_is_enqueued_only_after_commit(
    resolved_incident, facilitator, person, django_capture_on_commit_callbacks
):
    meeting = schedule_review(
        incident=resolved_incident, facilitator=facilitator, starts_at=NOW + dt.timedelta(days=3), by=person
    )
    with mock.patch.object(app, "send_task") as send_task:
        with django_capture_on_commit_callbacks(execute=False) as callbacks:
            request_invitation(meeting=meeting)
        send_task.assert_not_called()
        for callback in callbacks:
            callback()
        send_task.assert_called_once_with(send_review_invitation.name, args=(meeting.pk, 0))


@time_machine.travel(NOW, tick=False)
def test_the_task_emails_the_ics_once_even_when_redelivered(resolved_incident, facilitator, person):
    meeting = schedule_review(
        incident=resolved_incident,
        facilitator=facilitator,
        starts_at=NOW + dt.timedelta(days=3),
        attendees=[person],
        by=person,
    )
    assert send_review_invitation(meeting.pk, 0) is True
    assert send_review_invitation(meeting.pk, 0) is False
    assert len(mail.outbox) == 1
    message = mail.outbox[0]
    assert sorted(message.to) == sorted(["fran@example.com", person.email])
    assert "Queue backlog" in message.subject and "America/New_York" in message.subject
    name, content, mimetype = message.attachments[0]
    assert name == "review.ics" and mimetype == "application/ics"
    assert b"METHOD:REQUEST" in content
    html, html_type = message.alternatives[0]
    assert html_type == "text/html" and "Queue backlog" in html
    meeting.refresh_from_db()
    assert meeting.invitation_sent_at is not None and not meeting.invitation_pending


@time_machine.travel(NOW, tick=False)
def test_a_failed_send_releases_the_claim_for_the_retry(resolved_incident, facilitator, person):
    meeting = schedule_review(
        incident=resolved_incident, facilitator=facilitator, starts_at=NOW + dt.timedelta(days=3), by=person
    )
    failing = mock.patch("django.core.mail.EmailMultiAlternatives.send", side_effect=OSError("SMTP down"))
    with failing, pytest.raises(OSError):
        send_review_invitation.run(meeting.pk, 0)
    meeting.refresh_from_db()
    assert meeting.invitation_pending
    assert EmailDelivery.objects.get().status == DeliveryStatus.FAILED
    assert send_review_invitation(meeting.pk, 0) is True
    assert send_review_invitation(meeting.pk, 0) is False
    assert len(mail.outbox) == 1


@time_machine.travel(NOW, tick=False)
def test_an_invitation_nobody_has_an_address_for_sends_nothing_and_counts_as_sent(resolved_incident, person):
    facilitator = ProfileFactory(user=UserFactory(username="noemail", email="")).user
    meeting = schedule_review(
        incident=resolved_incident, facilitator=facilitator, starts_at=NOW + dt.timedelta(days=3), by=person
    )

    assert send_review_invitation(meeting.pk, 0) is False

    meeting.refresh_from_db()
    assert not meeting.invitation_pending
    assert mail.outbox == [] and not EmailDelivery.objects.exists()


@time_machine.travel(NOW, tick=False)
def test_a_superseded_sequence_is_not_sent(resolved_incident, facilitator, person):
    meeting = schedule_review(
        incident=resolved_incident, facilitator=facilitator, starts_at=NOW + dt.timedelta(days=3), by=person
    )
    schedule_review(
        incident=resolved_incident, facilitator=facilitator, starts_at=NOW + dt.timedelta(days=4), by=person
    )

    assert send_review_invitation(meeting.pk, 0) is False
    assert send_review_invitation(meeting.pk, 1) is True
    assert [int(event["SEQUENCE"]) for event in calendar_events(mail.outbox[0])] == [1]


def calendar_events(message) -> list:
    (content,) = [
        content for content, mimetype in message.alternatives if mimetype.startswith("text/calendar")
    ]
    return list(icalendar.Calendar.from_ical(content).walk("VEVENT"))


@time_machine.travel(NOW, tick=False)
def test_the_invitation_is_inline_with_one_charset_and_from_morgue_on_behalf_of_the_facilitator(
    resolved_incident, person, settings
):
    settings.DEFAULT_FROM_EMAIL = "Morgue <morgue@example.org>"
    dana = ProfileFactory(
        user=UserFactory(username="dana", email="dana@example.com"), display_name="Dana Reyes"
    ).user
    meeting = schedule_review(
        incident=resolved_incident, facilitator=dana, starts_at=NOW + dt.timedelta(days=3), by=person
    )
    send_review_invitation(meeting.pk, 0)

    (message,) = mail.outbox
    mime = message.message()
    assert parseaddr(mime["From"]) == ("Dana Reyes via Morgue", "morgue@example.org")
    assert mime["Reply-To"] == "dana@example.com"
    # Mail clients offer to accept an invitation found among the body's alternatives.
    body = next(part for part in mime.walk() if part.get_content_type() == "multipart/alternative")
    types = [part.get_content_type() for part in body.get_payload()]
    assert types == ["text/plain", "text/html", "text/calendar"]
    calendar_part = body.get_payload()[2]
    assert calendar_part.get_param("method") == "REQUEST"
    assert calendar_part["Content-Type"].lower().count("charset") == 1
    assert calendar_part.get_content_charset() == "utf-8"
    assert b"METHOD:REQUEST" in calendar_part.get_payload(decode=True)
    organizer = calendar_events(message)[0]["ORGANIZER"]
    assert str(organizer) == "mailto:dana@example.com"
    assert organizer.params["SENT-BY"] == "mailto:morgue@example.org"
    (attachment,) = [part for part in mime.walk() if part.get_filename() == "review.ics"]
    assert attachment.get_content_type() == "application/ics"


@time_machine.travel(NOW, tick=False)
def test_the_review_queue_lists_waiting_incidents_and_facilitator_load(facilitator, person):
    waiting = IncidentFactory(status=Status.RESOLVED, resolved_at=NOW)
    needs_meeting = IncidentFactory(status=Status.RESOLVED, resolved_at=NOW, facilitator=facilitator)
    IncidentFactory(status=Status.REVIEWED, resolved_at=NOW, facilitator=facilitator)
    queue = review_queue()
    assert list(queue["needs_facilitator"]) == [waiting]
    assert list(queue["needs_meeting"]) == [needs_meeting]
    assert [(row["user"], row["active"], row["reviewed"]) for row in queue["load"]] == [(facilitator, 1, 1)]


@time_machine.travel(NOW, tick=False)
def test_the_review_queue_leaves_out_deleted_incidents_and_those_that_have_a_meeting(
    facilitator, person, staff, resolved_incident
):
    for facilitated_by in (None, facilitator):
        deleted = IncidentFactory(status=Status.RESOLVED, resolved_at=NOW, facilitator=facilitated_by)
        delete_incident(incident=deleted, by=staff)
    schedule_review(
        incident=resolved_incident, facilitator=facilitator, starts_at=NOW + dt.timedelta(days=3), by=person
    )
    change_status(incident=resolved_incident, status=Status.RESOLVED, by=person)  # set back by hand

    queue = review_queue()

    assert list(queue["needs_facilitator"]) == [] and list(queue["needs_meeting"]) == []
    assert [(row["user"], row["active"]) for row in queue["load"]] == [(facilitator, 1)]


def test_the_sweep_leaves_invitations_to_meetings_already_held(resolved_incident, facilitator, person):
    from incidents.tasks.review import sweep_review_invitations

    with time_machine.travel(NOW, tick=False):
        meeting = schedule_review(
            incident=resolved_incident,
            facilitator=facilitator,
            starts_at=NOW + dt.timedelta(hours=1),
            by=person,
        )
        request_invitation(meeting=meeting)  # its task was lost
    with (
        time_machine.travel(NOW + dt.timedelta(hours=2), tick=False),
        mock.patch.object(send_review_invitation, "delay") as delay,
    ):
        assert sweep_review_invitations() == 0
    delay.assert_not_called()


def test_asking_again_resends_as_a_new_sequence_of_the_same_event(resolved_incident, facilitator, person):
    with time_machine.travel(NOW, tick=False):
        meeting = schedule_review(
            incident=resolved_incident,
            facilitator=facilitator,
            starts_at=NOW + dt.timedelta(days=3),
            by=person,
        )
        request_invitation(meeting=meeting)
        assert send_review_invitation(meeting.pk, 0) is True
        again = request_invitation(meeting=meeting)
        assert again.sequence == 1 and again.invitation_pending
        assert send_review_invitation(meeting.pk, 1) is True
    assert len(mail.outbox) == 2


def test_the_sweep_re_enqueues_a_requested_invitation_whose_task_was_lost(
    resolved_incident, facilitator, person
):
    from incidents.tasks.review import sweep_review_invitations

    with time_machine.travel(NOW, tick=False):
        meeting = schedule_review(
            incident=resolved_incident,
            facilitator=facilitator,
            starts_at=NOW + dt.timedelta(days=3),
            by=person,
        )
        request_invitation(meeting=meeting)  # its on-commit task never runs in this test
    with time_machine.travel(NOW + dt.timedelta(minutes=5), tick=False):
        assert sweep_review_invitations() == 0
    with (
        time_machine.travel(NOW + dt.timedelta(minutes=11), tick=False),
        mock.patch.object(app, "send_task") as send_task,
    ):
        assert sweep_review_invitations() == 1
    send_task.assert_called_once_with(send_review_invitation.name, args=(meeting.pk, 0))
    send_review_invitation(meeting.pk, 0)
    with time_machine.travel(NOW + dt.timedelta(minutes=30), tick=False):
        assert sweep_review_invitations() == 0


def _waiting(count: int, *, facilitator=None) -> list:
    return [
        IncidentFactory(
            title=f"Waiting {index:03d}",
            status=Status.RESOLVED,
            resolved_at=NOW - dt.timedelta(hours=count - index),
            facilitator=facilitator,
        )
        for index in range(count)
    ]


@time_machine.travel(NOW, tick=False)
def test_the_review_queue_pages_each_list_on_its_own_and_counts_every_incident(
    browser_client, facilitator, django_assert_max_num_queries
):
    earlier = _waiting(3)
    _waiting(2, facilitator=facilitator)
    with django_assert_max_num_queries(12) as few:
        browser_client.get("/incidents/review-queue/")
    waiting = sorted(earlier + _waiting(57), key=lambda incident: (incident.resolved_at, incident.pk))
    with django_assert_max_num_queries(len(few)):
        first = browser_client.get("/incidents/review-queue/", {"needs_meeting_page": "1"})

    page = first.content.decode()
    assert "Awaiting a facilitator (60)" in page and "Awaiting a meeting (2)" in page
    assert page.count("Waiting 0") == 25 + 2  # 25 of the 60, both awaiting a meeting
    assert "page 1 of 3" in page
    assert "?needs_meeting_page=1&amp;needs_facilitator_page=2" in page

    last = browser_client.get("/incidents/review-queue/", {"needs_facilitator_page": "3"})
    assert list(last.context["needs_facilitator"]) == waiting[-10:]
    assert "page 3 of 3" in last.content.decode()
    # A page past the end or not a number shows the nearest page rather than an error.
    assert browser_client.get("/incidents/review-queue/", {"needs_facilitator_page": "99"}).status_code == 200
    assert browser_client.get("/incidents/review-queue/", {"needs_facilitator_page": "x"}).status_code == 200
