"""`watchkeeper alarms test`: unit tests for alarms, in the spirit of `promtool test rules`.

A test file (YAML or JSON) holds alarm definitions and test cases. Each case
gives input series in a compact notation and the states expected at given
times. The runner evaluates every alarm on CloudWatch's schedule (every 60 s,
every 10 s for high-resolution alarms) from the start of the case to its last
expectation, carrying the state from one evaluation to the next, so
transitions, M out of N and missing data behave as they will in production.

    alarms:
      - {AlarmName: cpu-high, Namespace: CWAgent, MetricName: cpu_usage_user, Statistic: Average,
         Period: 60, EvaluationPeriods: 3, DatapointsToAlarm: 2, Threshold: 80,
         ComparisonOperator: GreaterThanThreshold}
    tests:
      - name: two hot minutes out of three raise the alarm
        start: 2024-05-01T12:00:00Z
        series:
          - {Namespace: CWAgent, MetricName: cpu_usage_user, values: "10 95 _ 97 20x3"}
        expect:
          - {alarm: cpu-high, at: 5m, state: ALARM}
          - {alarm: cpu-high, at: 8m, state: OK}

Values: a number, `_` for no datapoint, `VxK` for K copies of V (also `_xK`),
one value per `interval` seconds (default 60) from `start`.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any

import yaml
from pydantic import Field

from alarms.dryrun import ObservedDatum, alarm_datapoints, epoch, parse_time
from alarms.evaluate import AlarmState, PeriodValue, evaluate
from alarms.model import Dimension, PutMetricAlarm, StateValue, UnitName, load_metric_alarm
from alarms.reason import iso_time
from watchkeeper.config import Strict, validate
from watchkeeper.errors import ConfigError, Problem
from watchkeeper.events import normalise_dimensions
from watchkeeper.statistics import Observation

_OFFSET = re.compile(r"^(\d+)(s|m|h|d)$")
_UNIT_SECONDS = {"s": 1, "m": 60, "h": 3600, "d": 86400}


class InputSeries(Strict):
    Namespace: str = Field(min_length=1)
    MetricName: str = Field(min_length=1)
    Dimensions: list[Dimension] = Field(default_factory=list)
    Unit: UnitName | None = None
    interval: int = Field(default=60, ge=1, description="Seconds between two values.")
    values: str = Field(description='Space-separated: a number, "_" (no datapoint), "VxK" (K copies of V).')


class Expectation(Strict):
    alarm: str = Field(min_length=1)
    at: str | datetime = Field(description="An offset from start (90s, 5m, 2h) or an ISO 8601 time.")
    state: StateValue
    reason: str | None = Field(default=None, description="The exact StateReason, when given.")


class AlarmTestCase(Strict):
    name: str = Field(min_length=1)
    start: datetime = Field(description="ISO 8601 time of the first value of every series (naive = UTC).")
    initial_state: StateValue = "INSUFFICIENT_DATA"
    series: list[InputSeries] = Field(default_factory=list)
    expect: list[Expectation] = Field(min_length=1)


class AlarmTestFile(Strict):
    alarms: list[dict[str, Any]] = Field(min_length=1, description="PutMetricAlarm definitions.")
    tests: list[AlarmTestCase] = Field(min_length=1)


@dataclass(frozen=True, slots=True)
class Failure:
    source: str
    case: str
    alarm: str
    at: float
    expected: str
    got: str

    def __str__(self) -> str:
        return (f"FAIL {self.source}: {self.case!r}: alarm {self.alarm} at {iso_time(self.at)}\n"
                f"- expected: {self.expected}\n+ got:      {self.got}")


def expand_values(notation: str, source: str, field: str) -> list[float | None]:
    """'1 2 _ 4 5x3' -> [1, 2, None, 4, 5, 5, 5]."""
    out: list[float | None] = []
    for token in notation.split():
        text, _, repeat = token.partition("x")
        try:
            value = None if text == "_" else float(text)
            count = int(repeat) if repeat else 1
        except ValueError:
            raise ConfigError([Problem(source, field, f"found {token!r}; allowed a number, _ or VxK "
                                                      "(V a number or _, K a count)")]) from None
        out.extend([value] * count)
    return out


def _offset_or_time(text: str | datetime, start: float, source: str, field: str) -> float:
    if isinstance(text, datetime):
        return epoch(text)
    match = _OFFSET.match(text)
    if match:
        return start + int(match.group(1)) * _UNIT_SECONDS[match.group(2)]
    return parse_time(text, source, field)


def load_test_file(path: Path) -> tuple[AlarmTestFile, list[PutMetricAlarm]]:
    source = str(path)
    try:
        text = path.read_text()
    except OSError as error:
        raise ConfigError([Problem(source, "", f"cannot be read: {error.strerror}")]) from None
    try:
        data = json.loads(text) if path.suffix == ".json" else yaml.safe_load(text)
    except (json.JSONDecodeError, yaml.YAMLError) as error:
        raise ConfigError([Problem(source, "", f"not valid {'JSON' if path.suffix == '.json' else 'YAML'}: "
                                               f"{error}")]) from None
    spec = validate(AlarmTestFile, data, source)
    problems: list[Problem] = []
    alarms: list[PutMetricAlarm] = []
    for index, definition in enumerate(spec.alarms):
        try:
            alarms.append(load_metric_alarm(definition, f"{source}: alarms[{index}]"))
        except ConfigError as error:
            problems.extend(error.problems)
    if problems:
        raise ConfigError(problems)
    return spec, alarms


def _observed(case: AlarmTestCase, start: float, source: str, index: int) -> list[ObservedDatum]:
    data: list[ObservedDatum] = []
    for number, series in enumerate(case.series):
        field = f"tests[{index}].series[{number}].values"
        dimensions = normalise_dimensions([(d.Name, d.Value) for d in series.Dimensions])
        for step, value in enumerate(expand_values(series.values, source, field)):
            if value is not None:
                data.append(ObservedDatum(series.Namespace, series.MetricName, dimensions,
                                          start + step * series.interval, series.Unit,
                                          Observation.of_values([(value, 1.0)])))
    return data


def run_case(case: AlarmTestCase, index: int, alarms: dict[str, PutMetricAlarm], source: str) -> list[Failure]:
    start = epoch(case.start)
    data = _observed(case, start, source, index)
    failures: list[Failure] = []
    for number, expectation in enumerate(case.expect):
        field = f"tests[{index}].expect[{number}]"
        alarm = alarms.get(expectation.alarm)
        if alarm is None:
            raise ConfigError([Problem(source, f"{field}.alarm", f"found {expectation.alarm!r}; allowed "
                                                                 f"{', '.join(sorted(alarms))}")])
        at = _offset_or_time(expectation.at, start, source, f"{field}.at")
        state = _state_at(alarm, data, start, at, case.initial_state, source)
        if state.value != expectation.state or (expectation.reason is not None and state.reason != expectation.reason):
            wanted = expectation.state + (f" ({expectation.reason})" if expectation.reason is not None else "")
            failures.append(Failure(source, case.name, alarm.AlarmName, at, wanted, f"{state.value} ({state.reason})"))
    return failures


def _state_at(alarm: PutMetricAlarm, data: list[ObservedDatum], start: float, at: float, initial: StateValue,
              source: str) -> AlarmState:
    """The alarm's state after its last scheduled evaluation at or before `at`, evaluating from `start`."""
    step = 60 if alarm.period >= 60 else 10
    state = AlarmState(initial)
    tick = (int(start) // step + 1) * step
    while tick <= at:
        values: dict[int, PeriodValue] = alarm_datapoints(alarm, data, tick, source)
        result = evaluate(alarm, values, state, tick)
        if result.transition:
            state = AlarmState(result.state, result.reason, result.reason_data)
        tick += step
    return state


def run_test_file(path: Path) -> tuple[int, list[Failure]]:
    """(number of expectations checked, failures) for one file."""
    spec, alarms = load_test_file(path)
    by_name = {alarm.AlarmName: alarm for alarm in alarms}
    failures: list[Failure] = []
    for index, case in enumerate(spec.tests):
        failures.extend(run_case(case, index, by_name, str(path)))
    return sum(len(case.expect) for case in spec.tests), failures
