"""CSV exports that a spreadsheet opens as text: the one writer every export uses (no Django here).

A cell that starts with `=`, `+`, `-` or `@` (or a tab or carriage return,
which some spreadsheets skip before looking) is read as a formula by Excel,
LibreOffice and Google Sheets. Check names, titles and owners come from
senders and people, so such a cell is written with a leading apostrophe, which
spreadsheets show as plain text (OWASP's advice for CSV injection). Numbers
are written as they are: a negative duration stays a number.
"""

import csv
from collections.abc import Iterable
from typing import Any, Protocol

FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")


class _Writable(Protocol):
    def write(self, text: str, /) -> Any: ...


def safe_cell(value: object) -> object:
    """The value as a spreadsheet should show it: text that looks like a formula is quoted."""
    if isinstance(value, str) and value.startswith(FORMULA_STARTS):
        return "'" + value
    return value


class SafeWriter:
    """csv.writer whose rows pass through `safe_cell`; writerow returns what was written."""

    def __init__(self, target: _Writable) -> None:
        self._writer = csv.writer(target)

    def writerow(self, row: Iterable[object]) -> Any:
        return self._writer.writerow([safe_cell(value) for value in row])

    def writerows(self, rows: Iterable[Iterable[object]]) -> None:
        for row in rows:
            self.writerow(row)
