"""Review invitations and cancellations as two independent calendar readers understand them.

vobject (Python, through dateutil) and ical.js (JavaScript, the parser of
Thunderbird and many web calendars) read the .ics Morgue sends, each resolving
the event's TZID through the calendar's own VTIMEZONE; the meeting must land on
the same UTC instant as Morgue stored. ical.js is installed from
tests/calendars/package-lock.json by `npm ci --prefix tests/calendars` (.ci/run).
"""

import datetime as dt
import json
import os
import re
import shutil
import subprocess
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest
import time_machine
import vobject
import vobject.icalendar

from incidents.models import ReviewCancellation, Status
from incidents.services.review import (
    cancellation_ics,
    invitation_ics,
    request_invitation,
    schedule_review,
    unschedule_review,
)
from tests.factories import IncidentFactory, ProfileFactory, TeamFactory, UserFactory, member_of

pytestmark = pytest.mark.django_db

NOW = dt.datetime(2026, 3, 6, 15, 0, tzinfo=dt.UTC)
READERS = Path(__file__).parents[1] / "calendars"
NODE = shutil.which("node")

# A winter and a summer meeting at 10:00 on the facilitator's clock, and when that is in UTC.
MEETINGS = [
    ("Europe/London", dt.datetime(2026, 12, 10, 10, 0), "2026-12-10T10:00:00Z"),
    ("Europe/London", dt.datetime(2026, 7, 9, 10, 0), "2026-07-09T09:00:00Z"),
    ("America/New_York", dt.datetime(2026, 12, 10, 10, 0), "2026-12-10T15:00:00Z"),
    ("America/New_York", dt.datetime(2026, 7, 9, 10, 0), "2026-07-09T14:00:00Z"),
    ("Australia/Sydney", dt.datetime(2026, 7, 9, 10, 0), "2026-07-09T00:00:00Z"),
    ("Australia/Sydney", dt.datetime(2027, 1, 14, 10, 0), "2027-01-13T23:00:00Z"),
    ("Asia/Kathmandu", dt.datetime(2026, 12, 10, 10, 0), "2026-12-10T04:15:00Z"),
    ("Asia/Kathmandu", dt.datetime(2026, 7, 9, 10, 0), "2026-07-09T04:15:00Z"),
    # The day after October's last Thursday: no yearly rule says it, so the times are written in UTC.
    ("Africa/Cairo", dt.datetime(2026, 12, 10, 10, 0), "2026-12-10T08:00:00Z"),
    ("Africa/Cairo", dt.datetime(2026, 7, 9, 10, 0), "2026-07-09T07:00:00Z"),
    ("UTC", dt.datetime(2026, 12, 10, 10, 0), "2026-12-10T10:00:00Z"),
]
# Written with a VTIMEZONE of yearly rules (no long RDATE lists), which the reader must have used.
RULED = {"Europe/London", "America/New_York", "Australia/Sydney"}
WRITTEN_IN_UTC = {"Africa/Cairo", "UTC"}


def read_with_vobject(ics: bytes) -> dict:
    text = ics.decode()
    # vobject keeps the first definition of each TZID it meets for the whole
    # process, and falls back to pytz's for a TZID it has none for: forget them,
    # so that this calendar's own VTIMEZONE is what gets read.
    registry = vars(vobject.icalendar)["__tzidMap"]
    for tzid in re.findall(r"^TZID:(.+?)\r?$", text, flags=re.MULTILINE):
        if tzid != "UTC":  # vobject's own, for Z times
            registry.pop(tzid, None)
    calendar = vobject.readOne(text)
    event = calendar.vevent
    start = event.dtstart.value
    return {
        "method": calendar.method.value,
        "uid": event.uid.value,
        "sequence": int(event.sequence.value),
        "status": event.status.value,
        "start": start.astimezone(dt.UTC).strftime("%Y-%m-%dT%H:%M:%SZ"),
        "end": event.dtend.value.astimezone(dt.UTC).strftime("%Y-%m-%dT%H:%M:%SZ"),
        # dateutil's reading of the VTIMEZONE, or UTC for Z times; never pytz's copy of the zone.
        "zone_source": type(start.tzinfo).__name__,
    }


