"""Read the text after `/morgue` (Slack and Mattermost alike) as one command.

Pure: no Django. Both chats hand over the text the person typed after the slash
command; Slack, with "Escape channels, users, and links" on in the app's
settings, writes a mention as `<@U024BE7LH|lena>` (or `<@U024BE7LH>`), and
Mattermost leaves it as `@lena`. The parser keeps whichever it is given, so the
caller resolves a Slack id through the Web API and a Mattermost name directly.

    declare <title> [sev1..sev5]   open an incident (default severity SEV3)
    update <text>                   a status update: "<affected> | <what we are doing>" (or `status`)
    role <role> @person             give a role (lead, comms, scribe or a custom role's slug)
    resolve                         resolve the channel's incident
    oncall [team]                   who is on call now for the team (without one, the asker's teams)
    ack                             acknowledge the pages that reached the asker
    help                            what these are
"""

import re
from dataclasses import dataclass

DEFAULT_SEVERITY = 3
SEVERITIES = range(1, 6)
MAX_TITLE = 200
MAX_STATUS = 2000
# Words people say for the built-in roles, mapped to their slugs.
ROLE_WORDS = {
    "lead": "lead",
    "ic": "lead",
    "commander": "lead",
    "comms": "communications",
    "communications": "communications",
    "scribe": "scribe",
}
SEVERITY = re.compile(r"^(?:sev|s)([0-9]+)$", re.IGNORECASE)
SLACK_MENTION = re.compile(r"^<@([UW][A-Z0-9]+)(?:\|[^>]*)?>$")
PLAIN_MENTION = re.compile(r"^@([\w.\-]+)$")
# `#ops` where a channel of that name exists, as Slack escapes it: `<#C024BE7LR|ops>`.
SLACK_CHANNEL = re.compile(r"^<#[CG][A-Z0-9]+\|([^>]*)>$")
ROLE_SLUG = re.compile(r"^[a-z0-9_-]{1,50}$")
MAX_TEAM = 100  # Team.name's length

HELP = (
    "Morgue, from the chat:\n"
    "• `/morgue declare <title> [sev1..sev5]`: open an incident and its channel (you lead it)\n"
    "• `/morgue update <what is affected> | <what we are doing>`: a status update to the subscribers "
    "(without `|`, the incident's title stands for what is affected; `/morgue status` does the same)\n"
    "• `/morgue role lead @person`: give a role (lead, comms, scribe, or a custom role's slug)\n"
    "• `/morgue resolve`: resolve this channel's incident\n"
    "• `/morgue oncall [team]`: who is on call now, L1 and L2 (without a team, for your teams)\n"
    "• `/morgue ack`: acknowledge the pages that reached you\n"
    "• `/morgue help`: this list"
)


class CommandError(ValueError):
    """Text that is not a command, with the sentence to answer the person with."""


@dataclass(frozen=True)
class Declare:
    title: str
    severity: int


@dataclass(frozen=True)
class StatusUpdate:
    affected: str  # "" when the person gave only one part: the incident's title stands for it
    doing: str


@dataclass(frozen=True)
class Mention:
    """A person named in a command: a Slack user id (U…) or a plain chat user name."""

    slack_id: str = ""
    username: str = ""


@dataclass(frozen=True)
class Role:
    role: str  # a role's slug
    person: Mention


@dataclass(frozen=True)
class Resolve:
    pass


@dataclass(frozen=True)
class OnCall:
    team: str  # a team's slug or name as typed; "" for the asker's own teams


@dataclass(frozen=True)
class Acknowledge:
    pass


@dataclass(frozen=True)
class Help:
    pass


Command = Declare | StatusUpdate | Role | Resolve | OnCall | Acknowledge | Help


def _declare(rest: str) -> Declare:
    words = rest.split()
    severity = DEFAULT_SEVERITY
    if words and (match := SEVERITY.match(words[-1].strip("[]()"))):
        severity = int(match[1])
        if severity not in SEVERITIES:
            raise CommandError(f"Severity is sev1 (the worst) to sev5; {words[-1]} is not one of them.")
        words = words[:-1]
    title = " ".join(words)
    if not title:
        raise CommandError("Give the incident a title: `/morgue declare Checkout is failing sev2`.")
    if len(title) > MAX_TITLE:
        raise CommandError(f"The title is longer than {MAX_TITLE} characters; say it shorter.")
    return Declare(title=title, severity=severity)


def _status(rest: str) -> StatusUpdate:
    if not rest.strip():
        raise CommandError(
            "Say what the update is: `/morgue update Card payments fail | Rolling back the release`."
        )
    if len(rest) > MAX_STATUS:
        raise CommandError(f"The update is longer than {MAX_STATUS} characters; say it shorter.")
    affected, separator, doing = rest.partition("|")
    if not separator:
        return StatusUpdate(affected="", doing=rest.strip())
    if not affected.strip() or not doing.strip():
        raise CommandError("Write both halves: `/morgue update <what is affected> | <what we are doing>`.")
    return StatusUpdate(affected=affected.strip(), doing=doing.strip())


def _mention(word: str) -> Mention:
    if match := SLACK_MENTION.match(word):
        return Mention(slack_id=match[1])
    if match := PLAIN_MENTION.match(word):
        return Mention(username=match[1])
    raise CommandError(f"Name the person with an @mention, like `@lena`; {word} is not one.")


def _role(rest: str) -> Role:
    words = rest.split()
    if len(words) != 2:
        raise CommandError("Name a role and a person: `/morgue role lead @lena`.")
    word = words[0].lower()
    role = ROLE_WORDS.get(word, word)
    if not ROLE_SLUG.match(role):
        raise CommandError(f"{words[0]} is not a role: use lead, comms, scribe or a custom role's slug.")
    return Role(role=role, person=_mention(words[1]))


def parse(text: str) -> Command:
    """The command in `text` (what follows `/morgue`), or CommandError with a sentence saying why not."""
    verb, _, rest = text.strip().partition(" ")
    verb = verb.lower()
    rest = rest.strip()
    if verb in ("", "help"):
        return Help()
    if verb == "declare":
        return _declare(rest)
    if verb in ("status", "update"):
        return _status(rest)
    if verb == "role":
        return _role(rest)
    if verb == "resolve":
        if rest:
            raise CommandError("`/morgue resolve` takes nothing after it; run it in the incident's channel.")
        return Resolve()
    if verb in ("oncall", "on-call"):
        if match := SLACK_CHANNEL.match(rest):
            rest = match[1]
        team = rest.removeprefix("#").strip()
        if len(team) > MAX_TEAM:
            raise CommandError(f"A team's name is at most {MAX_TEAM} characters; {team[:20]}… is not one.")
        return OnCall(team=team)
    if verb in ("ack", "acknowledge"):
        if rest:
            raise CommandError(
                "`/morgue ack` takes nothing after it: it acknowledges every page that reached you."
            )
        return Acknowledge()
    raise CommandError(f"`{verb}` is not a Morgue command. Try `/morgue help`.")
