"""Slack exports: the messages of a day file, and the ZIP as Slack hands it over.

Message shapes from Slack's docs: message subtypes (`bot_message` with `bot_id`, `username`
and `bot_profile`; `channel_join`, `channel_topic`, `channel_purpose`; `tombstone`, the
"This message was deleted." left for a thread's deleted parent) at
https://api.slack.com/events/message#subtypes; thread replies carry `thread_ts` and
`parent_user_id` (https://api.slack.com/messaging/retrieving#finding_threads); text escapes
`<@U123>`, `<#C123|name>`, `<https://x|label>`, `&amp;` `&lt;` `&gt;` at
https://api.slack.com/reference/surfaces/formatting#escaping.
"""

import datetime as dt
import io
import json
import zipfile

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from incidents import slack_export
from incidents.chatlog import parse_slack_export
from tests.incidents.slack_zip import TS, message, slack_zip


def test_bots_are_credited_by_name_and_joins_topics_and_tombstones_are_skipped():
    log = parse_slack_export(
        [
            message(0, "", subtype="channel_join", user="U02BOB"),
            message(1, "set the channel topic: checkout down", subtype="channel_topic", user="U01ALICE"),
            message(2, "set the channel purpose: war room", subtype="channel_purpose", user="U01ALICE"),
            message(3, "This message was deleted.", subtype="tombstone", user="USLACKBOT", hidden=True),
            message(
                4, "[FIRING:1] CheckoutLatency", subtype="bot_message", bot_id="B01", username="Alertmanager"
            ),
            message(
                5, "Deploy finished", subtype="bot_message", bot_id="B02", bot_profile={"name": "deploybot"}
            ),
            message(6, "no name at all", subtype="bot_message", bot_id="B03"),
            message(7, "", subtype="channel_leave", user="U02BOB"),
        ]
    )
    assert [(line.speaker, line.text) for line in log.lines] == [
        ("Alertmanager", "[FIRING:1] CheckoutLatency"),
        ("deploybot", "Deploy finished"),
        ("B03", "no name at all"),
    ]
    assert log.skipped == [1, 2, 3, 4, 8]
    assert log.unparsed == []


def test_mentions_links_and_entities_read_as_text():
    log = parse_slack_export(
        [
            message(
                0,
                "<@U01ALICE|alice> see <#C0WARROOM|warroom> and <https://grafana.example.com/d/x|the graph>: "
                "p99 &gt; 4s &amp; rising, &lt;not a tag&gt; <!here>",
                user="U02BOB",
            )
        ]
    )
    assert log.lines[0].text == (
        "@alice see #warroom and the graph (https://grafana.example.com/d/x): "
        "p99 > 4s & rising, <not a tag> @here"
    )


def test_thread_replies_are_kept_in_time_order():
    parent = message(0, "checkout is down", user="U01ALICE", thread_ts=f"{TS}.000100", reply_count=2)
    late_reply = message(
        120, "rolled back", user="U02BOB", thread_ts=f"{TS}.000100", parent_user_id="U01ALICE"
    )
    reply = message(30, "looking", user="U02BOB", thread_ts=f"{TS}.000100", parent_user_id="U01ALICE")
    between = message(60, "status page updated", user="U01ALICE")
    log = parse_slack_export([parent, late_reply, reply, between])
    assert [line.text for line in log.lines] == [
        "checkout is down",
        "looking",
        "status page updated",
        "rolled back",
    ]


def open_messages(data: bytes, channel: str, *days: str) -> list[dict]:
    export = slack_export.open_export(data)
    return slack_export.channel_messages(
        export, channel=channel, days=[dt.date.fromisoformat(day) for day in days]
    )


def test_speakers_and_mentions_come_from_users_json_when_messages_lack_a_profile():
    data = slack_zip(
        {
            "warroom/2026-11-27": [
                message(0, "is <@U02BOB> around? see <#C0GENERAL>", user="U01ALICE"),
                message(5, "here", user="U02BOB"),
                message(9, "with a profile", user="U02BOB", user_profile={"display_name": "bobby"}),
                message(12, "stranger", user="U09GONE"),
            ]
        }
    )
    log = parse_slack_export(open_messages(data, "warroom", "2026-11-27"))
    assert [(line.speaker, line.text) for line in log.lines] == [
        ("alice", "is @Bob Lee around? see #general"),
        ("Bob Lee", "here"),
        ("bobby", "with a profile"),
        ("U09GONE", "stranger"),
    ]


