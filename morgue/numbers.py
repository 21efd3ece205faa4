"""Figures as people read them: ratios as percentages, changes with their sign (pure, no Django).

Reports keep machine values (0.353, -4) in their data and API; pages show
these words (35%, −4, +5 points).
"""

MINUS = "\N{MINUS SIGN}"
EMPTY = "—"


def percent(ratio: float | None) -> str:
    """0.353 reads 35%; None (nothing to divide) reads as an em dash."""
    if ratio is None:
        return EMPTY
    return f"{_rounded(ratio * 100)}%"


def count(value: float | None) -> str:
    """A count with thousands separated: 12345 reads 12,345."""
    if value is None:
        return EMPTY
    return f"{round(value):,}"


def signed_count(change: float | None) -> str:
    """A change in a count: +3, −4, or 0 when unchanged."""
    if change is None:
        return EMPTY
    whole = round(change)
    return _signed(f"{abs(whole):,}", whole)


def percent_points(change: float | None) -> str:
    """A change between two percentages, in percentage points: 0.05 reads +5 points."""
    if change is None:
        return EMPTY
    points = _rounded(abs(change) * 100)
    unit = "point" if points == "1" else "points"
    return _signed(f"{points} {unit}", 0 if points == "0" else change)


def _rounded(value: float) -> str:
    # Whole numbers, as people quote percentages; a tenth below one, so 0.4% is not 0%.
    if 0 < abs(value) < 0.95:
        return f"{value:.1f}"
    return f"{round(value)}"


def _signed(text: str, change: float) -> str:
    if change > 0:
        return f"+{text}"
    if change < 0:
        return f"{MINUS}{text}"
    return text
