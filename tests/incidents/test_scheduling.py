import datetime as dt
from zoneinfo import ZoneInfo

from hypothesis import given, settings
from hypothesis import strategies as st

from incidents.scheduling import business_days_after, suggest_slot

LONDON = ZoneInfo("Europe/London")
SYDNEY = ZoneInfo("Australia/Sydney")


def test_business_days_skip_the_weekend():
    friday = dt.date(2026, 3, 6)
    assert business_days_after(friday, 2) == [dt.date(2026, 3, 9), dt.date(2026, 3, 10)]


def test_a_friday_resolution_is_reviewed_on_monday_morning_local_time():
    resolved = dt.datetime(2026, 3, 6, 17, 0, tzinfo=LONDON)
    slot = suggest_slot(resolved_at=resolved, now=resolved, zone=LONDON)
    assert slot == dt.datetime(2026, 3, 9, 10, 0, tzinfo=LONDON)


def test_business_days_are_counted_on_the_facilitators_calendar():
    # Friday 23:30 UTC is already Saturday in Sydney: the next business day there is Monday.
    resolved = dt.datetime(2026, 3, 6, 23, 30, tzinfo=dt.UTC)
    slot = suggest_slot(resolved_at=resolved, now=resolved, zone=SYDNEY)
    assert slot.astimezone(SYDNEY).date() == dt.date(2026, 3, 9)
    assert slot.astimezone(SYDNEY).hour == 10


def test_slots_keep_their_wall_clock_time_across_a_dst_change():
    # The UK moves its clocks on Sunday 29 March 2026.
    resolved = dt.datetime(2026, 3, 27, 18, 0, tzinfo=LONDON)
    slot = suggest_slot(resolved_at=resolved, now=resolved, zone=LONDON)
    assert slot.astimezone(LONDON).hour == 10
    assert slot.utcoffset() == dt.timedelta(hours=1)


def test_busy_slots_are_skipped():
    resolved = dt.datetime(2026, 3, 6, 17, 0, tzinfo=LONDON)
    monday_ten = dt.datetime(2026, 3, 9, 10, 0, tzinfo=LONDON)
    slot = suggest_slot(
        resolved_at=resolved,
        now=resolved,
        zone=LONDON,
        busy=[(monday_ten, monday_ten + dt.timedelta(hours=1))],
    )
    assert slot == dt.datetime(2026, 3, 9, 14, 0, tzinfo=LONDON)


def test_a_late_review_gets_the_next_free_slot_after_today():
    resolved = dt.datetime(2026, 1, 5, 12, 0, tzinfo=LONDON)
    now = dt.datetime(2026, 3, 4, 12, 0, tzinfo=LONDON)
    slot = suggest_slot(resolved_at=resolved, now=now, zone=LONDON)
    assert slot == dt.datetime(2026, 3, 5, 10, 0, tzinfo=LONDON)


@settings(max_examples=60, deadline=None)
@given(
    resolved=st.datetimes(
        min_value=dt.datetime(2024, 1, 1), max_value=dt.datetime(2030, 1, 1), timezones=st.just(dt.UTC)
    ),
    zone_name=st.sampled_from(["Europe/London", "America/New_York", "Australia/Sydney", "Asia/Kolkata"]),
)
def test_the_suggestion_is_a_future_weekday_within_five_business_days(resolved, zone_name):
    zone = ZoneInfo(zone_name)
    slot = suggest_slot(resolved_at=resolved, now=resolved, zone=zone)
    local = slot.astimezone(zone)
    assert slot > resolved
    assert local.weekday() < 5
    assert local.date() <= business_days_after(resolved.astimezone(zone).date(), 5)[-1]
