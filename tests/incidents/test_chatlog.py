"""The chat-log parser on its own: no database."""

import datetime as dt
import json
from zoneinfo import ZoneInfo

from hypothesis import given, settings
from hypothesis import strategies as st

from incidents.chatlog import parse, parse_irc, parse_slack_export

UTC = ZoneInfo("UTC")
DAY = dt.date(2026, 10, 3)


def test_the_sample_war_room_log_is_parsed_line_by_line(sample):
    log = parse_irc(sample("irc-warroom.log"), start_date=DAY, zone=UTC)
    assert [(line.occurred_at.strftime("%H:%M:%S"), line.speaker, line.text) for line in log.lines] == [
        ("14:02:00", "jsmith", "seeing elevated 500s on listings after the last push"),
        ("14:02:00", "akim", "confirmed, supergrep is going crazy"),
        ("14:03:41", "jsmith", "which deploy was that?"),
        ("14:03:59", "rlee", "web 3ee7f99bb3 -> 4add615720, 14:00"),
        ("14:05:12", "akim", "putting a hold on the push queue"),
        ("14:06:00", "rlee", "rlee reverting"),
        ("14:09:30", "rlee", "revert is out to production"),
        ("14:11:00", "akim", "error rate back to baseline"),
        ("14:15:00", "jsmith", "I'll start the postmortem doc"),
    ]
    assert [(line.line_number, line.line) for line in log.unparsed] == [
        (9, "-- this line has no time and cannot be parsed --")
    ]
    assert log.lines[0].occurred_at.date() == DAY


def test_times_are_read_on_the_clients_wall_clock():
    log = parse_irc("14:02 < jsmith> hi", start_date=DAY, zone=ZoneInfo("America/New_York"))
    assert log.lines[0].occurred_at == dt.datetime(2026, 10, 3, 18, 2, tzinfo=dt.UTC)


def test_a_log_that_passes_midnight_moves_to_the_next_day():
    log = parse_irc("23:58 < a> still bad\n00:03 < b> better now", start_date=DAY, zone=UTC)
    assert [line.occurred_at.date() for line in log.lines] == [DAY, DAY + dt.timedelta(days=1)]


def test_dated_lines_use_their_own_date():
    log = parse_irc("2026-10-05 09:15:00 <ops> fixed", start_date=DAY, zone=UTC)
    assert log.lines[0].occurred_at == dt.datetime(2026, 10, 5, 9, 15, tzinfo=dt.UTC)


def test_nick_mode_prefixes_are_dropped_and_impossible_times_are_unparsed():
    log = parse_irc("[14:03:41] <@akim> op here\n25:61 < x> nope", start_date=DAY, zone=UTC)
    assert log.lines[0].speaker == "akim"
    assert [line.line_number for line in log.unparsed] == [2]


def test_the_slack_export_sample_skips_joins_and_keeps_messages(sample):
    log = parse_slack_export(sample("slack-export-warroom.json"))
    assert [line.speaker for line in log.lines] == ["akim", "rlee", "akim", "rlee"]
    assert log.lines[0].text == "Checkout latency p99 is 4s and climbing"
    assert log.lines[0].occurred_at == dt.datetime.fromtimestamp(1791756121.0002, tz=dt.UTC)
    assert log.unparsed == []


def test_slack_markup_is_made_readable_and_broken_messages_are_listed():
    messages = [
        {
            "type": "message",
            "user": "U1",
            "text": "<!here> see <https://g.example.com/x|the graph> &amp; <@U2|rlee>",
            "ts": "1791756121.0",
        },
        {"type": "message", "user": "U1", "text": "no timestamp"},
    ]
    log = parse_slack_export(json.dumps(messages))
    assert log.lines[0].text == "@here see the graph (https://g.example.com/x) & @rlee"
    assert [line.line_number for line in log.unparsed] == [2]


def test_slack_messages_of_odd_shapes_are_listed_back_rather_than_failing_the_import():
    messages = [
        {
            "type": "message",
            "user": "U1",
            "user_profile": "pat",
            "text": "profile is a string",
            "ts": "1791756121.0",
        },
        {"type": "message", "subtype": ["bot_message"], "text": "subtype is a list", "ts": "1791756122.0"},
        "not a message",
    ]

    log = parse_slack_export(json.dumps(messages))

    assert [(line.speaker, line.text) for line in log.lines] == [
        ("U1", "profile is a string"),
        ("", "subtype is a list"),
    ]
    assert [line.line_number for line in log.unparsed] == [3]


def test_a_log_line_whose_date_has_no_next_day_is_listed_back():
    log = parse_irc("9999-12-31 23:50 <akim> last\n00:10 <akim> after", start_date=DAY, zone=UTC)

    assert [line.text for line in log.lines] == ["last"]
    assert [line.line_number for line in log.unparsed] == [2]


def test_parse_recognises_a_slack_export_by_its_shape(sample):
    assert len(parse(sample("slack-export-warroom.json"), start_date=DAY, zone=UTC).lines) == 4
    assert len(parse("[14:03:41] <jsmith> hi", start_date=DAY, zone=UTC).lines) == 1


@settings(max_examples=150, deadline=None)
@given(
    st.lists(
        st.one_of(
            st.text(max_size=40),
            st.sampled_from(
                ["14:02 < a> hi", "  more", "--- Day changed Sat Nov 28 2026", "[14:03] *** Joins: b"]
            ),
        ).filter(lambda line: not any(mark in line for mark in "\n\r\x0b\x0c\x1c\x1d\x1e\x85\u2028\u2029")),
        max_size=15,
    )
)
def test_every_non_blank_line_is_spoken_continued_skipped_or_listed_back(lines):
    text = "\n".join(lines)
    log = parse_irc(text, start_date=DAY, zone=UTC)
    spoken = [number for line in log.lines for number in range(line.line_number, line.end_line_number + 1)]
    numbers = sorted(
        [number for number in spoken if text.splitlines()[number - 1].strip()]
        + [line.line_number for line in log.unparsed]
        + log.skipped
    )
    expected = [number for number, line in enumerate(text.splitlines(), start=1) if line.strip()]
    assert numbers == expected
