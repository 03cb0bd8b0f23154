"""Evaluate one alarm against datapoints given in PutMetricData shape, in-process, as of a given time.

No storage and no server: the datapoints are aggregated into the alarm's periods
and statistic with watchkeeper.statistics (the same definitions the metrics
store uses), metric math runs on the aggregated series, and alarms.evaluate
decides. `watchkeeper alarms evaluate` and `watchkeeper alarms test` use it.
"""

from __future__ import annotations

import json
from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, Literal

from pydantic import Field, model_validator
from pydantic_core import PydanticCustomError

from alarms.evaluate import AlarmState, Evaluation, PeriodValue, evaluate, evaluation_range, newest_complete_period
from alarms.mathexpr import Series, evaluate_metrics
from alarms.model import Dimension, MetricStatSpec, PutMetricAlarm, StateValue, UnitName
from watchkeeper.config import Strict, validate
from watchkeeper.errors import ConfigError, Problem
from watchkeeper.events import Dimensions, normalise_dimensions
from watchkeeper.statistics import Observation, aggregate, sample_count


class StatisticSet(Strict):
    SampleCount: float = Field(gt=0)
    Sum: float
    Minimum: float
    Maximum: float


class InputDatum(Strict):
    """One entry of PutMetricData's MetricData."""

    MetricName: str = Field(min_length=1, max_length=255)
    Dimensions: list[Dimension] = Field(default_factory=list, max_length=30)
    Timestamp: datetime = Field(description="ISO 8601 or epoch seconds; naive times are UTC.")
    Value: float | None = None
    Values: list[float] | None = Field(default=None, max_length=150)
    Counts: list[float] | None = Field(default=None, max_length=150)
    StatisticValues: StatisticSet | None = None
    Unit: UnitName | None = None
    StorageResolution: Literal[1, 60] | None = None

    @model_validator(mode="after")
    def _one_value_form(self) -> InputDatum:
        forms = [self.Value is not None, self.Values is not None, self.StatisticValues is not None]
        if sum(forms) != 1:
            raise PydanticCustomError("value_form", "allowed exactly one of Value, Values (+Counts), StatisticValues")
        if self.Counts is not None and (self.Values is None or len(self.Counts) != len(self.Values)):
            raise PydanticCustomError("counts", "Counts must pair with Values, one count per value")
        return self

    def observation(self) -> Observation:
        if self.StatisticValues is not None:
            stats = self.StatisticValues
            return Observation(stats.SampleCount, stats.Sum, stats.Minimum, stats.Maximum)
        if self.Values is not None:
            counts = self.Counts or [1.0] * len(self.Values)
            return Observation.of_values(list(zip(self.Values, counts, strict=True)))
        assert self.Value is not None
        return Observation.of_values([(self.Value, 1.0)])


class PutMetricData(Strict):
    Namespace: str = Field(min_length=1, max_length=255)
    MetricData: list[InputDatum] = Field(max_length=1000)


@dataclass(frozen=True, slots=True)
class ObservedDatum:
    """One datapoint of one series, ready to aggregate."""

    namespace: str
    metric_name: str
    dimensions: Dimensions
    timestamp: float
    unit: str | None
    observation: Observation


def parse_time(text: str | float, source: str, field: str) -> float:
    """Epoch seconds from an ISO 8601 time (Z or offset; naive = UTC) or a number of seconds."""
    if isinstance(text, int | float):
        return float(text)
    try:
        return float(text)
    except ValueError:
        pass
    try:
        moment = datetime.fromisoformat(text.replace("Z", "+00:00"))
    except ValueError:
        raise ConfigError([Problem(source, field, f"found {text!r}; allowed an ISO 8601 time such as "
                                                  "2024-05-01T12:00:00Z or epoch seconds")]) from None
    return epoch(moment)


