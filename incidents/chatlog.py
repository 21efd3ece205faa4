"""Parse war-room chat logs (IRC client logs, Slack channel exports) into timed lines.

Pure: no Django. IRC lines carry only a time of day, so the caller gives the
local date the log starts on and the zone the client wrote times in; a time
that jumps back by more than an hour means the log passed midnight. Lines that
match no format are returned with their line numbers, never dropped.
"""

import datetime as dt
import html
import json
import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from zoneinfo import ZoneInfo

# An optional date, then the time: `14:02`, `[14:03:41]`, `2026-10-03 14:02:11`.
TIME = r"\[?(?:(?P<date>\d{4}-\d{2}-\d{2})[ T])?(?P<hour>\d{1,2}):(?P<minute>\d{2})(?::(?P<second>\d{2}))?\]?"
NICK = r"[@+%~&]?(?P<nick>[^\s<>:]+)"
FORMATS = [
    # `14:02 < jsmith> text` (irssi) and `[14:03:41] <jsmith> text` (weechat, xchat, ZNC)
    re.compile(rf"^{TIME}\s+<\s*{NICK}\s*>\s?(?P<text>.*)$"),
    # `14:06 * rlee reverting`: an action (/me)
    re.compile(rf"^{TIME}\s+\*\s+{NICK}\s+(?P<action>.+)$"),
    # `14:05:12 akim: text`
    re.compile(rf"^{TIME}\s+{NICK}:\s+(?P<text>.+)$"),
]
MAX_LINES = 20_000
# Slack messages that are not somebody speaking.
SLACK_SKIPPED_SUBTYPES = {
    "channel_join",
    "channel_leave",
    "channel_topic",
    "channel_purpose",
    "channel_name",
    "channel_archive",
    "group_join",
    "group_leave",
    "pinned_item",
}


@dataclass(frozen=True)
class ChatLine:
    line_number: int
    occurred_at: dt.datetime
    speaker: str
    text: str


@dataclass(frozen=True)
class UnparsedLine:
    line_number: int
    line: str


@dataclass
class ParsedLog:
    lines: list[ChatLine] = field(default_factory=list)
    unparsed: list[UnparsedLine] = field(default_factory=list)


def parse_irc(text: str, *, start_date: dt.date, zone: ZoneInfo) -> ParsedLog:
    """IRC-style lines, dated from `start_date` in `zone`, returned in UTC."""
    result = ParsedLog()
    day = start_date
    previous: dt.datetime | None = None
    for number, raw in enumerate(text.splitlines()[:MAX_LINES], start=1):
        line = raw.strip()
        if not line:
            continue
        match = next((found for pattern in FORMATS if (found := pattern.match(line))), None)
        if (
            match is None
            or int(match["hour"]) > 23
            or int(match["minute"]) > 59
            or int(match["second"] or 0) > 59
        ):
            result.unparsed.append(UnparsedLine(number, raw.rstrip()))
            continue
        if match["date"]:
            try:
                day = dt.date.fromisoformat(match["date"])
            except ValueError:
                result.unparsed.append(UnparsedLine(number, raw.rstrip()))
                continue
        local = dt.datetime.combine(
            day, dt.time(int(match["hour"]), int(match["minute"]), int(match["second"] or 0)), tzinfo=zone
        )
        try:
            if previous is not None and not match["date"] and local < previous - dt.timedelta(hours=1):
                day += dt.timedelta(days=1)
                local += dt.timedelta(days=1)
            occurred_at = local.astimezone(dt.UTC)
        except OverflowError:  # a date such as 9999-12-31 has no next day, or no UTC instant
            result.unparsed.append(UnparsedLine(number, raw.rstrip()))
            continue
        previous = local
        nick = match["nick"]
        spoken = f"{nick} {match['action']}" if match.groupdict().get("action") else match["text"]
        result.lines.append(ChatLine(number, occurred_at, nick, spoken.strip()))
    return result


def _slack_text(text: str) -> str:
    # <@U123|akim> → @akim, <https://x|label> → label (https://x), <!here> → @here
    text = re.sub(r"<@(\w+)\|([^>]+)>", r"@\2", text)
    text = re.sub(r"<@(\w+)>", r"@\1", text)
    text = re.sub(r"<!(\w+)(?:\|[^>]*)?>", r"@\1", text)
    text = re.sub(r"<(https?://[^|>]+)\|([^>]+)>", r"\2 (\1)", text)
    text = re.sub(r"<(https?://[^>]+)>", r"\1", text)
    return html.unescape(text)


def _slack_speaker(message: Mapping[str, object]) -> str:
    profile = message.get("user_profile")
    if not isinstance(profile, Mapping):
        profile = {}
    return str(
        message.get("user_name")
        or profile.get("display_name")
        or profile.get("real_name")
        or message.get("username")
        or message.get("user")
        or ""
    )


def parse_slack_export(data: str | list[object]) -> ParsedLog:
    """One channel-day file of a Slack export: a JSON list of messages with epoch `ts`."""
    messages = json.loads(data) if isinstance(data, str) else data
    if not isinstance(messages, list):
        raise ValueError("A Slack export is a JSON list of messages.")
    result = ParsedLog()
    for number, message in enumerate(messages[:MAX_LINES], start=1):
        if not isinstance(message, dict):
            result.unparsed.append(UnparsedLine(number, json.dumps(message)[:500]))
            continue
        if str(message.get("subtype")) in SLACK_SKIPPED_SUBTYPES:
            continue
        try:
            occurred_at = dt.datetime.fromtimestamp(float(message["ts"]), tz=dt.UTC)
            text = _slack_text(str(message["text"])).strip()
        except (KeyError, TypeError, ValueError, OverflowError):
            result.unparsed.append(UnparsedLine(number, json.dumps(message)[:500]))
            continue
        speaker = _slack_speaker(message)
        if not text:
            result.unparsed.append(UnparsedLine(number, json.dumps(message)[:500]))
            continue
        result.lines.append(ChatLine(number, occurred_at, speaker[:100], text))
    return result


def looks_like_slack_export(text: str) -> bool:
    return text.lstrip().startswith("[")


def parse(text: str, *, start_date: dt.date, zone: ZoneInfo) -> ParsedLog:
    """A pasted log in any known format: a Slack export if it is a JSON list, IRC lines otherwise."""
    if looks_like_slack_export(text):
        try:
            return parse_slack_export(text)
        except ValueError:
            pass  # not JSON after all: read it as lines
    return parse_irc(text, start_date=start_date, zone=zone)
