import datetime as dt
import importlib
import secrets

import icalendar
import pytest
import time_machine

from morgue.models import Profile
from oncall import services
from oncall.models import Level, Shift
from tests.factories import make_rotation

UTC = dt.UTC
pytestmark = pytest.mark.django_db
NOW = dt.datetime(2026, 3, 1, 12, tzinfo=UTC)


@pytest.fixture
def rotation(person):
    rotation = make_rotation(
        slug="ops-primary", time_zone="America/New_York", first_shift_date=dt.date(2026, 1, 5)
    )
    services.create_override(
        rotation=rotation,
        level=Level.L1,
        user=person,
        starts_at=dt.datetime(2026, 3, 10, 13, tzinfo=UTC),
        ends_at=dt.datetime(2026, 3, 10, 20, tzinfo=UTC),
        reason="cover",
    )
    return rotation


def _events(body: bytes):
    calendar = icalendar.Calendar.from_ical(body)
    return calendar, list(calendar.walk("VEVENT"))


def test_rotation_feed_has_one_event_per_shift_piece_matching_the_shifts(client, person, rotation):
    token = person.profile.calendar_token
    with time_machine.travel(NOW, tick=False):
        response = client.get(f"/oncall/rotations/ops-primary.ics?token={token}")
    assert response.status_code == 200
    assert response["Content-Type"].startswith("text/calendar")
    calendar, events = _events(response.content)
    assert str(calendar["X-WR-CALNAME"]) == "On call: Ops Primary"
    assert "REFRESH-INTERVAL" in calendar
    shifts = list(
        Shift.objects.filter(rotation=rotation)
        .overlapping(NOW - dt.timedelta(days=30), NOW + dt.timedelta(days=180))
        .order_by("starts_at", "level")
    )
    assert len(events) == len(shifts)
    for event, shift in zip(events, shifts, strict=True):
        assert event.decoded("dtstart") == shift.starts_at
        assert event.decoded("dtend") == shift.ends_at
        assert shift.level in str(event["summary"]) and "Ops Primary" in str(event["summary"])
        assert str(event["transp"]) == "TRANSPARENT"
    assert len({str(event["uid"]) for event in events}) == len(events)
    assert any("(override)" in str(event["summary"]) for event in events)


def test_event_uids_are_stable_across_regeneration(client, person, rotation):
    token = person.profile.calendar_token
    with time_machine.travel(NOW, tick=False):
        before = {
            str(event["uid"])
            for event in _events(client.get(f"/oncall/rotations/ops-primary.ics?token={token}").content)[1]
        }
        services.update_rotation(rotation=rotation, escalation_timeout_minutes=9)
        after = {
            str(event["uid"])
            for event in _events(client.get(f"/oncall/rotations/ops-primary.ics?token={token}").content)[1]
        }
    # Regeneration at a later time also extends the horizon; every earlier event keeps its UID.
    assert before <= after


def test_person_feed_lists_only_their_shifts(client, person, rotation):
    ana = rotation.members.get(user__username="ana").user
    token = person.profile.calendar_token
    with time_machine.travel(NOW, tick=False):
        _, events = _events(client.get(f"/oncall/people/ana.ics?token={token}").content)
    assert events
    assert (
        len(events)
        == Shift.objects.filter(user=ana)
        .overlapping(NOW - dt.timedelta(days=30), NOW + dt.timedelta(days=180))
        .count()
    )


def test_bad_missing_or_revoked_tokens_get_404(client, person, rotation):
    old = person.profile.calendar_token
    assert client.get("/oncall/rotations/ops-primary.ics").status_code == 404
    assert client.get("/oncall/rotations/ops-primary.ics?token=nope").status_code == 404
    Profile.objects.for_user(person).reset_calendar_token()
    assert client.get(f"/oncall/rotations/ops-primary.ics?token={old}").status_code == 404
    assert client.get(f"/oncall/people/ana.ics?token={old}").status_code == 404