def load_json_argument(value: str, what: str) -> Any:
    """A CLI JSON argument: file://path (as the AWS CLI takes it) or inline JSON."""
    source = value[len("file://"):] if value.startswith("file://") else what
    try:
        text = Path(source).read_text() if value.startswith("file://") else value
    except FileNotFoundError:
        raise ConfigError([Problem(source, "", "file not found")]) from None
    except OSError as error:
        raise ConfigError([Problem(source, "", f"cannot be read: {error.strerror}")]) from None
    try:
        return json.loads(text)
    except json.JSONDecodeError as error:
        raise ConfigError([Problem(source, "", f"not valid JSON: {error}")]) from None


def observed_from_put_metric_data(data: Any, source: str) -> list[ObservedDatum]:
    request = validate(PutMetricData, data, source)
    return [ObservedDatum(request.Namespace, d.MetricName, normalise_dimensions([(x.Name, x.Value) for x in d.Dimensions]),
                          epoch(d.Timestamp), d.Unit, d.observation())
            for d in request.MetricData]


def epoch(moment: datetime) -> float:
    """Epoch seconds of a datetime; a naive one is UTC."""
    return (moment if moment.tzinfo else moment.replace(tzinfo=UTC)).timestamp()


def aggregate_periods(data: Sequence[ObservedDatum], namespace: str | None, metric_name: str, dimensions: Dimensions,
                      unit: str | None, period: int, statistic: str) -> dict[int, PeriodValue]:
    """The statistic of one series per period start (periods aligned to multiples of `period`)."""
    buckets: dict[int, list[Observation]] = defaultdict(list)
    for datum in data:
        if (datum.metric_name == metric_name and datum.dimensions == dimensions
                and (namespace is None or datum.namespace == namespace) and (unit is None or datum.unit == unit)):
            buckets[int(datum.timestamp // period) * period].append(datum.observation)
    out: dict[int, PeriodValue] = {}
    for start, observations in buckets.items():
        value = aggregate(observations, statistic)
        if value is not None:
            out[start] = PeriodValue(value, sample_count(observations))
    return out


def alarm_datapoints(alarm: PutMetricAlarm, data: Sequence[ObservedDatum], at: float,
                     source: str) -> dict[int, PeriodValue]:
    """The alarm's per-period values from raw data: one metric, or its metric math result."""
    if alarm.Metrics is None:
        assert alarm.MetricName is not None and alarm.Period is not None and alarm.statistic_name is not None
        dimensions = normalise_dimensions([(d.Name, d.Value) for d in alarm.Dimensions])
        return aggregate_periods(data, alarm.Namespace, alarm.MetricName, dimensions, alarm.Unit, alarm.Period,
                                 alarm.statistic_name)
    period = alarm.period
    # Twice the evaluation range, so DIFF/RATE/FILL have history before the oldest evaluated period.
    newest = newest_complete_period(at, period)
    starts = [newest - i * period for i in reversed(range(2 * evaluation_range(alarm.EvaluationPeriods)))]
    per_query = {q.Id: _stat_series(q.MetricStat, data) for q in alarm.Metrics if q.MetricStat is not None}
    aligned: dict[str, Series] = {
        name: tuple(values[t].value if t in values else None for t in starts) for name, values in per_query.items()}
    result = evaluate_metrics(alarm.Metrics, starts, period, aligned, source)
    returned = alarm.returned_query
    counts = per_query.get(returned.Id, {}) if returned is not None else {}
    return {t: PeriodValue(v, counts[t].sample_count if t in counts else 1.0)
            for t, v in zip(starts, result, strict=True) if v is not None}


def _stat_series(stat: MetricStatSpec, data: Sequence[ObservedDatum]) -> dict[int, PeriodValue]:
    metric = stat.Metric
    dimensions = normalise_dimensions([(d.Name, d.Value) for d in metric.Dimensions])
    return aggregate_periods(data, metric.Namespace, metric.MetricName, dimensions, stat.Unit, stat.Period, stat.Stat)


def dry_run(alarm: PutMetricAlarm, data: Sequence[ObservedDatum], at: float, state: StateValue,
            source: str) -> Evaluation:
    """Evaluate `alarm` as of `at` from `state` (reason: the creation reason) against `data`."""
    return evaluate(alarm, alarm_datapoints(alarm, data, at, source), AlarmState(state), at)
