"""Parse war-room chat logs (IRC client logs, Slack channel exports) into timed lines.

Pure: no Django. The IRC clients' own log formats are read as they write them by
default: weechat's logger (`2026-11-27 14:02:11<TAB>nick<TAB>text`), text copied
from weechat's screen (`14:02 alice | text`), HexChat (`Nov 27 14:02:11 <nick><TAB>text`),
irssi (`14:02 <@nick> text`, `--- Day changed Fri Nov 27 2026`) and ZNC's log module
(`[14:02:11] <nick> text`). Lines that carry only a time of day are dated from the
local date the caller gives (or the last day marker), in the zone the client wrote
times in; a time that jumps back by more than an hour means the log passed midnight.
An indented line without a time continues the message above it (a wrapped or
multi-line message), as does any line without a time right after a weechat
logger line (weechat writes a multi-line message's later lines bare). Joins,
quits, mode and topic changes are recognised and skipped; lines that match no
format are returned with their line numbers, never dropped.
"""

import dataclasses
import datetime as dt
import html
import json
import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from zoneinfo import ZoneInfo

MONTHS = {
    name: number
    for number, name in enumerate(
        ("Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"), start=1
    )
}
MONTH = r"(?P<month>Jan|Feb|Mar|Apr|May|Jun|Jul|Aug|Sep|Oct|Nov|Dec)"
TIME = r"(?P<hour>\d{1,2}):(?P<minute>\d{2})(?::(?P<second>\d{2}))?"
ISO_DATE = r"(?P<date>\d{4}-\d{2}-\d{2})"
# weechat's logger: `logger.file.time_format` defaults to "%Y-%m-%d %H:%M:%S", then TAB prefix TAB message.
WEECHAT_LOG = re.compile(rf"^{ISO_DATE} {TIME}\t(?P<prefix>[^\t]*)\t(?P<text>.*)$")
# HexChat: `stamp_log_format` defaults to "%b %d %H:%M:%S ", then the text event (`<nick>` TAB message).
HEXCHAT = re.compile(rf"^{MONTH} +(?P<day>\d{{1,2}}) {TIME} (?P<body>.*)$")
# Copied from weechat's screen: time, the prefix column (nick, ` *`, `-->`…), `|`, the message.
WEECHAT_SCREEN = re.compile(rf"^{TIME}\s+(?P<prefix>[^\s|│<>]+|-->|<--)?\s*[|│] ?(?P<text>.*)$")
# irssi (`log_timestamp` "%H:%M "), ZNC (`[%H:%M:%S]`), and dated variants: the time, then a body.
STAMPED = re.compile(rf"^\[?(?:{ISO_DATE}[ T])?{TIME}\]?\s+(?P<body>.*)$")
# Day markers: irssi's `log_open_string` / `log_day_changed`, HexChat's BEGIN LOGGING line.
DAY_MARKER = re.compile(
    rf"^(?:--- (?:Log opened|Day changed)|\*\*\*\* BEGIN LOGGING AT) \w{{3}} {MONTH} +(?P<day>\d{{1,2}})"
    rf"(?: \d{{1,2}}:\d{{2}}:\d{{2}})? (?P<year>\d{{4}})$"
)
# Lines that are the log's own bookkeeping.
LOG_NOTICE = re.compile(r"^(?:--- Log closed|\*\*\*\* ENDING LOGGING AT)\b")

# Bodies after the time.
MESSAGE = re.compile(r"^<\s*[@+%~&]?(?P<nick>[^\s<>]+)\s*>\s?(?P<text>.*)$")
ACTION = re.compile(r"^\*\s*[@+%~&]?(?P<nick>[^\s*]+)\s+(?P<text>.+)$")
NOTICE = re.compile(r"^-(?P<nick>[^\s!-][^\s]*?)(?:\([^)]*\))?-\s+(?P<text>.+)$")
ADDRESSED = re.compile(r"^[@+%~&]?(?P<nick>[^\s:<>]+):\s+(?P<text>.+)$")
# irssi `-!-`, ZNC `***`, weechat `-->` `<--` `--` `=!=`: joins, quits, modes, topics.
EVENT = re.compile(r"^(?:-!-|\*\*\*|-->|<--|--|=!=)(?:\s|$)")
# HexChat writes joins, parts, quits and the like as `*` TAB nick …, the same mark as an action.
EVENT_TEXT = re.compile(
    r"^(?:\([^)]*\)\s+)?(?:(?:has|was) (?:joined|left|quit|kicked|changed the topic)|is now known as|"
    r"sets (?:mode|ban)|removes |gives |has set topic)"
)
NICK_MODES = "@+%~&"
MAX_LINES = 20_000