def test_the_export_lists_channels_and_their_days_and_reads_only_the_days_asked():
    data = slack_zip(
        {
            "warroom/2026-11-26": [message(-86400, "the day before", user="U01ALICE")],
            "warroom/2026-11-27": [message(0, "the day", user="U01ALICE")],
            "general/2026-11-27": [message(0, "lunch?", user="U02BOB")],
        }
    )
    export = slack_export.open_export(data)
    assert export.channels == ["general", "warroom"]
    assert export.days["warroom"] == [dt.date(2026, 11, 26), dt.date(2026, 11, 27)]
    assert [item["text"] for item in open_messages(data, "warroom", "2026-11-27")] == ["the day"]


def test_a_file_that_is_not_a_zip_is_refused_with_a_reason():
    with pytest.raises(slack_export.SlackExportError, match="not a ZIP archive"):
        slack_export.open_export(b'[{"type": "message"}]')


def test_an_archive_without_channel_folders_is_refused():
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        archive.writestr("notes.txt", "hello")
    with pytest.raises(slack_export.SlackExportError, match="no channel folders"):
        slack_export.open_export(buffer.getvalue())


def test_a_zip_bomb_is_refused_before_anything_is_inflated(monkeypatch):
    monkeypatch.setattr(slack_export, "MAX_UNCOMPRESSED", 1024 * 1024)
    # One megabyte of zeros and a bit compresses to about a kilobyte.
    data = slack_zip({"warroom/2026-11-27": []}, extra={"warroom/padding.bin": b"\0" * (1024 * 1024 + 1)})
    assert len(data) < 10_000
    with pytest.raises(slack_export.SlackExportError, match="unpacks to more than 1 MB"):
        slack_export.open_export(data)


def test_too_many_members_are_refused(monkeypatch):
    monkeypatch.setattr(slack_export, "MAX_MEMBERS", 5)
    data = slack_zip({f"warroom/2026-11-{day:02d}": [] for day in range(1, 10)})
    with pytest.raises(slack_export.SlackExportError, match="more than 5 files"):
        slack_export.open_export(data)


def test_a_day_file_over_the_member_limit_is_refused(monkeypatch):
    monkeypatch.setattr(slack_export, "MAX_MEMBER_BYTES", 1000)
    data = slack_zip({"warroom/2026-11-27": [message(0, "x" * 2000, user="U01ALICE")]})
    export = slack_export.open_export(data)
    with pytest.raises(slack_export.SlackExportError, match="larger than"):
        slack_export.channel_messages(export, channel="warroom", days=[dt.date(2026, 11, 27)])


def test_paths_that_climb_out_of_the_archive_are_ignored():
    data = slack_zip(
        {"warroom/2026-11-27": [message(0, "inside", user="U01ALICE")]},
        extra={
            "../warroom/2026-11-27.json": json.dumps([message(1, "outside", user="U01ALICE")]).encode(),
            "../2026-11-27.json": json.dumps([message(2, "climbed", user="U01ALICE")]).encode(),
            "../../etc/2026-11-27.json": b"[]",
            "/abs/2026-11-27.json": b"[]",
        },
    )
    export = slack_export.open_export(data)
    assert export.channels == ["warroom"]
    assert [item["text"] for item in open_messages(data, "warroom", "2026-11-27")] == ["inside"]


def stored_zip(files: dict[str, bytes]) -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_STORED) as archive:
        for name, content in files.items():
            archive.writestr(name, content)
    return buffer.getvalue()


def test_a_damaged_member_is_refused_with_a_reason():
    data = stored_zip({"warroom/2026-11-27.json": b'[{"type": "message", "text": "hello", "ts": "1"}]'})
    damaged = data.replace(b"hello", b"jello")  # the CRC no longer matches
    export = slack_export.open_export(damaged)
    with pytest.raises(slack_export.SlackExportError, match="damaged"):
        slack_export.channel_messages(export, channel="warroom", days=[dt.date(2026, 11, 27)])


def test_an_encrypted_member_is_refused_with_a_reason():
    data = bytearray(stored_zip({"users.json": b"[]", "warroom/2026-11-27.json": b"[]"}))
    # Set the "encrypted" flag bit in every local and central directory header.
    for signature, flag_offset in ((b"PK\x03\x04", 6), (b"PK\x01\x02", 8)):
        start = 0
        while (start := data.find(signature, start)) != -1:
            data[start + flag_offset] |= 0x01
            start += 4
    with pytest.raises(slack_export.SlackExportError, match="encrypted"):
        slack_export.open_export(bytes(data))


@settings(max_examples=50, deadline=None)
@given(st.binary(max_size=300))
def test_any_bytes_are_read_or_refused_with_a_reason(tail):
    for data in (tail, b"PK\x03\x04" + tail, stored_zip({"warroom/2026-11-27.json": tail})):
        try:
            export = slack_export.open_export(data)
            slack_export.channel_messages(export, channel="warroom", days=[dt.date(2026, 11, 27)])
        except slack_export.SlackExportError:
            pass
