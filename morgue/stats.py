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
    return _interpolate(ordered, fraction)


def _interpolate(ordered: Sequence[float], fraction: float) -> float:
    """The `fraction` percentile of sorted, non-empty `ordered`."""
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


def summary(values: Sequence[float | None]) -> dict[str, float | None]:
    """`{n, median, p90, q1, q3, mean}` for durations; all None but n when empty."""
    present = [value for value in values if value is not None]
    return {
        "n": len(present),
        "median": median(present),
        "p90": percentile(present, 0.9),
        "q1": percentile(present, 0.25),
        "q3": percentile(present, 0.75),
        "mean": mean(present),
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
    a: Sequence[float | None],
    b: Sequence[float | None],
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
    present_a = [value for value in a if value is not None]
    present_b = [value for value in b if value is not None]
    if not present_a or not present_b:
        return Difference(None, None, None, confidence, len(present_a), len(present_b))
    generator = random.Random(seed)
    ordered_a, ordered_b = sorted(present_a), sorted(present_b)
    differences = [
        _resampled_median(ordered_b, generator) - _resampled_median(ordered_a, generator)
        for _ in range(resamples)
    ]
    tail = (1 - confidence) / 2
    return Difference(
        difference=_sample_median(present_b) - _sample_median(present_a),
        low=percentile(differences, tail),
        high=percentile(differences, 1 - tail),
        confidence=confidence,
        n_a=len(present_a),
        n_b=len(present_b),
    )


def _resampled_median(ordered: Sequence[float], generator: random.Random) -> float:
    """The median of n draws with replacement from sorted `ordered` (n values), without drawing them.

    A draw is ordered[⌊U·n⌋] for a uniform U, so the k-th smallest of n draws is
    ordered[⌊U₍ₖ₎·n⌋], where the k-th order statistic U₍ₖ₎ of n uniforms is
    Beta(k, n−k+1); the next one is U₍ₖ₎ plus (1 − U₍ₖ₎)·Beta(1, n−k). Same
    distribution as sorting a resample, in constant time: a bootstrap over
    20,000 incidents takes milliseconds, not minutes.
    """
    count = len(ordered)
    middle = (count + 1) // 2  # 1-based rank of the (lower) median
    lower = generator.betavariate(middle, count - middle + 1)
    if count % 2:
        return float(ordered[min(int(lower * count), count - 1)])
    upper = lower + (1 - lower) * generator.betavariate(1, count - middle)
    return (ordered[min(int(lower * count), count - 1)] + ordered[min(int(upper * count), count - 1)]) / 2


def _sample_median(values: Sequence[float]) -> float:
    """The median of a sample known to be non-empty."""
    return _interpolate(sorted(values), 0.5)


def rank_sample(values: Sequence[float | None], size: int) -> list[float]:
    """At most `size` of the values, sorted, evenly spaced by rank: all of them when there are few.

    The value at rank r (1-based, of n) is kept when r·size÷n (integer division)
    steps past (r−1)·size÷n, so the k-th kept value is at rank ⌈k·n/size⌉ and the
    largest is always kept. Whole-number arithmetic, so SQL can pick the same ranks.
    """
    ordered = sorted(value for value in values if value is not None)
    total = len(ordered)
    if total <= size:
        return ordered
    return [
        value
        for rank, value in enumerate(ordered, start=1)
        if rank * size // total > (rank - 1) * size // total
    ]


# Below each fraction k/size by less than one rank in 2**40/size, so that a
# database's ⌈fraction·n⌉ in floating point is the whole-number ⌈k·n/size⌉.
_UNDER = 2.0**-40


def rank_sample_fractions(size: int) -> list[float]:
    """The fractions whose discrete percentiles (PostgreSQL's percentile_disc) are a rank_sample.

    percentile_disc(f) is the value at rank ⌈f·n⌉ (at least 1) of n sorted
    values, so fraction k/size gives the k-th value rank_sample keeps when
    n > size. Pass the result through `rank_sample_from_percentiles`.
    """
    return [k / size - _UNDER for k in range(1, size + 1)]


def rank_sample_from_percentiles(percentiles: Sequence[float] | None, total: int, size: int) -> list[float]:
    """rank_sample of `total` values, given their discrete percentiles at rank_sample_fractions(size).

    With `total` ≤ `size` the fractions land on every rank, some more than
    once: each rank is kept once, so every value is kept, as rank_sample does.
    """
    if not percentiles or not total:
        return []
    kept, last = [], 0
    for k, value in enumerate(percentiles, start=1):
        rank = max(1, -(-k * total // size))
        if rank != last:
            kept.append(value)
            last = rank
    return kept


def ecdf(values: Sequence[float | None]) -> list[tuple[float, float]]:
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
