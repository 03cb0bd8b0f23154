"""CloudWatch statistics over the observations of one period: a pure function others reuse.

The dry run (`watchkeeper alarms evaluate`) aggregates PutMetricData input with
it, and anything else that must compute a statistic in-process (tests, the API
over in-memory data) should too, so every path agrees with the metrics store:

- SampleCount, Sum, Minimum, Maximum, Average as CloudWatch defines them;
- percentiles by nearest rank over the values weighted by their counts (the
  store's quantilesExactWeighted); like CloudWatch, no percentile exists for a
  period holding a negative value or a statistic set of several distinct values;
- the trimmed forms TM/TC/TS/WM (and IQM) over the same weighted values.
"""

from __future__ import annotations

import math
import re
from collections.abc import Sequence
from dataclasses import dataclass

BASIC_STATISTICS = ("SampleCount", "Average", "Sum", "Minimum", "Maximum")

# p99, p99.9, tm90, tc10.5, ts99, wm99, TM(10%:90%), TM(10:90), IQM (case-insensitive, as CloudWatch).
_SINGLE = re.compile(r"^(p|tm|tc|ts|wm)(\d{1,3}(?:\.\d{1,10})?)$", re.IGNORECASE)
_RANGE = re.compile(r"^(tm|tc|ts|wm)\((\d{1,3}(?:\.\d{1,10})?)?(%?):(\d{1,3}(?:\.\d{1,10})?)?(%?)\)$", re.IGNORECASE)


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
    """A parsed ExtendedStatistic: kind p/tm/tc/ts/wm and the percentile bounds in 0..100."""

    kind: str
    lower: float
    upper: float

    @property
    def percentile(self) -> float:
        """The percentile of a pNN statistic (its upper bound)."""
        return self.upper


def parse_extended_statistic(text: str) -> ExtendedStatistic | None:
    """Parse pNN / tmNN / TM(a%:b%) / IQM forms; None when text is not one of them."""
    if text.upper() == "IQM":
        return ExtendedStatistic("tm", 25.0, 75.0)
    single = _SINGLE.match(text)
    if single:
        value = float(single.group(2))
        return ExtendedStatistic(single.group(1).lower(), 0.0, value) if value <= 100 else None
    ranged = _RANGE.match(text)
    if ranged:
        lower = float(ranged.group(2)) if ranged.group(2) else 0.0
        upper = float(ranged.group(4)) if ranged.group(4) else 100.0
        if lower < upper <= 100:
            return ExtendedStatistic(ranged.group(1).lower(), lower, upper)
    return None


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
    low = nearest_rank(pairs, statistic.lower) if statistic.lower > 0 else pairs[0][0]
    high = nearest_rank(pairs, statistic.upper)
    if statistic.kind == "wm":
        # Winsorized: values outside the bounds are clamped to them, none are dropped.
        total = sum(c for _, c in pairs)
        return sum(min(max(v, low), high) * c for v, c in pairs) / total
    inside = [(v, c) for v, c in pairs if (v > low or statistic.lower == 0) and v <= high]
    count = sum(c for _, c in inside)
    if statistic.kind == "tc":
        return count
    total_inside = sum(v * c for v, c in inside)
    if statistic.kind == "ts":
        return total_inside
    return total_inside / count if count else None
