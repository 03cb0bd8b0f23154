"""CloudWatch statistics over the observations of one period: a pure function others reuse.

The dry run (`watchkeeper alarms evaluate`) aggregates PutMetricData input with
it, and anything else that must compute a statistic in-process (tests, the API
over in-memory data) should too, so every path agrees with the metrics store:

- SampleCount, Sum, Minimum, Maximum, Average as CloudWatch defines them;
- percentiles by nearest rank over the values weighted by their counts (the
  store's quantilesExactWeighted); like CloudWatch, no percentile exists for a
  period holding a negative value or a statistic set of several distinct values;
- the trimmed forms TM/TC/TS/WM (and IQM) and the percentile rank PR over the same weighted values,
  with percent bounds (nearest-rank percentiles) or absolute ones; lower < value <= upper.
"""

from __future__ import annotations

import functools
import math
import re
from collections.abc import Sequence
from dataclasses import dataclass

BASIC_STATISTICS = ("SampleCount", "Average", "Sum", "Minimum", "Maximum")

# p99, p99.9, tm90, tc10.5, ts99, wm99 (percent bounds), TM(10%:90%), TM(150:1000) (absolute bounds), IQM,
# PR(100:2000) (absolute only); case-insensitive, as CloudWatch.
_NUMBER = r"\d+(?:\.\d{1,10})?"
_SINGLE = re.compile(rf"^(p|tm|tc|ts|wm)({_NUMBER})$", re.IGNORECASE)
_RANGE = re.compile(rf"^(tm|tc|ts|wm|pr)\(({_NUMBER})?(%?):({_NUMBER})?(%?)\)$", re.IGNORECASE)


@dataclass(frozen=True, slots=True)
class Observation:
    """What one PutMetricData datum contributed to a period.

    values holds (value, count) pairs when individual values are known (Value,
    Values/Counts); a StatisticValues datum has only its statistic set.
    """

    count: float
    sum: float
    minimum: float
    maximum: float
    values: tuple[tuple[float, float], ...] | None = None

    @classmethod
    def of_values(cls, pairs: Sequence[tuple[float, float]]) -> Observation:
        return cls(
            count=sum(c for _, c in pairs),
            sum=sum(v * c for v, c in pairs),
            minimum=min(v for v, _ in pairs),
            maximum=max(v for v, _ in pairs),
            values=tuple(pairs),
        )


@dataclass(frozen=True, slots=True)
class ExtendedStatistic:
    """A parsed ExtendedStatistic.

    kind is p (percentile), tm (trimmed mean), tc (trimmed count), ts (trimmed sum),
    wm (winsorized mean) or pr (percentile rank). lower/upper are the bounds: percentiles
    (0..100) when percent, else absolute values; None where the range is open (no bound, or
    0% below / 100% above, which trim nothing). A value v is inside when lower < v <= upper,
    the bounds being the percentile values or the absolute values: CloudWatch's "exclusive
    on the lower bound and inclusive on the upper bound".
    """

    kind: str
    lower: float | None
    upper: float | None
    percent: bool = True

    @property
    def percentile(self) -> float:
        """The percentile of a pNN statistic."""
        assert self.kind == "p" and self.upper is not None
        return self.upper

    @property
    def bound_percentiles(self) -> tuple[float, ...]:
        """The percentiles whose values are this statistic's bounds (none for absolute bounds)."""
        return tuple(b for b in (self.lower, self.upper) if b is not None) if self.percent else ()


@functools.lru_cache(maxsize=256)
def parse_extended_statistic(text: str) -> ExtendedStatistic | None:
    """Parse pNN / tmNN / TM(a%:b%) / TM(a:b) / IQM / PR(a:b); None when text is not one of them.

    Cached: an evaluation cycle asks for the same few statistics of thousands of alarms, and the
    result is frozen."""
    if text.upper() == "IQM":
        return ExtendedStatistic("tm", 25.0, 75.0)
    single = _SINGLE.match(text)
    if single:
        kind, value = single.group(1).lower(), float(single.group(2))
        if value > 100:
            return None
        if kind == "p":
            return ExtendedStatistic("p", None, value)
        return ExtendedStatistic(kind, None, value if value < 100 else None)
    ranged = _RANGE.match(text)
    if not ranged or (ranged.group(2) is None and ranged.group(4) is None):
        return None
    kind = ranged.group(1).lower()
    given = [(ranged.group(2), ranged.group(3)), (ranged.group(4), ranged.group(5))]
    marks = {mark for number, mark in given if number is not None}
    if len(marks) != 1 or (kind == "pr" and "%" in marks):
        return None  # bounds mix percent and absolute values, or PR with percent (its bounds are values)
    percent = "%" in marks
    lower = float(given[0][0]) if given[0][0] is not None else None
    upper = float(given[1][0]) if given[1][0] is not None else None
    if lower is not None and upper is not None and lower >= upper:
        return None
    if percent:
        if any(b is not None and b > 100 for b in (lower, upper)):
            return None
        lower = None if lower == 0 else lower
        upper = None if upper == 100 else upper
    return ExtendedStatistic(kind, lower, upper, percent)


