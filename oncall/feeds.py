"""iCalendar feeds of shifts, for Google Calendar, Outlook and Apple Calendar."""

import datetime as dt
import hashlib

import icalendar
from django.conf import settings
from django.urls import reverse

from morgue.models import Profile, display_name

BACK = dt.timedelta(days=30)
AHEAD = dt.timedelta(days=180)
REFRESH = dt.timedelta(hours=1)

# The name under which a new feed token waits for the profile page (morgue.once).
CALENDAR_TOKEN_SHOWN = "calendar-token"  # noqa: S105 (a session key)


def feed_url(*, profile: Profile, token: str, webcal: bool = False) -> str:
    """A person's own feed address, with their token (known only when it was just made)."""
    url = (
        settings.MORGUE_BASE_URL
        + reverse("oncall:person-feed", args=[profile.user.username])
        + f"?token={token}"
    )
    if webcal:
        return "webcal://" + url.split("://", 1)[1]
    return url


def shift_uid(shift) -> str:
    """Stable across regenerations: the same rotation, level, shift number and window give the same UID."""
    window = f"{shift.starts_at.isoformat()}:{shift.ends_at.isoformat()}"
    key = f"{shift.rotation_id}:{shift.level}:{shift.number}:{window}"
    host = settings.MORGUE_BASE_URL.split("://", 1)[-1].split("/")[0].split(":")[0] or "morgue"
    return f"shift-{hashlib.sha256(key.encode()).hexdigest()[:24]}@{host}"


def calendar(*, name: str, shifts, now: dt.datetime) -> bytes:
    """One VEVENT per shift piece, transparent so nobody shows as busy."""
    cal = icalendar.Calendar()
    cal.add("prodid", "-//Morgue//On call//EN")
    cal.add("version", "2.0")
    cal.add("calscale", "GREGORIAN")
    cal.add("method", "PUBLISH")
    cal.add("x-wr-calname", name)
    cal.add("x-wr-timezone", "UTC")
    cal.add("refresh-interval", REFRESH, parameters={"VALUE": "DURATION"})
    cal.add("x-published-ttl", icalendar.vDuration(REFRESH))
    for shift in shifts:
        event = icalendar.Event()
        who = display_name(shift.user)
        note = " (override)" if shift.source == "override" else ""
        event.add("uid", shift_uid(shift))
        event.add("dtstamp", now.astimezone(dt.UTC))
        event.add("dtstart", shift.starts_at.astimezone(dt.UTC))
        event.add("dtend", shift.ends_at.astimezone(dt.UTC))
        event.add("summary", f"{shift.rotation.name} {shift.level}: {who}{note}")
        event.add("description", f"{who} is {shift.level} on call for {shift.rotation.team.name}.")
        event.add("transp", "TRANSPARENT")
        event.add("url", settings.MORGUE_BASE_URL + reverse("oncall:rotation", args=[shift.rotation.slug]))
        cal.add_component(event)
    return cal.to_ical()


def etag(body: bytes) -> str:
    """A weak ETag for a feed: its text without the DTSTAMP lines, which change on every request.

    Two feeds with the same events are the same calendar to a calendar app,
    so `If-None-Match` with this tag answers 304 until a shift changes.
    """
    lines = [line for line in body.splitlines() if not line.startswith(b"DTSTAMP")]
    return 'W/"' + hashlib.sha256(b"\n".join(lines)).hexdigest()[:32] + '"'