@dataclass(frozen=True)
class ChatLine:
    line_number: int
    occurred_at: dt.datetime
    speaker: str
    text: str
    # The last line of the log this message spans (continuation lines included).
    end_line_number: int = 0


@dataclass(frozen=True)
class UnparsedLine:
    line_number: int
    line: str


@dataclass
class ParsedLog:
    lines: list[ChatLine] = field(default_factory=list)
    unparsed: list[UnparsedLine] = field(default_factory=list)
    # Line numbers of joins, quits, mode and topic changes and day markers: read, not speech.
    skipped: list[int] = field(default_factory=list)


@dataclass(frozen=True)
class _Said:
    speaker: str
    text: str


_SKIP = "skip"
_CONTINUE = "continue"


def _body(body: str) -> _Said | str | None:
    """What follows the time: a message, an action, a notice, an event to skip, or nothing known."""
    if match := MESSAGE.match(body):
        return _Said(match["nick"], match["text"])
    if EVENT.match(body):
        return _SKIP
    if match := ACTION.match(body):
        if EVENT_TEXT.match(match["text"]):
            return _SKIP
        return _Said(match["nick"], f"{match['nick']} {match['text']}")
    if match := NOTICE.match(body):
        return _Said(match["nick"], match["text"])
    if match := ADDRESSED.match(body):
        return _Said(match["nick"], match["text"])
    return None


def _prefixed(prefix: str, text: str) -> _Said | str | None:
    """weechat's prefix column and message: a nick, ` *` for an action, arrows for joins and quits."""
    prefix = prefix.strip()
    if not prefix:
        return _CONTINUE
    if prefix in ("-->", "<--", "--", "=!=") or prefix.startswith("=!="):
        return _SKIP
    if prefix == "*":
        nick, _, rest = text.partition(" ")
        return _Said(nick.lstrip(NICK_MODES), text) if nick and rest else None
    return _Said(prefix.lstrip(NICK_MODES) or prefix, text)


def _nearest_year(month: int, day: int, around: dt.date) -> dt.date:
    """HexChat's `%b %d` has no year: the one that puts the date nearest the log's current day."""
    candidates = []
    for year in (around.year - 1, around.year, around.year + 1):
        try:
            candidates.append(dt.date(year, month, day))
        except ValueError:
            continue
    if not candidates:
        raise ValueError("no such day")
    return min(candidates, key=lambda date: abs(date - around))


