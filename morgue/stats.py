"""Honest statistics for durations: medians, percentiles, spread and n (no Django).

Percentiles use linear interpolation between closest ranks, the same rule as
PostgreSQL's percentile_cont and NumPy's default, so figures computed in the
database and here agree.
"""

import math
import random
from collections.abc import Sequence
from dataclasses import dataclass


def percentile(values: Sequence[float], fraction: float) -> float | None:
    """The `fraction` (0–1) percentile of `values`; None when there are none."""
    if not 0 <= fraction <= 1:
        raise ValueError("fraction must be between 0 and 1")
    ordered = sorted(values)
    if not ordered:
        return None
    position = (len(ordered) - 1) * fraction
    lower = math.floor(position)
    upper = math.ceil(position)
    if lower == upper:
        return float(ordered[lower])
    weight = position - lower
    return ordered[lower] * (1 - weight) + ordered[upper] * weight


def median(values: Sequence[float]) -> float | None:
    return percentile(values, 0.5)


def mean(values: Sequence[float]) -> float | None:
    return sum(values) / len(values) if values else None


def summary(values: Sequence[float]) -> dict:
    """`{n, median, p90, q1, q3, mean}` for durations; all None but n when empty."""
    values = [value for value in values if value is not None]
    return {
        "n": len(values),
        "median": median(values),
        "p90": percentile(values, 0.9),
        "q1": percentile(values, 0.25),
        "q3": percentile(values, 0.75),
        "mean": mean(values),
    }


@dataclass(frozen=True)
class Difference:
    """The difference of medians (b − a) with a bootstrap confidence interval."""

    difference: float | None
    low: float | None
    high: float | None
    confidence: float
    n_a: int
    n_b: int

    @property
    def distinguishable(self) -> bool:
        """False when the interval contains zero: not distinguishable from noise."""
        if self.low is None or self.high is None:
            return False
        return not (self.low <= 0 <= self.high)


def bootstrap_median_difference(
    a: Sequence[float],
    b: Sequence[float],
    *,
    resamples: int = 2000,
    confidence: float = 0.95,
    seed: int = 0,
) -> Difference:
    """Percentile-bootstrap interval for median(b) − median(a).

    Each resample draws both periods with replacement, independently; the
    interval is the central `confidence` share of the resampled differences.
    The seed is fixed so a report shows the same interval on every load.
    """
    a = [value for value in a if value is not None]
    b = [value for value in b if value is not None]
    if not a or not b:
        return Difference(None, None, None, confidence, len(a), len(b))
    generator = random.Random(seed)
    differences = []
    for _ in range(resamples):
        sample_a = generator.choices(a, k=len(a))
        sample_b = generator.choices(b, k=len(b))
        differences.append(median(sample_b) - median(sample_a))
    tail = (1 - confidence) / 2
    return Difference(
        difference=median(b) - median(a),
        low=percentile(differences, tail),
        high=percentile(differences, 1 - tail),
        confidence=confidence,
        n_a=len(a),
        n_b=len(b),
    )


def ecdf(values: Sequence[float]) -> list[tuple[float, float]]:
    """Points (x, share of values ≤ x) of the empirical cumulative distribution."""
    ordered = sorted(value for value in values if value is not None)
    total = len(ordered)
    points: list[tuple[float, float]] = []
    for index, value in enumerate(ordered, start=1):
        if points and points[-1][0] == value:
            points[-1] = (value, index / total)
        else:
            points.append((value, index / total))
    return points
