import math
import random
import statistics
import time

import pytest

from morgue import stats


def _reference_percentile(values, fraction):
    # Independent computation: statistics.quantiles with the inclusive method
    # interpolates exactly like percentile_cont.
    cuts = statistics.quantiles(values, n=100, method="inclusive")
    return cuts[round(fraction * 100) - 1]


@pytest.mark.parametrize("fraction", [0.25, 0.5, 0.75, 0.9])
def test_percentiles_agree_with_an_independent_computation(fraction):
    values = [random.Random(7).lognormvariate(5, 1.5) for _ in range(137)]

    assert stats.percentile(values, fraction) == pytest.approx(_reference_percentile(values, fraction))


def test_median_of_even_and_odd_counts():
    assert stats.median([3, 1, 2]) == 2
    assert stats.median([4, 1, 3, 2]) == 2.5
    assert stats.median([]) is None


def test_summary_skips_missing_values_and_reports_n():
    result = stats.summary([60, None, 120, 180, 3600])

    assert result["n"] == 4
    assert result["median"] == 150
    assert result["mean"] == pytest.approx(990)
    assert result["q1"] == pytest.approx(105)
    assert stats.summary([]) == {"n": 0, "median": None, "p90": None, "q1": None, "q3": None, "mean": None}


def test_bootstrap_interval_contains_the_true_difference_on_synthetic_data():
    generator = random.Random(1)
    before = [generator.expovariate(1 / 600) for _ in range(400)]  # median ≈ 416 s
    after = [generator.expovariate(1 / 300) for _ in range(400)]  # median ≈ 208 s
    true_difference = 300 * 0.6931 - 600 * 0.6931

    result = stats.bootstrap_median_difference(before, after, resamples=1000)

    assert result.low <= true_difference <= result.high
    assert result.distinguishable


def test_two_samples_of_the_same_distribution_are_not_distinguishable():
    generator = random.Random(3)
    a = [generator.expovariate(1 / 600) for _ in range(40)]
    b = [generator.expovariate(1 / 600) for _ in range(40)]

    result = stats.bootstrap_median_difference(a, b, resamples=1000)

    assert result.low <= 0 <= result.high
    assert not result.distinguishable


def test_ecdf_steps_reach_one():
    assert stats.ecdf([5, 1, 5, 3]) == [(1, 0.25), (3, 0.5), (5, 1.0)]


def test_a_rank_sample_keeps_few_values_whole_and_spaces_many_by_rank():
    assert stats.rank_sample([3, None, 1, 2], 5) == [1, 2, 3]
    assert stats.rank_sample(list(range(1, 11)), 5) == [2, 4, 6, 8, 10]
    # The k-th kept value is at rank ⌈k·n/size⌉: ranks 3, 5, 7 of 7 for a sample of 3.
    assert stats.rank_sample([70, 10, 20, 30, 40, 50, 60], 3) == [30, 50, 70]
    assert len(stats.rank_sample(list(range(10_001)), 300)) == 300


def _discrete_percentiles(ordered, fractions):
    """PostgreSQL's percentile_disc: the value at rank ⌈f·n⌉ (at least 1), in floating point."""
    return [ordered[max(1, math.ceil(fraction * len(ordered))) - 1] for fraction in fractions]


@pytest.mark.parametrize("size", [1, 3, 7, 300])
def test_discrete_percentiles_at_the_rank_sample_fractions_are_the_rank_sample(size):
    fractions = stats.rank_sample_fractions(size)
    for total in [*range(0, 1000), 299_999, 300_000, 1_000_001]:
        ordered = list(range(total))
        percentiles = _discrete_percentiles(ordered, fractions) if total else None
        assert stats.rank_sample_from_percentiles(percentiles, total, size) == stats.rank_sample(
            ordered, size
        )


def test_the_rank_sample_fractions_land_on_whole_ranks_exactly():
    # k/size·n lands on a whole rank for these: one ulp above it would pick the next rank.
    fractions = stats.rank_sample_fractions(300)
    for total in (300, 600, 900, 3_000_000):
        assert [math.ceil(fraction * total) for fraction in fractions] == [
            -(-k * total // 300) for k in range(1, 301)
        ]


def _brute_force_interval(a, b, resamples, seed):
    generator = random.Random(seed)
    differences = [
        stats.median(generator.choices(b, k=len(b))) - stats.median(generator.choices(a, k=len(a)))
        for _ in range(resamples)
    ]
    return stats.percentile(differences, 0.025), stats.percentile(differences, 0.975)


@pytest.mark.parametrize("sizes", [(61, 80), (150, 151)])
def test_the_bootstrap_interval_agrees_with_sorting_every_resample(sizes):
    generator = random.Random(5)
    a = [generator.lognormvariate(6, 1) for _ in range(sizes[0])]
    b = [generator.lognormvariate(5.8, 1) for _ in range(sizes[1])]

    result = stats.bootstrap_median_difference(a, b, resamples=4000)
    low, high = _brute_force_interval(a, b, resamples=4000, seed=9)

    width = high - low
    assert abs(result.low - low) < 0.1 * width
    assert abs(result.high - high) < 0.1 * width


def test_a_bootstrap_over_tens_of_thousands_of_values_is_quick():
    generator = random.Random(2)
    a = [generator.expovariate(1 / 600) for _ in range(20_000)]
    b = [generator.expovariate(1 / 500) for _ in range(20_000)]

    started = time.perf_counter()
    result = stats.bootstrap_median_difference(a, b)

    assert time.perf_counter() - started < 1
    assert result.low < result.difference < result.high < 0
