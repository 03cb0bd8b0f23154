"""The shared in-process statistics: CloudWatch's definitions, nearest-rank percentiles weighted by counts."""

from __future__ import annotations

import pytest

from watchkeeper.statistics import Observation, aggregate, parse_extended_statistic

ONE_TO_HUNDRED = [Observation.of_values([(float(v), 1.0) for v in range(1, 101)])]


@pytest.mark.parametrize(("statistic", "expected"), [
    ("SampleCount", 100.0), ("Sum", 5050.0), ("Minimum", 1.0), ("Maximum", 100.0), ("Average", 50.5),
    ("p50", 50.0), ("p90", 90.0), ("p99.5", 100.0), ("p0", 1.0), ("p100", 100.0),
    ("tm10", 5.5),             # mean of 1..10
    ("TM(10%:90%)", 50.5),     # mean of 11..90
    ("tc90", 90.0), ("ts10", 55.0),
    ("IQM", 50.5),             # mean of 26..75
    ("wm90", (sum(range(1, 91)) + 90 * 10) / 100),
])
def test_statistics_over_one_to_hundred(statistic: str, expected: float) -> None:
    assert aggregate(ONE_TO_HUNDRED, statistic) == pytest.approx(expected)


def test_percentile_weights_values_by_counts() -> None:
    observations = [Observation.of_values([(1.0, 9.0), (100.0, 1.0)])]
    assert aggregate(observations, "p90") == 1.0
    assert aggregate(observations, "p91") == 100.0


def test_statistic_sets_combine_and_percentiles_need_values() -> None:
    stats = Observation(count=4, sum=40, minimum=5, maximum=15)
    single = Observation.of_values([(30.0, 1.0)])
    assert aggregate([stats, single], "Average") == 14.0
    assert aggregate([stats, single], "Maximum") == 30.0
    assert aggregate([stats, single], "p50") is None       # a set of distinct values hides its distribution
    flat = Observation(count=3, sum=21, minimum=7, maximum=7)
    assert aggregate([flat, single], "p50") == 7.0


def test_negative_values_have_no_percentile_and_empty_period_has_nothing() -> None:
    assert aggregate([Observation.of_values([(-1.0, 1.0)])], "p50") is None
    assert aggregate([], "Average") is None


@pytest.mark.parametrize("text", ["p101", "q50", "tm", "TM(90%:10%)", "p50.12345678901"])
def test_invalid_extended_statistics(text: str) -> None:
    assert parse_extended_statistic(text) is None
