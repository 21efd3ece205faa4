"""Each IRC client's log as the client writes it by default: speech kept, continuations joined,
joins and quits skipped, and anything else listed back.

Every input below is written in the shape the client's own source gives it.
"""

import datetime as dt
from zoneinfo import ZoneInfo

from incidents.chatlog import parse, parse_irc

UTC = ZoneInfo("UTC")
PARIS = ZoneInfo("Europe/Paris")
DAY = dt.date(2026, 11, 27)


def said(log):
    return [(line.occurred_at.strftime("%Y-%m-%d %H:%M:%S"), line.speaker, line.text) for line in log.lines]


def unparsed(log):
    return [(line.line_number, line.line) for line in log.unparsed]


def test_weechats_logger_file():
    # weechat src/plugins/logger/logger-config.c: `logger.file.time_format` defaults to
    # "%Y-%m-%d %H:%M:%S"; each line is time TAB prefix TAB message. Prefixes come from
    # weechat.look.prefix_join "-->", prefix_quit "<--", prefix_network "--", prefix_error "=!=",
    # prefix_action " *"; nicks carry their mode (`@`). An empty prefix continues the message above,
    # and logger_print_cb writes "%s\t%s\t%s" with the message as is, so a multi-line message's
    # later lines come bare.
    log = parse_irc(
        "2026-11-27 14:00:01\t-->\talice (~alice@db.example.com) has joined #warroom\n"
        "2026-11-27 14:02:11\t@alice\tcheckout is timing out\n"
        "2026-11-27 14:02:11\t\tstack: ConnectionPool exhausted\n"
        "2026-11-27 14:02:40\tbob\ton it\n"
        "2026-11-27 14:02:50\tbob\tpool settings:\n"
        "max=20\n"
        "timeout=5s\n"
        "2026-11-27 14:03:05\t *\tbob restarts the pool\n"
        "2026-11-27 14:03:30\t--\tMode #warroom [+o bob] by ChanServ\n"
        "2026-11-27 14:04:00\t<--\tcarol (~carol@host) has quit (Ping timeout)\n"
        "2026-11-27 14:05 bob this line lost its tabs\n"
        "2026-11-28 00:01:00\talice\tnext day\n",
        start_date=dt.date(2026, 1, 1),
        zone=PARIS,
    )
    assert said(log) == [
        ("2026-11-27 13:02:11", "alice", "checkout is timing out\nstack: ConnectionPool exhausted"),
        ("2026-11-27 13:02:40", "bob", "on it"),
        ("2026-11-27 13:02:50", "bob", "pool settings:\nmax=20\ntimeout=5s"),
        ("2026-11-27 13:03:05", "bob", "bob restarts the pool"),
        ("2026-11-27 23:01:00", "alice", "next day"),
    ]
    assert log.lines[0].end_line_number == 3
    assert log.skipped == [1, 9, 10]
    assert unparsed(log) == [(11, "2026-11-27 14:05 bob this line lost its tabs")]


def test_text_copied_from_weechats_screen():
    # weechat's screen (src/core/wee-config.c): the time (weechat.look.buffer_time_format
    # "%H:%M:%S", often shortened to "%H:%M"), the prefix column (nick, or prefix_join "-->",
    # prefix_action " *"), weechat.look.prefix_suffix "|", then the message. Wrapped lines copy
    # as the bar alone, indented to the column.
    log = parse_irc(
        "14:02 alice | checkout is timing out, the pool\n"
        "            | is exhausted on every node\n"
        "14:02:40 @bob | on it\n"
        "14:03   --> | carol (~carol@host) has joined #warroom\n"
        "14:03     * | bob restarts the pool\n"
        "14:04 carol |\n"
        "garbage without a time\n",
        start_date=DAY,
        zone=UTC,
    )
    assert said(log) == [
        ("2026-11-27 14:02:00", "alice", "checkout is timing out, the pool\nis exhausted on every node"),
        ("2026-11-27 14:02:40", "bob", "on it"),
        ("2026-11-27 14:03:00", "bob", "bob restarts the pool"),
    ]
    assert log.skipped == [4]
    assert unparsed(log) == [(6, "14:04 carol |"), (7, "garbage without a time")]