def test_profile_page_shows_a_new_calendar_address_once(browser_client, person, rotation):
    old = person.profile.calendar_token
    page = browser_client.get("/profile/").content.decode()
    # Only the prefix is kept, so the address cannot be shown again.
    assert f"token={old}" not in page and "webcal://" not in page
    assert person.profile.calendar_token_prefix in page

    response = browser_client.post("/oncall/calendar-token/", follow=True)
    page = response.content.decode()
    new = page.split("token=", 1)[1].split('"', 1)[0]
    assert new != old and "webcal://" in page
    assert browser_client.get(f"/oncall/rotations/ops-primary.ics?token={new}").status_code == 200
    assert browser_client.get(f"/oncall/rotations/ops-primary.ics?token={old}").status_code == 404
    # Shown once: the next visit shows only the prefix.
    again = browser_client.get("/profile/").content.decode()
    assert f"token={new}" not in again and new[:8] in again


def test_feed_tokens_are_stored_only_as_a_prefix_and_a_hash(person):
    token = person.profile.calendar_token
    profile = Profile.objects.get(user=person)
    stored = [str(value) for value in Profile.objects.filter(pk=profile.pk).values().get().values()]
    assert token not in stored
    assert profile.calendar_token_prefix == token[:8]
    assert Profile.for_calendar_token(token) == profile
    assert Profile.for_calendar_token(token[:8] + "x" * (len(token) - 8)) is None


@pytest.mark.parametrize("address", ["/oncall/rotations/ops-primary.ics", "/oncall/people/ana.ics"])
def test_a_feed_answers_head_with_its_headers_and_no_body(client, person, rotation, address):
    token = person.profile.calendar_token
    with time_machine.travel(NOW, tick=False):
        got = client.get(f"{address}?token={token}")
        head = client.head(f"{address}?token={token}")
    assert head.status_code == 200
    assert head.content == b""
    assert head["Content-Type"].startswith("text/calendar")
    assert head["ETag"] == got["ETag"]


@pytest.mark.parametrize("address", ["/oncall/rotations/ops-primary.ics", "/oncall/people/ana.ics"])
def test_a_calendar_app_holding_the_same_shifts_gets_304(client, person, rotation, address):
    token = person.profile.calendar_token
    with time_machine.travel(NOW, tick=False):
        first = client.get(f"{address}?token={token}")
    etag = first["ETag"]
    assert etag.startswith('W/"')
    # Later the feed's DTSTAMPs differ, but the shifts are the same: nothing to fetch.
    with time_machine.travel(NOW + dt.timedelta(minutes=20), tick=False):
        again = client.get(f"{address}?token={token}", HTTP_IF_NONE_MATCH=etag)
        head = client.head(f"{address}?token={token}", HTTP_IF_NONE_MATCH=etag)
        other = client.get(f"{address}?token={token}", HTTP_IF_NONE_MATCH='W/"something-else"')
    assert again.status_code == 304
    assert again.content == b""
    assert again["ETag"] == etag
    assert head.status_code == 304
    assert other.status_code == 200 and other["ETag"] == etag


def test_a_changed_shift_changes_the_feeds_etag(client, person, rotation):
    token = person.profile.calendar_token
    address = f"/oncall/rotations/ops-primary.ics?token={token}"
    with time_machine.travel(NOW, tick=False):
        before = client.get(address)
        etag = before["ETag"]
        services.create_override(
            rotation=rotation,
            level=Level.L1,
            user=person,
            starts_at=dt.datetime(2026, 3, 12, 13, tzinfo=UTC),
            ends_at=dt.datetime(2026, 3, 12, 20, tzinfo=UTC),
            reason="cover again",
        )
        response = client.get(address, HTTP_IF_NONE_MATCH=etag)
    assert response.status_code == 200
    assert response["ETag"] != etag
    assert response.content.count(b"(override)") > before.content.count(b"(override)")


def test_a_feed_without_a_token_is_404_for_head_too(client, person, rotation):
    assert client.head("/oncall/rotations/ops-primary.ics").status_code == 404


def test_a_feed_address_from_before_hashing_keeps_working(client, person, rotation):
    """What migration morgue 0011 does to each existing feed token: calendar apps keep their address."""
    legacy = secrets.token_urlsafe(24)  # how feed tokens were made before
    migration = importlib.import_module("morgue.migrations.0011_api_tokens")
    Profile.objects.filter(user=person).update(
        calendar_token_prefix=legacy[:8], calendar_token_hash=migration._hash(legacy)
    )

    assert client.get(f"/oncall/rotations/ops-primary.ics?token={legacy}").status_code == 200
    assert client.get(f"/feeds/postmortems.atom?token={legacy}").status_code == 200