class _Reader:
    def __init__(self, *, start_date: dt.date, zone: ZoneInfo):
        self.day = start_date
        self.zone = zone
        self.previous: dt.datetime | None = None
        # weechat's logger writes a multi-line message's later lines bare, with no time or indent.
        self.in_weechat_message = False
        self.result = ParsedLog()

    def unparsed(self, number: int, raw: str) -> None:
        self.result.unparsed.append(UnparsedLine(number, raw.rstrip()))

    def continue_last(self, number: int, raw: str, text: str) -> None:
        lines = self.result.lines
        # Only a message directly above (blank lines aside) can be continued.
        if (
            not lines
            or (self.result.skipped and self.result.skipped[-1] > lines[-1].end_line_number)
            or (self.result.unparsed and self.result.unparsed[-1].line_number > lines[-1].end_line_number)
        ):
            self.unparsed(number, raw)
            return
        last = lines[-1]
        lines[-1] = dataclasses.replace(last, text=f"{last.text}\n{text}".strip(), end_line_number=number)

    def at(self, match: re.Match[str], *, day: dt.date | None) -> dt.datetime | None:
        """The instant of a line's time, on its own date or the log's current day (rolling past midnight)."""
        hour, minute, second = int(match["hour"]), int(match["minute"]), int(match["second"] or 0)
        if hour > 23 or minute > 59 or second > 59:
            return None
        try:
            local = dt.datetime.combine(day or self.day, dt.time(hour, minute, second), tzinfo=self.zone)
            if day is None and self.previous is not None and local < self.previous - dt.timedelta(hours=1):
                local += dt.timedelta(days=1)
            occurred_at = local.astimezone(dt.UTC)
        except OverflowError:  # a date such as 9999-12-31 has no next day, or no UTC instant
            return None
        self.day = local.date()
        self.previous = local
        return occurred_at

    def say(self, number: int, occurred_at: dt.datetime, said: _Said) -> None:
        self.result.lines.append(
            ChatLine(number, occurred_at, said.speaker[:100], said.text.strip(), end_line_number=number)
        )

    def read(self, number: int, raw: str) -> None:
        line = raw.strip()
        continues_weechat_message, self.in_weechat_message = self.in_weechat_message, False
        if marker := DAY_MARKER.match(line):
            try:
                self.day = dt.date(int(marker["year"]), MONTHS[marker["month"]], int(marker["day"]))
            except ValueError:
                self.unparsed(number, raw)
                return
            self.previous = None  # the times that follow are on the new day
            self.result.skipped.append(number)
            return
        if LOG_NOTICE.match(line):
            self.result.skipped.append(number)
            return
        said: _Said | str | None
        day: dt.date | None = None
        if match := WEECHAT_LOG.match(raw.rstrip("\r\n")):
            try:
                day = dt.date.fromisoformat(match["date"])
            except ValueError:
                self.unparsed(number, raw)
                return
            said = _prefixed(match["prefix"], match["text"])
        elif match := HEXCHAT.match(line):
            try:
                day = _nearest_year(MONTHS[match["month"]], int(match["day"]), self.day)
            except ValueError:
                self.unparsed(number, raw)
                return
            said = _body(match["body"])
        elif match := WEECHAT_SCREEN.match(line):
            said = _prefixed(match["prefix"] or "", match["text"])
        elif match := STAMPED.match(line):
            if match["date"]:
                try:
                    day = dt.date.fromisoformat(match["date"])
                except ValueError:
                    self.unparsed(number, raw)
                    return
            said = _body(match["body"])
        else:
            if raw[:1].isspace() or line.startswith(("|", "│")) or continues_weechat_message:
                self.continue_last(number, raw, line.lstrip("|│ ").strip())
                self.in_weechat_message = continues_weechat_message
            else:
                self.unparsed(number, raw)
            return
        if said is None:
            self.unparsed(number, raw)
            return
        if said == _CONTINUE:
            self.continue_last(number, raw, match["text"].strip())
            self.in_weechat_message = match.re is WEECHAT_LOG
            return
        occurred_at = self.at(match, day=day)
        if occurred_at is None:
            self.unparsed(number, raw)
            return
        if said == _SKIP:
            self.result.skipped.append(number)
            return
        assert isinstance(said, _Said)
        if not said.text.strip():
            self.unparsed(number, raw)
            return
        self.say(number, occurred_at, said)
        self.in_weechat_message = match.re is WEECHAT_LOG


def parse_irc(text: str, *, start_date: dt.date, zone: ZoneInfo) -> ParsedLog:
    """IRC client log lines, dated from `start_date` in `zone` (or their own dates), returned in UTC."""
    reader = _Reader(start_date=start_date, zone=zone)
    for number, raw in enumerate(text.splitlines()[:MAX_LINES], start=1):
        if raw.strip():
            reader.read(number, raw)
    return reader.result


