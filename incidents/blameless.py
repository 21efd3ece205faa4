"""Blameless-language check for postmortem text (pure: no Django).

It points at phrasing that puts blame on people instead of on the system
they worked in, with a one-line reason and a question that reframes it. It
only advises: saving is never blocked.
"""

import re
from collections.abc import Iterable
from dataclasses import dataclass

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


def _phrase_pattern(text: str) -> re.Pattern[str]:
    # Match whole words, tolerate any run of white space inside the phrase,
    # and accept a straight or curly apostrophe.
    parts = [re.escape(word).replace("'", "['’]") for word in text.split()]
    return re.compile(r"(?<!\w)" + r"\s+".join(parts) + r"(?!\w)", re.IGNORECASE)


def _line_of(text: str, offset: int) -> int:
    return text.count("\n", 0, offset) + 1


def check(
    text: str,
    *,
    phrases: Iterable[Phrase] = DEFAULT_PHRASES,
    names: Iterable[str] = (),
) -> list[Finding]:
    """Every blameful phrase in `text`, in order of position.

    `names` are people's names (first names, usernames, display names); a name
    that is the subject of a cause verb ("Dana broke the build") is flagged.
    """
    findings: list[Finding] = []
    for phrase in phrases:
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
    clean_names = sorted({name.strip() for name in names if name and len(name.strip()) > 1}, key=len)
    if clean_names:
        verbs = "|".join(r"\s+".join(map(re.escape, verb.split())) for verb in CAUSE_VERBS)
        pattern = re.compile(
            r"(?<!\w)(" + "|".join(re.escape(name) for name in reversed(clean_names)) + r")(?:['’]s)?"
            r"\s+(?:(?:just|then|accidentally|also)\s+)?(" + verbs + r")(?!\w)",
            re.IGNORECASE,
        )
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