def sample_count(observations: Sequence[Observation]) -> float:
    return sum(o.count for o in observations)


def aggregate(observations: Sequence[Observation], statistic: str) -> float | None:
    """The statistic of one period's observations; None when the period has none or it is undefined."""
    if not observations:
        return None
    count = sample_count(observations)
    if statistic == "SampleCount":
        return count
    if statistic == "Sum":
        return sum(o.sum for o in observations)
    if statistic == "Minimum":
        return min(o.minimum for o in observations)
    if statistic == "Maximum":
        return max(o.maximum for o in observations)
    if statistic == "Average":
        return sum(o.sum for o in observations) / count if count else None
    extended = parse_extended_statistic(statistic)
    if extended is None:
        raise ValueError(f"unknown statistic {statistic!r}")
    weighted = _weighted_values(observations)
    return None if weighted is None else _extended(weighted, extended)


def _weighted_values(observations: Sequence[Observation]) -> list[tuple[float, float]] | None:
    """Sorted (value, count) pairs, or None when percentiles are undefined for this period."""
    pairs: list[tuple[float, float]] = []
    for observation in observations:
        if observation.values is not None:
            pairs.extend(observation.values)
        elif observation.minimum == observation.maximum:
            pairs.append((observation.minimum, observation.count))
        else:
            return None
    if not pairs or any(value < 0 for value, _ in pairs):
        return None
    return sorted(pairs)


def nearest_rank(pairs: Sequence[tuple[float, float]], percentile: float) -> float:
    """The smallest value whose cumulative weight reaches percentile% of the total (nearest rank)."""
    total = sum(c for _, c in pairs)
    rank = max(math.ceil(total * percentile / 100.0 - 1e-9), 1)
    seen = 0.0
    for value, count in pairs:
        seen += count
        if seen >= rank:
            return value
    return pairs[-1][0]


def _extended(pairs: list[tuple[float, float]], statistic: ExtendedStatistic) -> float | None:
    if statistic.kind == "p":
        return nearest_rank(pairs, statistic.percentile)
    low, high = (None if bound is None else nearest_rank(pairs, bound) if statistic.percent else bound
                 for bound in (statistic.lower, statistic.upper))
    weight_inside, sum_inside = trimmed_parts(pairs, statistic.kind, low, high)
    return finish_trimmed(statistic.kind, weight_inside, sum_inside, sum(c for _, c in pairs))


def trimmed_parts(pairs: Sequence[tuple[float, float]], kind: str, low: float | None,
                  high: float | None) -> tuple[float, float]:
    """(weight inside (low, high], the sum the statistic needs): the values inside for TM/TC/TS/PR;
    for WM every value clamped into [low, high] (winsorized: none is dropped)."""
    if kind == "wm":
        lowest, highest = -math.inf if low is None else low, math.inf if high is None else high
        return sum(c for _, c in pairs), sum(min(max(v, lowest), highest) * c for v, c in pairs)
    inside = [(v, c) for v, c in pairs if (low is None or v > low) and (high is None or v <= high)]
    return sum(c for _, c in inside), sum(v * c for v, c in inside)


def finish_trimmed(kind: str, weight_inside: float, sum_inside: float, total_weight: float) -> float | None:
    """A trimmed statistic from trimmed_parts (computed here or by the metrics store); None for the mean of
    nothing."""
    if kind == "tc":
        return weight_inside
    if kind == "ts":
        return sum_inside
    if kind == "pr":
        return 100.0 * weight_inside / total_weight if total_weight else None
    return sum_inside / weight_inside if weight_inside else None  # tm, and wm over every value
