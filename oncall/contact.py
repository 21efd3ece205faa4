"""How a page reaches a person: contact method kinds, their addresses, and the order rules send them in.

Pure: no Django. The services read a person's rows, turn them into `Method`
and `Rule` values, and ask this module what to send when.
"""

import re
from dataclasses import dataclass
from enum import StrEnum
from urllib.parse import urlsplit

# E.164: a plus, a country code that does not start with 0, at most 15 digits in all.
E164 = re.compile(r"\+[1-9][0-9]{6,14}")
EMAIL = re.compile(r"[^@\s]+@[^@\s]+\.[^@\s]+")
NTFY_TOPIC = re.compile(r"[A-Za-z0-9_-]{1,64}")

# How many times one notification is tried before the person's next method is used.
MAX_ATTEMPTS = 4
# Seconds before retry n (1, 2, 3…): 30 s, 2 min, 8 min, capped at 15 min.
BACKOFF_BASE_SECONDS = 30
BACKOFF_CAP_SECONDS = 900


class Kind(StrEnum):
    EMAIL = "email"
    SMS = "sms"
    VOICE = "voice"
    PUSH = "push"
    SLACK = "slack"
    TEAMS = "teams"
    # A team's own webhook (Team.webhook_url): not a person's method.
    WEBHOOK = "webhook"


PERSON_KINDS = (Kind.EMAIL, Kind.SMS, Kind.VOICE, Kind.PUSH, Kind.SLACK, Kind.TEAMS)


class InvalidAddress(ValueError):
    pass


def check_address(kind: str, address: str) -> str:
    """The address cleaned for its kind; raises InvalidAddress with a sentence saying what is wrong."""
    address = address.strip()
    if kind not in {item.value for item in PERSON_KINDS}:
        names = ", ".join(item.value for item in PERSON_KINDS)
        raise InvalidAddress(f"{kind!r} is not a kind of contact method; use one of {names}.")
    if not address:
        raise InvalidAddress("An address is required.")
    if kind == Kind.EMAIL and not EMAIL.fullmatch(address):
        raise InvalidAddress(f"{address!r} is not an email address.")
    if kind in (Kind.SMS, Kind.VOICE):
        compact = re.sub(r"[\s().-]", "", address)
        if not E164.fullmatch(compact):
            raise InvalidAddress(f"{address!r} is not a phone number in E.164 form, like +14155550123.")
        return compact
    if kind == Kind.PUSH and not NTFY_TOPIC.fullmatch(address):
        raise InvalidAddress(f"{address!r} is not an ntfy topic (letters, digits, - and _, up to 64).")
    if kind in (Kind.SLACK, Kind.TEAMS):
        parts = urlsplit(address)
        if parts.scheme not in ("http", "https") or not parts.hostname:
            raise InvalidAddress(f"{address!r} is not an http(s) webhook address.")
    return address


@dataclass(frozen=True)
class Method:
    id: int
    kind: str
    address: str


@dataclass(frozen=True)
class Rule:
    method_id: int
    delay_minutes: int


@dataclass(frozen=True)
class Planned:
    """One notification to send: which method, how many minutes after the step opens."""

    method: Method
    delay_minutes: int


def plan(methods: list[Method], rules: list[Rule]) -> list[Planned]:
    """What to send when, in order: the rules by delay; with no rules, the first email method at once.

    A rule naming a method that no longer exists is skipped; a method named
    twice is sent once, at its earliest delay.
    """
    by_id = {method.id: method for method in methods}
    chosen: dict[int, Planned] = {}
    for rule in sorted(rules, key=lambda rule: (rule.delay_minutes, rule.method_id)):
        method = by_id.get(rule.method_id)
        if method is not None and method.id not in chosen:
            chosen[method.id] = Planned(method=method, delay_minutes=max(rule.delay_minutes, 0))
    if not chosen and not rules:
        email = next((method for method in methods if method.kind == Kind.EMAIL), None)
        if email is not None:
            return [Planned(method=email, delay_minutes=0)]
    return list(chosen.values())


def fallback(methods: list[Method], rules: list[Rule], *, tried: set[int]) -> Method | None:
    """The person's next method after those tried: later rules first, then any method not in the rules."""
    ordered = [planned.method for planned in plan(methods, rules)]
    ordered += [method for method in methods if method not in ordered]
    return next((method for method in ordered if method.id not in tried), None)


def backoff_seconds(attempt: int) -> int:
    """Seconds to wait before trying again after failed attempt number `attempt` (1-based)."""
    return int(min(BACKOFF_BASE_SECONDS * 4 ** max(attempt - 1, 0), BACKOFF_CAP_SECONDS))


def one_line(text: str, *, limit: int = 0) -> str:
    """Text on one line (headers, subjects and SMS cannot break), cut to `limit` with an ellipsis."""
    line = " ".join(text.split())
    if limit and len(line) > limit:
        return line[: limit - 1].rstrip() + "…"
    return line
