"""The on-call `/morgue` commands: who is on call now (`oncall [team]`) and acknowledging one's pages (`ack`).

Neither needs an incident's channel. Both read and write through oncall's own
rules, so the chat answers what the on-call page, the API and `whoisoncall`
answer: who holds each level is oncall.selectors.on_call_now (the one
definition, Holders, proved equal to it), the pages that reached a person are
oncall.selectors.open_pages_for, and acknowledging is oncall's
acknowledge_page, as the one-tap link and `POST /api/v1/pages/{id}/acknowledge/`
do it (with the page's alerts silenced in their Alertmanager, the default of both).
"""

import datetime as dt
from collections import defaultdict
from zoneinfo import ZoneInfo

from django.contrib.auth.models import User
from django.db.models import Q

from morgue.models import Profile, Team, display_name
from oncall import selectors as oncall_selectors
from oncall.exceptions import PageClosed
from oncall.models import Level, Page
from oncall.services import acknowledge_page

from .chat_reply import ChatReply

SHOWN_LEVELS = (Level.L1, Level.L2)


def _zone(person: User) -> ZoneInfo:
    return Profile.objects.for_user(person).zone


def _when(instant: dt.datetime, zone: ZoneInfo, now: dt.datetime) -> str:
    """An instant on the asker's wall clock: "17:00" today, "Tue 3 Mar 09:00" another day."""
    local = instant.astimezone(zone)
    if local.date() == now.astimezone(zone).date():
        return f"{local:%H:%M}"
    return f"{local:%a} {local.day} {local:%b %H:%M}"


def _team_named(words: str) -> Team | None:
    return Team.objects.filter(Q(slug__iexact=words) | Q(name__iexact=words)).order_by("pk").first()


def on_call(*, person: User, team_words: str, now: dt.datetime) -> ChatReply:
    """Who holds L1 and L2 of a team now and until when, on the asker's clock; no team: the asker's teams."""
    if team_words:
        team = _team_named(team_words)
        if team is None:
            return ChatReply(f"Morgue has no team {team_words!r}; give a team's name or slug, like `ops`.")
        teams = [team]
    else:
        teams = list(Team.objects.filter(memberships__user=person).order_by("name"))
        if not teams:
            return ChatReply("You are in no team; name one: `/morgue oncall ops`.")
    # One query for every team (the same statement as the on-call page); a named team narrows it.
    rows = oncall_selectors.on_call_now(at=now, team=teams[0] if team_words else None)
    by_team: defaultdict[str, list[oncall_selectors.OnCallRow]] = defaultdict(list)
    for row in rows:
        if row.level in SHOWN_LEVELS:
            by_team[row.team].append(row)
    zone = _zone(person)
    parts = []
    for team in teams:
        held = by_team.get(team.slug, [])
        if not held:
            parts.append(f"*{team.name}*: nobody is on call now (no rotation has a shift).")
            continue
        several = len({row.rotation for row in held}) > 1
        lines = [f"*{team.name}*"]
        for row in held:
            rotation = f" ({row.rotation_name})" if several else ""
            lines.append(f"• {row.level}{rotation}: {row.user_name}, until {_when(row.shift_end, zone, now)}")
        parts.append("\n".join(lines))
    parts.append(f"Times are in {zone.key}.")
    return ChatReply("\n".join(parts))


def _page_words(page: Page) -> str:
    message = page.message if len(page.message) <= 80 else page.message[:79] + "…"
    return f"page {page.pk} to {page.team.name} ({message})"


def acknowledge(*, person: User) -> ChatReply:
    """Acknowledge every open page that reached the person; a sentence when none waits for them."""
    pages = oncall_selectors.open_pages_for(user=person)
    done: list[Page] = []
    already: list[Page] = []
    closed: list[Page] = []
    for page in pages:
        if page.acknowledged_by_id is not None:
            already.append(page)
            continue
        try:
            acknowledge_page(page=page, user=person)
        except PageClosed:
            closed.append(page)
            continue
        (done if page.acknowledged_by_id == person.pk else already).append(page)
    if not done:
        if already:
            who = ", ".join(
                f"{_page_words(page)} by {display_name(page.acknowledged_by)}"
                for page in already
                if page.acknowledged_by
            )
            return ChatReply(f"Nothing left to acknowledge: already acknowledged: {who}.")
        if closed:
            return ChatReply(
                "No page of yours can be acknowledged: nobody answered "
                + ", ".join(_page_words(page) for page in closed)
                + " in time and its escalation has run out; resolve it when the problem is over."
            )
        return ChatReply("No page has reached you, so there is nothing to acknowledge.")
    return ChatReply(
        f"{display_name(person)} acknowledged " + ", ".join(_page_words(page) for page in done) + ".",
        public=True,
    )
