import datetime as dt
import json
from collections import Counter
from collections.abc import Collection
from dataclasses import dataclass, field
from zoneinfo import ZoneInfo

from django.contrib.auth.models import User
from django.db import transaction
from django.utils import timezone

from morgue.exceptions import MorgueError

from .. import chatlog, slack_export
from ..models import EventKind, Incident, TimelineEvent
from .graph import incident_window

# Lines dated further than this from the incident are most likely misdated (a log
# from another year, the wrong day given): they are imported only once confirmed.
FAR_FROM_INCIDENT = dt.timedelta(days=3)
# A Slack export's days this close to the incident are offered beside the ones it overlaps.
NEARBY_DAYS = dt.timedelta(days=2)


class UnparseableLog(MorgueError):
    """A pasted log of which no line could be read; the lines are listed back."""

    def __init__(self, unparsed: list[chatlog.UnparsedLine]):
        super().__init__(
            "No line of the log could be parsed: expected an IRC client's log (weechat, HexChat, irssi, "
            "ZNC: `14:02 <nick> text`, `[14:03:41] <nick> text`, `14:02 nick | text`), or a Slack export.",
            field="text",
        )
        self.extra = {"unparsed": [{"line_number": line.line_number, "line": line.line} for line in unparsed]}


class DatesOutsideIncident(MorgueError):
    """Lines dated far from the incident, imported only once someone confirms the dates are right."""

    def __init__(self, sentence: str):
        super().__init__(sentence, field="confirm_dates")


@dataclass
class ChatImport:
    """What an import did (or, on a dry run, would do)."""

    lines: list[chatlog.ChatLine]
    new: list[bool]  # per line: False when the timeline already has it
    unparsed: list[chatlog.UnparsedLine]
    dry_run: bool
    skipped: int = 0  # joins, quits, topic changes and the like
    # "42 lines are dated 2017; the incident is in 2026.", or "" when every line is near the incident
    far_dates: str = ""

    @property
    def imported(self) -> int:
        return sum(self.new)


def _day(day: dt.date) -> str:
    return f"{day.day} {day:%b %Y}"


def far_dates_sentence(
    lines: list[chatlog.ChatLine], *, incident: Incident, zone: ZoneInfo, now: dt.datetime
) -> str:
    """Say how many lines are dated far outside the incident, and when, or "" if none are."""
    start = incident.impact_started_at - FAR_FROM_INCIDENT
    end = (incident.resolved_at or now) + FAR_FROM_INCIDENT
    far = [line.occurred_at.astimezone(zone) for line in lines if not start <= line.occurred_at <= end]
    if not far:
        return ""
    count = f"{len(far)} line is" if len(far) == 1 else f"{len(far)} lines are"
    incident_day = incident.impact_started_at.astimezone(zone)
    years = sorted({moment.year for moment in far})
    if incident_day.year not in years:
        return f"{count} dated {' and '.join(map(str, years))}; the incident is in {incident_day.year}."
    first, last = min(far).date(), max(far).date()
    when = _day(first) if first == last else f"between {_day(first)} and {_day(last)}"
    return f"{count} dated {when}; the incident is on {_day(incident_day.date())}."


@dataclass
class SlackChoice:
    """The messages picked from a Slack export ZIP, and what else it offered."""

    text: str  # the picked messages as a JSON list, ready for import_chat_log
    channel: str
    days: list[dt.date]
    channels: list[str] = field(default_factory=list)
    # The channel's days around the incident, to widen or narrow the choice.
    nearby_days: list[dt.date] = field(default_factory=list)


def _incident_days(incident: Incident, *, zone: ZoneInfo, now: dt.datetime) -> set[dt.date]:
    """The calendar days the incident window touches, in UTC and in the zone the person reads in."""
    start, end = incident_window(incident, now=now)
    days: set[dt.date] = set()
    for tz in (dt.UTC, zone):
        day, last = start.astimezone(tz).date(), end.astimezone(tz).date()
        while day <= last:
            days.add(day)
            day += dt.timedelta(days=1)
    return days


def pick_from_slack_export(
    *,
    incident: Incident,
    data: bytes,
    channel: str = "",
    days: Collection[dt.date] = (),
    zone: ZoneInfo,
) -> SlackChoice:
    """One channel of a Slack export ZIP (the busiest by default) on the given days, else the incident's."""
    try:
        export = slack_export.open_export(data)
    except slack_export.SlackExportError as error:
        raise MorgueError(str(error), field="file") from error
    incident_days = _incident_days(incident, zone=zone, now=timezone.now())
    channel = channel.strip().lstrip("#")
    if channel and channel not in export.days:
        names = ", ".join(f"#{name}" for name in export.channels)
        raise MorgueError(f"The export has no channel #{channel}; it has {names}.", field="channel")
    if not channel:
        # The channel with the most messages (by size) on the incident's days.
        channel = max(
            export.channels,
            key=lambda name: sum(
                export.members[f"{name}/{day.isoformat()}.json"].file_size
                for day in export.days[name]
                if day in incident_days
            ),
        )
    covered = export.days[channel]
    if days:
        chosen = [day for day in covered if day in days]
        if not chosen:
            asked = ", ".join(str(day) for day in sorted(days))
            raise MorgueError(
                f"#{channel} has no messages on {asked}; the export covers {covered[0]} to {covered[-1]}.",
                field="days",
            )
    else:
        chosen = [day for day in covered if day in incident_days]
        if not chosen:
            raise MorgueError(
                f"#{channel} has no messages on the incident's days ({min(incident_days)} to "
                f"{max(incident_days)}); the export covers {covered[0]} to {covered[-1]}.",
                field="file",
            )
    try:
        messages = slack_export.channel_messages(export, channel=channel, days=chosen)
    except slack_export.SlackExportError as error:
        raise MorgueError(str(error), field="file") from error
    near = (min(incident_days) - NEARBY_DAYS, max(incident_days) + NEARBY_DAYS)
    return SlackChoice(
        text=json.dumps(messages),
        channel=channel,
        days=chosen,
        channels=export.channels,
        nearby_days=sorted({day for day in covered if near[0] <= day <= near[1]} | set(chosen)),
    )


def _key(speaker: str, text: str, occurred_at: dt.datetime) -> tuple[dt.datetime, str, str]:
    return (occurred_at, speaker, text)


@transaction.atomic
def import_chat_log(
    *,
    incident: Incident,
    text: str,
    zone: ZoneInfo,
    dry_run: bool = False,
    confirm_dates: bool = False,
    user: User | None = None,
) -> ChatImport:
    """Add a war-room log's lines to the timeline, skipping lines it already has (re-import adds nothing).

    Lines dated far from the incident are refused with a sentence saying so unless `confirm_dates`.
    """
    start_date = incident.impact_started_at.astimezone(zone).date()
    # PostgreSQL text cannot hold NUL, which a pasted binary file may carry.
    parsed = chatlog.parse(text.replace("\x00", ""), start_date=start_date, zone=zone)
    if not parsed.lines:
        raise UnparseableLog(parsed.unparsed)
    far_dates = far_dates_sentence(parsed.lines, incident=incident, zone=zone, now=timezone.now())
    if far_dates and not dry_run and not confirm_dates:
        raise DatesOutsideIncident(far_dates)
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
    return ChatImport(
        lines=parsed.lines,
        new=new,
        unparsed=parsed.unparsed,
        dry_run=dry_run,
        skipped=len(parsed.skipped),
        far_dates=far_dates,
    )
