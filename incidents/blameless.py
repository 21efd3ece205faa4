"""Blameless-language check for postmortem text (pure: no Django).

It points at phrasing that puts blame on people instead of on the system
they worked in, with a one-line reason and a question that reframes it. It
only advises: saving is never blocked.
"""

import re
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from functools import lru_cache

REFRAME = "What made this action make sense at the time?"


@dataclass(frozen=True)
class Phrase:
    text: str
    reason: str
    suggestion: str = REFRAME


@dataclass(frozen=True)
class Finding:
    phrase: str
    matched: str
    start: int
    end: int
    line: int
    reason: str
    suggestion: str

    def as_dict(self) -> dict[str, str | int]:
        return {
            "phrase": self.phrase,
            "matched": self.matched,
            "start": self.start,
            "end": self.end,
            "line": self.line,
            "reason": self.reason,
            "suggestion": self.suggestion,
        }


DEFAULT_PHRASES: tuple[Phrase, ...] = (
    Phrase(
        "human error",
        "“Human error” ends the inquiry where it should begin.",
        "Describe what the system made easy or hard: what made this action look right at the time?",
    ),
    Phrase(
        "should have",
        "Hindsight: the outcome was not known when the decision was made.",
        "Describe what the person knew and saw at that moment, and what would have shown them more.",
    ),
    Phrase(
        "shouldn't have",
        "Hindsight: the outcome was not known when the decision was made.",
        "Describe what the person knew and saw at that moment.",
    ),
    Phrase(
        "should not have",
        "Hindsight: the outcome was not known when the decision was made.",
        "Describe what the person knew and saw at that moment.",
    ),
    Phrase(
        "failed to",
        "Counterfactual: it names what did not happen instead of what did.",
        "Describe what was done and why it made sense then.",
    ),
    Phrase(
        "forgot to",
        "Points at memory instead of at the missing safeguard.",
        "Which check, checklist or automation could have carried this step?",
    ),
    Phrase(
        "careless",
        "A judgement of a person, not a description of events.",
        "Describe the conditions: workload, time pressure, missing signals.",
    ),
    Phrase(
        "didn't follow",
        "Assumes the procedure was workable and known.",
        "Was the procedure known, findable and practical under the circumstances?",
    ),
    Phrase(
        "did not follow",
        "Assumes the procedure was workable and known.",
        "Was the procedure known, findable and practical under the circumstances?",
    ),
    Phrase(
        "obviously",
        "What is obvious afterwards was not obvious during the incident.",
        "Describe what was visible at the time, and what was not.",
    ),
    Phrase(
        "negligence",
        "A judgement of a person, not a description of events.",
        REFRAME,
    ),
    Phrase(
        "mistake by",
        "Attributes the cause to a person.",
        "Describe the action and the context that made it reasonable.",
    ),
    Phrase(
        "blame",
        "Postmortems look for causes in the system, not for someone to blame.",
        REFRAME,
    ),
)

# Verbs that make a person the grammatical cause of the incident.
CAUSE_VERBS = (
    "broke", "caused", "forgot", "deleted", "dropped", "pushed", "missed", "ignored",
    "failed", "didn't", "did not", "messed up", "screwed up", "made a mistake",
    "misconfigured", "overlooked", "neglected",
)  # fmt: skip


@lru_cache(maxsize=512)
def _phrase_pattern(text: str) -> re.Pattern[str]:
    # Match whole words, tolerate any run of white space inside the phrase,
    # and accept a straight or curly apostrophe.
    parts = [re.escape(word).replace("'", "['’]") for word in text.split()]
    return re.compile(r"(?<!\w)" + r"\s+".join(parts) + r"(?!\w)", re.IGNORECASE)


def _folded(text: str) -> str:
    """`text` case folded as the phrases' IGNORECASE matches it.

    casefold() keeps the dotless ı and turns İ into i and a combining dot,
    where the regular expression takes both for i.
    """
    return text.casefold().replace("ı", "i").replace("\u0307", "")


@lru_cache(maxsize=512)
def _fragment(text: str) -> str:
    """Letters any match of the phrase holds, folded: its first word up to an apostrophe.

    A text without them (most texts, for most phrases) needs no regular
    expression tried: looking for a few letters costs far less.
    """
    words = text.split()
    return _folded(words[0]).split("'")[0] if words else ""


_VERBS = "|".join(r"\s+".join(map(re.escape, verb.split())) for verb in CAUSE_VERBS)
# Any cause verb at all: most text has none, and then no name needs looking at.
_ANY_VERB = re.compile(r"(?<!\w)(?:" + _VERBS + r")(?!\w)", re.IGNORECASE)


@lru_cache(maxsize=512)
def _person_pattern(names: tuple[str, ...]) -> re.Pattern[str]:
    """A name (longest first) as the subject of a cause verb; `names` are the few found in one text."""
    return re.compile(
        r"(?<!\w)(" + "|".join(re.escape(name) for name in names) + r")(?:['’]s)?"
        r"\s+(?:(?:just|then|accidentally|also)\s+)?(" + _VERBS + r")(?!\w)",
        re.IGNORECASE,
    )


@lru_cache(maxsize=8)
def _clean_names(names: tuple[str, ...]) -> tuple[tuple[str, str], ...]:
    """Each name (stripped, two letters or more) once, with its lower case, longest first."""
    found = {name.strip() for name in names if name and len(name.strip()) > 1}
    return tuple((name, name.lower()) for name in sorted(found, key=len, reverse=True))


def _names_in(text: str, names: Iterable[str]) -> tuple[str, ...]:
    """The names that occur in `text` in any case, longest first.

    A name the person pattern can match occurs in the text, so only these go
    into it: one pattern of a whole organisation's names would be compiled and
    tried at every position of every text.
    """
    lowered = text.lower()
    return tuple(name for name, lower in _clean_names(tuple(names)) if lower in lowered)


def _line_of(text: str, offset: int) -> int:
    return text.count("\n", 0, offset) + 1


def check(
    text: str,
    *,
    phrases: Iterable[Phrase] = DEFAULT_PHRASES,
    names: Iterable[str] | Callable[[], Iterable[str]] = (),
) -> list[Finding]:
    """Every blameful phrase in `text`, in order of position.

    `names` are people's names (first names, usernames, display names); a name
    that is the subject of a cause verb ("Dana broke the build") is flagged.
    Given as a function, the names are asked for only when the text has a cause verb.
    """
    findings: list[Finding] = []
    folded = _folded(text)
    for phrase in phrases:
        if _fragment(phrase.text) not in folded:
            continue
        for match in _phrase_pattern(phrase.text).finditer(text):
            findings.append(
                Finding(
                    phrase=phrase.text,
                    matched=match.group(0),
                    start=match.start(),
                    end=match.end(),
                    line=_line_of(text, match.start()),
                    reason=phrase.reason,
                    suggestion=phrase.suggestion,
                )
            )
    present: tuple[str, ...] = ()
    if _ANY_VERB.search(text):
        present = _names_in(text, names() if callable(names) else names)
    if present:
        pattern = _person_pattern(present)
        for match in pattern.finditer(text):
            findings.append(
                Finding(
                    phrase="person as the cause",
                    matched=match.group(0),
                    start=match.start(),
                    end=match.end(),
                    line=_line_of(text, match.start()),
                    reason=f"Names {match.group(1)} as the cause; causes live in the system.",
                    suggestion=(
                        "Make the action the subject (“the deploy removed…”) and ask what made it reasonable."
                    ),
                )
            )
    findings.sort(key=lambda finding: (finding.start, -finding.end))
    return findings
