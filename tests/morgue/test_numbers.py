"""Figures as people read them: percentages, counts and signed changes."""

import pytest

from morgue import numbers


@pytest.mark.parametrize(
    ("ratio", "text"),
    [(0.353, "35%"), (1.0, "100%"), (0.0, "0%"), (0.004, "0.4%"), (0.996, "100%"), (None, "—")],
)
def test_a_ratio_reads_as_a_percentage(ratio, text):
    assert numbers.percent(ratio) == text


@pytest.mark.parametrize(("change", "text"), [(3, "+3"), (-4, "−4"), (0, "0"), (1234, "+1,234"), (None, "—")])
def test_a_change_in_a_count_carries_its_sign(change, text):
    assert numbers.signed_count(change) == text


@pytest.mark.parametrize(
    ("change", "text"),
    [
        (0.05, "+5 points"),
        (-0.127, "−13 points"),
        (0.01, "+1 point"),
        (0.0, "0 points"),
        (0.002, "+0.2 points"),
    ],
)
def test_a_change_between_percentages_reads_in_points(change, text):
    assert numbers.percent_points(change) == text


def test_a_count_separates_thousands():
    assert numbers.count(12345) == "12,345"
    assert numbers.count(None) == "—"
