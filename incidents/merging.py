"""Three-way merge of an edit saved on top of an older version of an incident (pure: no Django).

Two people open the same incident at version N (the base). One saves; the other's
save then arrives with version N. Each field is merged on its own against the base:

- a field only the other save changed keeps their value (the stale form never reverts it);
- a field only this save changed takes this save's value;
- a field both changed to the same value is simply that value;
- a field both changed to different values is a conflict, for the person to settle
  field by field: keep theirs, keep mine, or (for postmortem text) keep both.

Values are compared as given (the services pass JSON-ready snapshots), except that
text differing only in line endings is the same text. A field the
base does not hold (history from before revisions recorded it) is a conflict whenever
the two sides differ: without the base, nobody can tell who changed it.
"""

from collections.abc import Mapping
from dataclasses import dataclass, field
from enum import StrEnum


class Choice(StrEnum):
    """How the person settles one conflicting field."""

    THEIRS = "theirs"
    MINE = "mine"
    BOTH = "both"


@dataclass(frozen=True)
class Merge:
    """The outcome for every field this save sent, by name."""

    # The merged value of each field sent: this save's where it wins, else theirs.
    values: dict[str, object] = field(default_factory=dict)
    # Fields whose value comes from this save (only this save changed them).
    mine: tuple[str, ...] = ()
    # Fields the other save changed and this one did not: their value stays.
    theirs: tuple[str, ...] = ()
    # Fields both saves changed, to different values.
    conflicts: tuple[str, ...] = ()


_UNKNOWN = object()


def _same(one: object, other: object) -> bool:
    """Equal, counting line endings alike: browsers send a textarea's lines ending in CRLF."""
    if isinstance(one, str) and isinstance(other, str):
        return one.replace("\r\n", "\n") == other.replace("\r\n", "\n")
    return one == other


def _contains(text: str, part: str) -> bool:
    return part.replace("\r\n", "\n").strip() in text.replace("\r\n", "\n")


def merge(*, base: Mapping[str, object], theirs: Mapping[str, object], mine: Mapping[str, object]) -> Merge:
    """Merge the fields of `mine` (what this save sent) onto `theirs` (what is saved now)."""
    values: dict[str, object] = {}
    kept_mine: list[str] = []
    kept_theirs: list[str] = []
    conflicts: list[str] = []
    for name, value in mine.items():
        current = theirs.get(name)
        started = base.get(name, _UNKNOWN)
        if _same(value, current):
            values[name] = current
        elif started is not _UNKNOWN and _same(started, value):
            values[name] = current
            kept_theirs.append(name)
        elif started is not _UNKNOWN and _same(started, current):
            values[name] = value
            kept_mine.append(name)
        else:
            values[name] = current
            conflicts.append(name)
    return Merge(values=values, mine=tuple(kept_mine), theirs=tuple(kept_theirs), conflicts=tuple(conflicts))


def keep_both(*, theirs: str, mine: str) -> str:
    """Their text, then a blank line, then mine; one side alone when it already holds the other.

    A person who merged by hand in the editor has their text in mine already:
    keeping both then saves mine as it is, not their text twice.
    """
    if not theirs.strip() or _contains(mine, theirs):
        return mine
    if not mine.strip() or _contains(theirs, mine):
        return theirs
    return f"{theirs.rstrip()}\n\n{mine.lstrip()}"


def resolve(choice: Choice, *, theirs: str, mine: str) -> str:
    """The text a settled conflict saves; never blank when either side wrote something.

    Settling a conflict must not lose writing: "keep mine" over a blank of mine keeps
    their text (and the other way round). Emptying a section on purpose is a plain
    save once the conflict is settled.
    """
    if choice is Choice.BOTH:
        return keep_both(theirs=theirs, mine=mine)
    chosen, other = (theirs, mine) if choice is Choice.THEIRS else (mine, theirs)
    return chosen if chosen.strip() else other
