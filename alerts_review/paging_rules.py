"""Which incoming alerts page: matchers like Alertmanager's, rules in order, first match wins.

Pure: no Django. A matcher is `name=value`, `name!=value`, `name=~regex` or
`name!~regex`, read against an alert's labels plus four fields of its own:
`check`, `host`, `state` and `severity` (those two lowercased, so `CRITICAL`
from Nagios and `critical` from Alertmanager are the same). As in
Alertmanager, a regex must match the whole value, and a label the alert does
not have has the empty value. A rule pages or records when all of its
matchers hold; an alert that no rule matches is recorded.
"""

import fnmatch
import re
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Literal

Action = Literal["page", "record"]
ACTIONS: tuple[Action, ...] = ("page", "record")
OWN_FIELDS = ("check", "host", "state", "severity")

# The longest operator first, so `a!=b` is not read as `a!` `=` `b`.
_MATCHER = re.compile(r"^\s*([A-Za-z_][A-Za-z0-9_]*)\s*(=~|!~|!=|=)\s*(.*?)\s*$")


class RuleError(ValueError):
    """A matcher or rule that does not parse; the message says which and why."""


@dataclass(frozen=True)
class Matcher:
    name: str
    operator: str
    value: str

    def __str__(self) -> str:
        return f"{self.name}{self.operator}{self.value}"

    def matches(self, fields: Mapping[str, str]) -> bool:
        actual = fields.get(self.name, "")
        if self.operator == "=":
            return actual == self.value
        if self.operator == "!=":
            return actual != self.value
        found = re.fullmatch(self.value, actual) is not None
        return found if self.operator == "=~" else not found


@dataclass(frozen=True)
class Rule:
    matchers: tuple[Matcher, ...]
    action: Action

    def matches(self, fields: Mapping[str, str]) -> bool:
        return all(matcher.matches(fields) for matcher in self.matchers)


def parse_matcher(text: str) -> Matcher:
    """One matcher from its text; RuleError when it does not parse."""
    found = _MATCHER.match(text)
    if found is None:
        raise RuleError(
            f"'{text}' is not a matcher: write label=value, label!=value, label=~regex or label!~regex."
        )
    name, operator, value = found.groups()
    if len(value) >= 2 and value[0] == value[-1] == '"':
        value = value[1:-1]
    if operator in ("=~", "!~"):
        try:
            re.compile(value)
        except re.error as error:
            raise RuleError(f"'{text}' has a regex that does not parse: {error}.") from None
    return Matcher(name=name, operator=operator, value=value)


def parse_rules(raw: object) -> list[Rule]:
    """Rules from their stored form: a list of {"match": [matcher, …], "action": "page" | "record"}."""
    if not isinstance(raw, list):
        raise RuleError("Rules are a list of {match, action}.")
    rules = []
    for number, item in enumerate(raw, start=1):
        if not isinstance(item, dict):
            raise RuleError(f"Rule {number} is not an object with match and action.")
        unknown = sorted(set(item) - {"match", "action"})
        if unknown:
            raise RuleError(f"Rule {number} has unknown fields: {', '.join(unknown)}.")
        action = item.get("action")
        if action not in ACTIONS:
            raise RuleError(f"Rule {number}'s action must be page or record.")
        texts = item.get("match", [])
        if not isinstance(texts, list) or not all(isinstance(text, str) for text in texts):
            raise RuleError(f"Rule {number}'s match is a list of matchers.")
        try:
            matchers = tuple(parse_matcher(text) for text in texts)
        except RuleError as error:
            raise RuleError(f"Rule {number}: {error}") from None
        rules.append(Rule(matchers=matchers, action=action))
    return rules


def rules_as_data(rules: Iterable[Rule]) -> list[dict[str, object]]:
    """The stored form of rules (parse_rules' inverse)."""
    return [{"match": [str(matcher) for matcher in rule.matchers], "action": rule.action} for rule in rules]


# A policy nobody edited: critical pages, anything else is recorded.
DEFAULT_RULES: list[dict[str, object]] = [
    {"match": ["severity=critical"], "action": "page"},
    {"match": ["state=critical"], "action": "page"},
]


def alert_fields(
    *, check: str, host: str, state: str, severity: str, labels: Mapping[str, object]
) -> dict[str, str]:
    """What matchers read of an alert: its labels, then its own fields over them."""
    fields = {str(name): value if isinstance(value, str) else str(value) for name, value in labels.items()}
    fields.update(check=check, host=host, state=state.lower(), severity=severity.lower())
    return fields


def decide(rules: Sequence[Rule], fields: Mapping[str, str]) -> Action:
    """The action of the first rule the alert matches; record when none does."""
    for rule in rules:
        if rule.matches(fields):
            return rule.action
    return "record"


def check_matches(pattern: str, check: str) -> bool:
    """A maintenance window's or heartbeat's check pattern: shell-style, like routing rules."""
    return fnmatch.fnmatchcase(check, pattern)
