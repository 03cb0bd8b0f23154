"""One filter over one minute of log events -> the metric datapoints of that minute.

Pure: the runner fetches the events and writes what this returns. Each
transformation aggregates its matches per dimension set into one statistic set
(SampleCount = matches, Sum of their values, Minimum, Maximum), as CloudWatch
Logs publishes metric filter data per minute. A match whose value or dimension
field is missing or not usable is skipped, as AWS does.
"""

from __future__ import annotations

import math
from collections.abc import Iterable
from typing import Any

from watchkeeper.events import Dimensions, MetricDatum
from watchkeeper.logfilter import CompiledPattern
from watchkeeper.metricfilters.model import Transformation

MINUTE = 60


class _Accumulator:
    __slots__ = ("count", "high", "low", "total")

    def __init__(self) -> None:
        self.count = 0.0
        self.total = 0.0
        self.low = math.inf
        self.high = -math.inf

    def add(self, value: float, times: float = 1.0) -> None:
        self.count += times
        self.total += value * times
        self.low = min(self.low, value)
        self.high = max(self.high, value)


def number(value: Any) -> float | None:
    """A field's value as a metric value: JSON numbers and numeric text; booleans and the rest are not."""
    if isinstance(value, bool) or value is None:
        return None
    try:
        result = float(value)
    except (TypeError, ValueError):
        return None
    return result if math.isfinite(result) else None


def dimension_text(value: Any) -> str | None:
    """A field's value as a dimension value: strings as they are, numbers without a trailing .0."""
    if value is None or isinstance(value, (dict, list)):
        return None
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    text = str(value)
    return text or None


def _match_key(pattern: CompiledPattern, transformation: Transformation,
               message: str) -> tuple[Dimensions, float] | None:
    """(dimensions, value) of one matching event for a transformation, or None when a field is unusable."""
    constant = transformation.constant
    value = constant if constant is not None else number(pattern.value_of(message, transformation.value))
    if value is None:
        return None
    dimensions = []
    for name, reference in transformation.dimensions.items():
        text = dimension_text(pattern.value_of(message, reference))
        if text is None:
            return None
        dimensions.append((name, text))
    return tuple(sorted(dimensions)), value


def minute_datapoints(pattern: CompiledPattern, transformation: Transformation, minute: int,
                      matches: Iterable[str], has_events: bool) -> list[MetricDatum]:
    """Datapoints of one transformation for one minute from the messages that match the pattern.

    has_events: the group received events in this minute (then defaultValue stands in for no match).
    """
    found: dict[Dimensions, _Accumulator] = {}
    for message in matches:
        key = _match_key(pattern, transformation, message)
        if key is not None:
            found.setdefault(key[0], _Accumulator()).add(key[1])
    return _datapoints(transformation, minute, found, has_events)


def counted_datapoints(transformation: Transformation, minute: int, matches: int,
                       has_events: bool) -> list[MetricDatum]:
    """The same for a constant-valued transformation without dimensions, from a count of matches."""
    constant = transformation.constant
    if constant is None or transformation.dimensions:
        raise ValueError("counted_datapoints needs a constant metricValue and no dimensions")
    found: dict[Dimensions, _Accumulator] = {}
    if matches:
        found.setdefault((), _Accumulator()).add(constant, matches)
    return _datapoints(transformation, minute, found, has_events)


def _datapoints(transformation: Transformation, minute: int, found: dict[Dimensions, _Accumulator],
                has_events: bool) -> list[MetricDatum]:
    if not found and has_events and transformation.default_value is not None:
        found[()] = _Accumulator()
        found[()].add(transformation.default_value)
    return [MetricDatum(transformation.namespace, transformation.metric_name, dimensions, float(minute),
                        acc.count, acc.total, acc.low, acc.high, transformation.unit, MINUTE)
            for dimensions, acc in sorted(found.items())]