def test_hexchats_log():
    # HexChat src/common/cfgfiles.c: stamp_log_format defaults to "%b %d %H:%M:%S "; text events
    # (src/common/textevents.in) write `<nick>` TAB message, `*` TAB nick action, and joins and
    # quits as `*` TAB nick … has joined; a new log starts with "**** BEGIN LOGGING AT <ctime>".
    log = parse_irc(
        "**** BEGIN LOGGING AT Fri Nov 27 13:58:02 2026\n"
        "\n"
        "Nov 27 13:58:02 *\talice (~alice@host) has joined #warroom\n"
        "Nov 27 14:02:11 <alice>\tcheckout is timing out\n"
        "\tsee the graph\n"
        "Nov 27 14:02:40 <@bob>\ton it\n"
        "Nov 27 14:03:05 *\tbob restarts the pool\n"
        "Nov 27 14:04:00 *\tcarol has quit (Ping timeout)\n"
        "Nov 27 14:05:00 bob has no brackets\n"
        "Dec 31 23:59:00 <alice>\tlast of the year\n"
        "Jan 01 00:00:30 <bob>\tfirst of the next\n",
        start_date=dt.date(2020, 1, 1),
        zone=UTC,
    )
    assert said(log) == [
        ("2026-11-27 14:02:11", "alice", "checkout is timing out\nsee the graph"),
        ("2026-11-27 14:02:40", "bob", "on it"),
        ("2026-11-27 14:03:05", "bob", "bob restarts the pool"),
        ("2026-12-31 23:59:00", "alice", "last of the year"),
        ("2027-01-01 00:00:30", "bob", "first of the next"),
    ]
    assert log.skipped == [1, 3, 8]
    assert unparsed(log) == [(9, "Nov 27 14:05:00 bob has no brackets")]


def test_irssis_log():
    # irssi src/core/log.c: log_timestamp "%H:%M ", log_open_string "--- Log opened %a %b %d %H:%M:%S %Y",
    # log_day_changed "--- Day changed %a %b %d %Y"; the default theme writes `<@nick>` (or `< nick>`
    # with no mode), ` * nick action` and `-!-` for joins, quits and modes.
    log = parse_irc(
        "--- Log opened Fri Nov 27 23:50:01 2026\n"
        "23:50 -!- alice [~alice@host] has joined #warroom\n"
        "23:52 <@alice> checkout is timing out\n"
        "       still timing out after the restart\n"
        "23:55 < bob> on it\n"
        "--- Day changed Sat Nov 28 2026\n"
        "00:01  * bob restarts the pool\n"
        "00:02 -!- mode/#warroom [+o bob] by ChanServ\n"
        "00:03 bob restarted, watching\n"
        "--- Log closed Sat Nov 28 00:10:00 2026\n",
        start_date=dt.date(2020, 1, 1),
        zone=UTC,
    )
    assert said(log) == [
        ("2026-11-27 23:52:00", "alice", "checkout is timing out\nstill timing out after the restart"),
        ("2026-11-27 23:55:00", "bob", "on it"),
        ("2026-11-28 00:01:00", "bob", "bob restarts the pool"),
    ]
    assert log.skipped == [1, 2, 6, 8, 10]
    assert unparsed(log) == [(9, "00:03 bob restarted, watching")]


def test_zncs_log_module():
    # ZNC modules/log.cpp: the timestamp defaults to "[%H:%M:%S]" and the file is named %Y-%m-%d.log
    # (the caller gives that date); `<nick> msg`, `* nick action`, `-nick- notice`, `*** Joins: …`.
    log = parse_irc(
        "[14:00:01] *** Joins: alice (alice@db.example.com)\n"
        "[14:02:11] <alice> checkout is timing out\n"
        "\ttraceback follows in the paste\n"
        "[14:02:40] <bob> on it\n"
        "[14:03:05] * bob restarts the pool\n"
        "[14:03:10] -ChanServ- You are now identified\n"
        "[14:04:00] *** Quits: carol (carol@host) (Ping timeout)\n"
        "[14:05:00] bob restarted\n"
        "   an indented line after a skipped one\n",
        start_date=DAY,
        zone=UTC,
    )
    assert said(log) == [
        ("2026-11-27 14:02:11", "alice", "checkout is timing out\ntraceback follows in the paste"),
        ("2026-11-27 14:02:40", "bob", "on it"),
        ("2026-11-27 14:03:05", "bob", "bob restarts the pool"),
        ("2026-11-27 14:03:10", "ChanServ", "You are now identified"),
    ]
    assert log.skipped == [1, 7]
    assert unparsed(log) == [(8, "[14:05:00] bob restarted"), (9, "   an indented line after a skipped one")]


def test_a_continuation_with_nothing_above_it_is_listed_back():
    log = parse("   orphan\n14:02 < a> hi", start_date=DAY, zone=UTC)
    assert [line.text for line in log.lines] == ["hi"]
    assert unparsed(log) == [(1, "   orphan")]
