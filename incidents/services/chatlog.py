import datetime as dt
from collections import Counter
from dataclasses import dataclass
from zoneinfo import ZoneInfo

from django.contrib.auth.models import User
from django.db import transaction

from morgue.exceptions import MorgueError

from .. import chatlog
from ..models import EventKind, Incident, TimelineEvent


class UnparseableLog(MorgueError):
    """A pasted log of which no line could be read; the lines are listed back."""

    def __init__(self, unparsed: list[chatlog.UnparsedLine]):
        super().__init__(
            "No line of the log could be parsed: expected lines such as `14:02 < nick> text`, "
            "`[14:03:41] <nick> text`, `14:05:12 nick: text`, or a Slack export.",
            field="text",
        )
        self.extra = {"unparsed": [{"line_number": line.line_number, "line": line.line} for line in unparsed]}


@dataclass
class ChatImport:
    """What an import did (or, on a dry run, would do)."""

    lines: list[chatlog.ChatLine]
    new: list[bool]  # per line: False when the timeline already has it
    unparsed: list[chatlog.UnparsedLine]
    dry_run: bool

    @property
    def imported(self) -> int:
        return sum(self.new)


def _key(speaker: str, text: str, occurred_at: dt.datetime) -> tuple[dt.datetime, str, str]:
    return (occurred_at, speaker, text)


@transaction.atomic
def import_chat_log(
    *,
    incident: Incident,
    text: str,
    zone: ZoneInfo,
    dry_run: bool = False,
    user: User | None = None,
) -> ChatImport:
    """Add a war-room log's lines to the timeline, skipping lines it already has (re-import adds nothing)."""
    start_date = incident.impact_started_at.astimezone(zone).date()
    # PostgreSQL text cannot hold NUL, which a pasted binary file may carry.
    parsed = chatlog.parse(text.replace("\x00", ""), start_date=start_date, zone=zone)
    if not parsed.lines:
        raise UnparseableLog(parsed.unparsed)
    # Locks the incident row so two imports of the same log cannot both add it.
    Incident.objects.select_for_update().filter(pk=incident.pk).first()
    times = [line.occurred_at for line in parsed.lines]
    existing = Counter(
        _key(speaker, event_text, occurred_at)
        for occurred_at, speaker, event_text in TimelineEvent.objects.filter(
            incident=incident,
            kind=EventKind.COMMUNICATION,
            occurred_at__gte=min(times),
            occurred_at__lte=max(times),
        ).values_list("occurred_at", "speaker", "text")
    )
    new = []
    for line in parsed.lines:
        key = _key(line.speaker, line.text, line.occurred_at)
        # A Counter, so a line said twice in the log is kept twice, but only once per import.
        if existing[key] > 0:
            existing[key] -= 1
            new.append(False)
        else:
            new.append(True)
    if not dry_run:
        author = user if user is not None and user.is_authenticated else None
        TimelineEvent.objects.bulk_create(
            TimelineEvent(
                incident=incident,
                occurred_at=line.occurred_at,
                kind=EventKind.COMMUNICATION,
                text=line.text,
                speaker=line.speaker,
                author=author,
            )
            for line, is_new in zip(parsed.lines, new, strict=True)
            if is_new
        )
    return ChatImport(lines=parsed.lines, new=new, unparsed=parsed.unparsed, dry_run=dry_run)