# Slack messages that are not somebody speaking: joins and leaves, topic and purpose changes,
# and the "This message was deleted." tombstone left where a thread's parent was removed.
SLACK_SKIPPED_SUBTYPES = {
    "channel_join",
    "channel_leave",
    "channel_topic",
    "channel_purpose",
    "channel_name",
    "channel_archive",
    "channel_unarchive",
    "group_join",
    "group_leave",
    "group_topic",
    "group_purpose",
    "pinned_item",
    "bot_add",
    "bot_remove",
    "tombstone",
}


def _slack_text(text: str) -> str:
    """Slack's mrkdwn escapes as plain text (https://api.slack.com/reference/surfaces/formatting)."""
    # <@U123|akim> → @akim, <#C123|warroom> → #warroom, <https://x|label> → label (https://x), <!here> → @here
    text = re.sub(r"<@(\w+)\|([^>]+)>", r"@\2", text)
    text = re.sub(r"<@(\w+)>", r"@\1", text)
    text = re.sub(r"<#(\w+)\|([^>]*)>", lambda match: f"#{match[2] or match[1]}", text)
    text = re.sub(r"<#(\w+)>", r"#\1", text)
    text = re.sub(r"<!subteam\^\w+\|([^>]+)>", r"\1", text)
    text = re.sub(r"<!date\^\d+\^[^|>]*\|([^>]+)>", r"\1", text)
    text = re.sub(r"<!(\w+)(?:\|[^>]*)?>", r"@\1", text)
    text = re.sub(r"<((?:https?|mailto):[^|>]+)\|([^>]+)>", r"\2 (\1)", text)
    text = re.sub(r"<((?:https?|mailto):[^>]+)>", r"\1", text)
    # Slack escapes only &, < and >; unescaping them last keeps `&lt;@U1&gt;` literal text.
    return html.unescape(text)


def _mapping(value: object) -> Mapping[str, object]:
    return value if isinstance(value, Mapping) else {}


def _slack_speaker(message: Mapping[str, object]) -> str:
    profile = _mapping(message.get("user_profile"))
    bot = _mapping(message.get("bot_profile"))
    return str(
        message.get("user_name")
        or profile.get("display_name")
        or profile.get("real_name")
        or message.get("username")  # a bot's name, or an integration's override
        or bot.get("name")
        or message.get("user")
        or message.get("bot_id")
        or ""
    )


def _slack_files(message: Mapping[str, object]) -> str:
    files = message.get("files")
    if not isinstance(files, list):
        return ""
    names = [str(_mapping(item).get("title") or _mapping(item).get("name") or "") for item in files]
    return "; ".join(f"shared a file: {name}" for name in names if name)


def parse_slack_export(data: str | list[object]) -> ParsedLog:
    """Channel-day files of a Slack export: a JSON list of messages with epoch `ts`, read in time order."""
    messages = json.loads(data) if isinstance(data, str) else data
    if not isinstance(messages, list):
        raise ValueError("A Slack export is a JSON list of messages.")
    result = ParsedLog()
    for number, message in enumerate(messages[:MAX_LINES], start=1):
        if not isinstance(message, dict):
            result.unparsed.append(UnparsedLine(number, json.dumps(message)[:500]))
            continue
        if str(message.get("subtype")) in SLACK_SKIPPED_SUBTYPES:
            result.skipped.append(number)
            continue
        try:
            occurred_at = dt.datetime.fromtimestamp(float(message["ts"]), tz=dt.UTC)
            text = _slack_text(str(message.get("text") or "")).strip()
        except (KeyError, TypeError, ValueError, OverflowError):
            result.unparsed.append(UnparsedLine(number, json.dumps(message)[:500]))
            continue
        text = "\n".join(part for part in (text, _slack_files(message)) if part)
        if not text:
            result.unparsed.append(UnparsedLine(number, json.dumps(message)[:500]))
            continue
        speaker = _slack_speaker(message)
        result.lines.append(ChatLine(number, occurred_at, speaker[:100], text, end_line_number=number))
    # Day files list a thread's replies at their own times, but an export joined from
    # several files (or edited by hand) may not be in order: the timeline is.
    result.lines.sort(key=lambda line: line.occurred_at)
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
