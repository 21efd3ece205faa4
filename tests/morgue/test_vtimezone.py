"""The VTIMEZONE written from a zone's POSIX TZ string (morgue.vtimezone): plain tests, no database.

The POSIX strings are those at the end of tzdata 2026's TZif files (RFC 8536 §3.3);
the zones' real readers are tested in tests/incidents/test_review_calendars.py.
"""

import datetime as dt
from zoneinfo import ZoneInfo, available_timezones

import pytest
from dateutil.rrule import rrulestr

from morgue import vtimezone
from morgue.vtimezone import Change, UnsupportedRule, exact_rule, parse_posix_tz, tzif_footer

HOUR = dt.timedelta(hours=1)


def test_london_has_summer_time_from_the_last_sunday_of_march_to_the_last_of_october():
    rule = parse_posix_tz("GMT0BST,M3.5.0/1,M10.5.0")

    assert (rule.standard_name, rule.standard_offset) == ("GMT", dt.timedelta(0))
    assert (rule.daylight_name, rule.daylight_offset) == ("BST", HOUR)
    assert rule.to_daylight == Change(month=3, week=5, weekday=0, seconds=3600)
    assert rule.to_standard == Change(month=10, week=5, weekday=0, seconds=7200)


def test_a_posix_offset_counts_west_of_utc_and_daylight_defaults_to_one_hour_more():
    rule = parse_posix_tz("EST5EDT,M3.2.0,M11.1.0")

    assert (rule.standard_offset, rule.daylight_offset) == (-5 * HOUR, -4 * HOUR)
    assert rule.to_daylight == Change(3, 2, 0, 7200) and rule.to_standard == Change(11, 1, 0, 7200)


def test_a_zone_without_daylight_time_and_with_a_quoted_name_is_one_offset():
    rule = parse_posix_tz("<+0545>-5:45")

    assert (rule.standard_name, rule.standard_offset, rule.has_daylight) == (
        "+0545",
        dt.timedelta(hours=5, minutes=45),
        False,
    )
    assert vtimezone.vtimezone("Asia/Kathmandu", rule) == (
        "BEGIN:VTIMEZONE\r\nTZID:Asia/Kathmandu\r\n"
        "BEGIN:STANDARD\r\nDTSTART:19700101T000000\r\nTZNAME:+0545\r\n"
        "TZOFFSETFROM:+0545\r\nTZOFFSETTO:+0545\r\nEND:STANDARD\r\n"
        "END:VTIMEZONE\r\n"
    )


def test_the_vtimezone_has_one_yearly_rule_per_change_starting_on_the_clock_before_it():
    text = vtimezone.vtimezone("Europe/London", parse_posix_tz("GMT0BST,M3.5.0/1,M10.5.0"))

    assert text == (
        "BEGIN:VTIMEZONE\r\nTZID:Europe/London\r\n"
        "BEGIN:DAYLIGHT\r\nDTSTART:19700329T010000\r\nRRULE:FREQ=YEARLY;BYMONTH=3;BYDAY=-1SU\r\n"
        "TZNAME:BST\r\nTZOFFSETFROM:+0000\r\nTZOFFSETTO:+0100\r\nEND:DAYLIGHT\r\n"
        "BEGIN:STANDARD\r\nDTSTART:19701025T020000\r\nRRULE:FREQ=YEARLY;BYMONTH=10;BYDAY=-1SU\r\n"
        "TZNAME:GMT\r\nTZOFFSETFROM:+0100\r\nTZOFFSETTO:+0000\r\nEND:STANDARD\r\n"
        "END:VTIMEZONE\r\n"
    )


def test_the_southern_hemisphere_starts_daylight_time_in_spring_and_ends_it_in_autumn():
    rule = parse_posix_tz("AEST-10AEDT,M10.1.0,M4.1.0/3")
    daylight, standard = rule.observances(first_year=2026)

    assert (daylight.kind, daylight.start, daylight.rrule) == (
        "DAYLIGHT",
        dt.datetime(2026, 10, 4, 2, 0),
        "FREQ=YEARLY;BYMONTH=10;BYDAY=1SU",
    )
    assert (standard.kind, standard.start, standard.offset_from, standard.offset_to) == (
        "STANDARD",
        dt.datetime(2026, 4, 5, 3, 0),
        11 * HOUR,
        10 * HOUR,
    )
    sydney = ZoneInfo("Australia/Sydney")
    assert rule.utcoffset(dt.datetime(2027, 1, 8, tzinfo=sydney)) == 11 * HOUR
    assert rule.utcoffset(dt.datetime(2027, 7, 8, tzinfo=sydney)) == 10 * HOUR