def read_with_ical_js(ics: bytes) -> dict:
    missing = None
    if NODE is None:
        missing = "ical.js needs node (apt-get install nodejs)"
    elif not (READERS / "node_modules" / "ical.js").is_dir():
        missing = "ical.js is not installed: npm ci --prefix tests/calendars"
    if missing and os.environ.get("MORGUE_REQUIRE_REAL_PROGRAMS") == "1":
        pytest.fail(f"{missing}; CI requires it (MORGUE_REQUIRE_REAL_PROGRAMS=1)", pytrace=False)
    if missing:
        pytest.skip(missing)
    result = subprocess.run(
        [NODE, str(READERS / "read.mjs")],
        input=json.dumps([ics.decode()]),
        capture_output=True,
        text=True,
        timeout=60,
        check=True,
    )
    (calendar,) = json.loads(result.stdout)
    (event,) = calendar["events"]
    return {
        "method": calendar["method"],
        "uid": event["uid"],
        "sequence": event["sequence"],
        "status": event["status"],
        "start": event["start"].replace(".000Z", "Z"),
        "end": event["end"].replace(".000Z", "Z"),
    }


READ = {"vobject": read_with_vobject, "ical.js": read_with_ical_js}


def meeting_in(zone_name: str, local_start: dt.datetime):
    facilitator = ProfileFactory(
        user=UserFactory(username="dana", email="dana@example.com"), time_zone=zone_name
    ).user
    member_of(TeamFactory(), "responder", user=facilitator)  # who may schedule a review
    incident = IncidentFactory(
        title="Queue backlog",
        status=Status.RESOLVED,
        impact_started_at=NOW - dt.timedelta(hours=3),
        detected_at=NOW - dt.timedelta(hours=2),
        resolved_at=NOW - dt.timedelta(hours=1),
    )
    with time_machine.travel(NOW, tick=False):
        return schedule_review(
            incident=incident,
            facilitator=facilitator,
            starts_at=local_start.replace(tzinfo=ZoneInfo(zone_name)),
            duration_minutes=45,
            by=facilitator,
        )


@pytest.mark.parametrize("reader", READ)
@pytest.mark.parametrize(("zone_name", "local_start", "utc_start"), MEETINGS)
def test_every_reader_puts_the_meeting_at_its_instant(reader, zone_name, local_start, utc_start):
    meeting = meeting_in(zone_name, local_start)
    ics = invitation_ics(meeting=meeting)

    read = READ[reader](ics)

    assert (read["start"], read["end"]) == (
        utc_start,
        (dt.datetime.fromisoformat(utc_start) + dt.timedelta(minutes=45)).strftime("%Y-%m-%dT%H:%M:%SZ"),
    )
    assert (read["method"], read["uid"], read["status"]) == ("REQUEST", meeting.uid, "CONFIRMED")
    if zone_name in WRITTEN_IN_UTC:
        assert b"BEGIN:VTIMEZONE" not in ics
        assert f"DTSTART:{dt.datetime.fromisoformat(utc_start):%Y%m%dT%H%M%SZ}".encode() in ics
    else:
        assert f"DTSTART;TZID={zone_name}:{local_start:%Y%m%dT%H%M%S}".encode() in ics
        assert b"RDATE" not in ics
    if zone_name in RULED:
        assert ics.count(b"RRULE:FREQ=YEARLY") == 2
    if reader == "vobject" and zone_name not in WRITTEN_IN_UTC:
        assert read["zone_source"] == "_tzicalvtz"


@pytest.mark.parametrize("reader", READ)
def test_every_reader_takes_the_cancellation_as_the_same_event_called_off(reader):
    meeting = meeting_in("America/New_York", dt.datetime(2026, 12, 10, 10, 0))
    with time_machine.travel(NOW, tick=False):
        request_invitation(meeting=meeting)
        unschedule_review(incident=meeting.incident, by=meeting.facilitator)
    cancellation = ReviewCancellation.objects.get()

    read = READ[reader](cancellation_ics(cancellation=cancellation))

    assert (read["method"], read["uid"], read["sequence"], read["status"]) == (
        "CANCEL",
        meeting.uid,
        meeting.sequence + 1,
        "CANCELLED",
    )
    assert read["start"] == "2026-12-10T15:00:00Z"