def test_a_time_past_midnight_moves_the_change_to_the_next_day_within_the_month():
    # Israel: the Friday before the last Sunday of March, said as the fourth Thursday at 26:00.
    change = parse_posix_tz("IST-2IDT,M3.4.4/26,M10.5.0").to_daylight
    assert change is not None

    assert change.rrule() == "FREQ=YEARLY;BYMONTH=3;BYDAY=FR;BYMONTHDAY=23,24,25,26,27,28,29"
    assert change.local_time(2026) == dt.datetime(2026, 3, 27, 2, 0)


def test_a_negative_time_moves_the_change_to_the_day_before():
    # Greenland: the last Sunday of March at -1:00 is the Saturday before at 23:00.
    change = parse_posix_tz("<-02>2<-01>,M3.5.0/-1,M10.5.0/0").to_daylight
    assert change is not None

    assert change.rrule() == "FREQ=YEARLY;BYMONTH=3;BYDAY=SA;BYMONTHDAY=24,25,26,27,28,29,30"
    assert change.local_time(2026) == dt.datetime(2026, 3, 28, 23, 0)


@pytest.mark.parametrize(
    "posix",
    [
        "EET-2EEST,M4.5.5/0,M10.5.4/24",  # Egypt: the day after October's last Thursday can be 1 November
        "EST5EDT,J60/2,J300/2",  # Julian days fall on a different weekday every year
        "<+03>-3<+04>,0/0,J365/25",  # daylight time all year
        "EST5EDT",  # daylight time with no rule for when
        "M3.2.0",
    ],
)
def test_what_a_yearly_rule_cannot_say_exactly_is_refused(posix):
    with pytest.raises(UnsupportedRule):
        parse_posix_tz(posix)


def test_each_components_dtstart_is_the_first_date_of_its_own_rule():
    for name in ("Europe/London", "America/New_York", "Australia/Sydney", "Asia/Jerusalem", "America/Nuuk"):
        rule = parse_posix_tz(tzif_footer(name))
        for observance in rule.observances(first_year=1970):
            first = rrulestr(observance.rrule, dtstart=observance.start)[0]
            assert first == observance.start, (name, observance)


def test_the_footer_of_the_zones_tzif_data_is_its_current_rule():
    assert tzif_footer("Europe/London") == "GMT0BST,M3.5.0/1,M10.5.0"
    assert tzif_footer("America/New_York") == "EST5EDT,M3.2.0,M11.1.0"
    assert tzif_footer("Australia/Sydney") == "AEST-10AEDT,M10.1.0,M4.1.0/3"
    assert tzif_footer("Asia/Kathmandu") == "<+0545>-5:45"
    with pytest.raises(UnsupportedRule):
        tzif_footer("../../etc/passwd")


def test_every_zone_rule_gives_the_offsets_zoneinfo_gives_once_its_listed_changes_are_over():
    middles = [
        dt.datetime(year, month, 15, 12, tzinfo=dt.UTC) for year in (2027, 2030) for month in range(1, 13)
    ]
    written, disagree = 0, set()
    for name in sorted(available_timezones()):
        try:
            rule = parse_posix_tz(tzif_footer(name))
        except UnsupportedRule:
            continue
        zone = ZoneInfo(name)
        written += 1
        # A minute either side of each change, where a day or an hour off would show.
        edges = [
            (changed_at + dt.timedelta(minutes=minutes)).replace(tzinfo=dt.UTC)
            for year in (2027, 2030)
            for changed_at, _ in rule.changes(year)
            for minutes in (-1, 1)
        ]
        if any(
            rule.utcoffset(instant) != instant.astimezone(zone).utcoffset() for instant in middles + edges
        ):
            disagree.add(name)
    assert written > 550
    # Morocco's TZif data lists each Ramadan's change decades ahead; its footer applies after them.
    assert disagree <= {"Africa/Casablanca", "Africa/El_Aaiun"}


def test_an_instant_is_written_with_the_rule_only_when_the_rule_gives_zoneinfos_local_time():
    london = ZoneInfo("Europe/London")
    assert exact_rule("Europe/London", [dt.datetime(2026, 12, 10, 10, tzinfo=london)]) is not None
    # 01:30 on the last Sunday of October happens twice in London: a local time can't say which.
    assert exact_rule("Europe/London", [dt.datetime(2026, 10, 25, 1, 30, fold=1, tzinfo=london)]) is None
    assert exact_rule("Africa/Cairo", [dt.datetime(2026, 12, 10, 10, tzinfo=dt.UTC)]) is None
    # During Ramadan 2027 Morocco is on +00, which its rule (+01 all year) does not say.
    assert exact_rule("Africa/Casablanca", [dt.datetime(2027, 2, 20, 10, tzinfo=dt.UTC)]) is None
    assert exact_rule("Africa/Casablanca", [dt.datetime(2027, 6, 20, 10, tzinfo=dt.UTC)]) is not None
