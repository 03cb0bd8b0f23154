"""PutMetricAlarm / PutCompositeAlarm validation: every problem at once, naming alarm, field, found, allowed."""

from __future__ import annotations

from typing import Any

import pytest

from alarms.model import load_composite_alarm, load_metric_alarm
from watchkeeper.errors import ConfigError

BASE: dict[str, Any] = {
    "AlarmName": "cpu-high", "Namespace": "CWAgent", "MetricName": "cpu_usage_user", "Statistic": "Average",
    "Period": 60, "EvaluationPeriods": 3, "Threshold": 80, "ComparisonOperator": "GreaterThanThreshold",
}


def problems(**changes: Any) -> list[str]:
    data = {**BASE, **changes}
    for key in [k for k, v in changes.items() if v is None]:
        del data[key]
    with pytest.raises(ConfigError) as caught:
        load_metric_alarm(data, "a.json")
    return [str(p) for p in caught.value.problems]


def test_valid_alarm_defaults() -> None:
    alarm = load_metric_alarm(BASE, "a.json")
    assert alarm.datapoints_to_alarm == 3 and alarm.TreatMissingData == "missing" and alarm.ActionsEnabled


@pytest.mark.parametrize("period", [10, 20, 30, 60, 300, 3600])
def test_allowed_periods(period: int) -> None:
    assert load_metric_alarm({**BASE, "Period": period}, "a.json").period == period


@pytest.mark.parametrize(("changes", "expected"), [
    ({"Period": 45}, "a.json (alarm cpu-high): Period: found 45; allowed 10, 20, 30 or a multiple of 60"),
    ({"Period": 90}, "Period: found 90; allowed 10, 20, 30 or a multiple of 60"),
    ({"AlarmName": ""}, "AlarmName: found ''; string should have at least 1 character"),
    ({"AlarmName": "x" * 256}, "AlarmName: found"),
    ({"EvaluationPeriods": 0}, "EvaluationPeriods: found 0; input should be greater than or equal to 1"),
    ({"DatapointsToAlarm": 4}, "DatapointsToAlarm: found 4; allowed 1..EvaluationPeriods (3)"),
    ({"AlarmActions": ["http://a"] * 6}, "AlarmActions: found"),
    ({"Dimensions": [{"Name": "d", "Value": "v"}] * 31}, "Dimensions: found"),
    ({"ExtendedStatistic": "p99"}, "Statistic: found both of Statistic and ExtendedStatistic; allowed exactly one"),
    ({"Statistic": None}, "Statistic: found neither of Statistic and ExtendedStatistic; allowed exactly one"),
    ({"Statistic": None, "ExtendedStatistic": "p101"}, "ExtendedStatistic: found 'p101'; allowed p0.0..p100"),
    ({"Statistic": None, "ExtendedStatistic": "p99.12345678901"}, "ExtendedStatistic: found"),
    ({"Statistic": "Median"}, "Statistic: found 'Median'; input should be 'SampleCount'"),
    ({"ComparisonOperator": "GreaterThanUpperThreshold"},
     "ComparisonOperator: found 'GreaterThanUpperThreshold'; anomaly-detection bands are not supported yet"),
    ({"ComparisonOperator": "Above"}, "ComparisonOperator: found 'Above'; allowed GreaterThanOrEqualToThreshold"),
    ({"TreatMissingData": "zero"}, "TreatMissingData: found 'zero'; input should be 'missing', 'ignore'"),
    ({"Period": 60, "EvaluationPeriods": 1441}, "found Period x EvaluationPeriods = 60 x 1441 = 86460 s; "
                                               "allowed at most 86400 s (1 day)"),
    ({"Period": 3600, "EvaluationPeriods": 169}, "allowed at most 604800 s (7 days)"),
    ({"EvaluateLowSampleCountPercentile": "ignore"}, "EvaluateLowSampleCountPercentile: applies only with a "
                                                     "percentile"),
    ({"Threshold": None}, "Threshold: required key is missing"),
    ({"Colour": "red"}, "Colour: unknown key; allowed keys: ActionsEnabled"),
])
def test_problems(changes: dict[str, Any], expected: str) -> None:
    assert any(expected in p for p in problems(**changes)), problems(**changes)


@pytest.mark.parametrize("statistic", ["p0.0", "p50", "p99.9999999999", "p100", "tm90", "tc10", "ts99.5", "wm95",
                                       "TM(10%:90%)", "IQM"])
def test_extended_statistic_forms(statistic: str) -> None:
    definition = {k: v for k, v in BASE.items() if k != "Statistic"} | {"ExtendedStatistic": statistic}
    alarm = load_metric_alarm(definition, "a.json")
    assert alarm.statistic_name == statistic


def test_seven_days_allowed_for_hourly_periods() -> None:
    assert load_metric_alarm({**BASE, "Period": 3600, "EvaluationPeriods": 168}, "a.json").EvaluationPeriods == 168


def test_every_field_problem_reported_at_once() -> None:
    found = problems(Period=45, EvaluationPeriods=0, ComparisonOperator="Above")
    assert [p.split(": ")[1] for p in found] == ["Period", "EvaluationPeriods", "ComparisonOperator"]


def test_metric_math_rules() -> None:
    math: dict[str, Any] = {k: v for k, v in BASE.items() if k not in ("Namespace", "MetricName", "Statistic",
                                                                       "Period")}
    stat = {"Metric": {"Namespace": "N", "MetricName": "m"}, "Period": 60, "Stat": "Sum"}
    alarm = load_metric_alarm({**math, "Metrics": [
        {"Id": "m1", "MetricStat": stat, "ReturnData": False}, {"Id": "e1", "Expression": "m1 * 2"}]}, "a.json")
    assert alarm.period == 60 and alarm.returned_query is not None and alarm.returned_query.Id == "e1"
    with pytest.raises(ConfigError) as caught:
        load_metric_alarm({**math, "MetricName": "m", "Metrics": [
            {"Id": "m1", "MetricStat": stat}, {"Id": "m1", "Expression": "m1", "MetricStat": stat}]}, "a.json")
    messages = [f"{p.path}: {p.message}" for p in caught.value.problems]
    assert "MetricName: found together with Metrics; allowed either Metrics or the single-metric fields" in messages
    assert "Metrics: found ReturnData=true on 2 entries ['m1', 'm1']; allowed exactly one" in messages
    assert "Metrics[1]: allowed exactly one of MetricStat and Expression" in messages
    assert "Metrics[1].Id: found 'm1' more than once; ids must be unique" in messages


def test_composite_alarm_model() -> None:
    alarm = load_composite_alarm({"AlarmName": "svc", "AlarmRule": "ALARM(a)", "ActionsSuppressor": "maint",
                                  "ActionsSuppressorWaitPeriod": 60, "ActionsSuppressorExtensionPeriod": 120}, "c.json")
    assert alarm.ActionsSuppressor == "maint"
    with pytest.raises(ConfigError) as caught:
        load_composite_alarm({"AlarmName": "svc", "AlarmRule": "x" * 10241, "ActionsSuppressorWaitPeriod": 5}, "c.json")
    paths = [p.path for p in caught.value.problems]
    assert paths == ["AlarmRule"]
    with pytest.raises(ConfigError) as caught:
        load_composite_alarm({"AlarmName": "svc", "AlarmRule": "TRUE", "ActionsSuppressorWaitPeriod": 5}, "c.json")
    assert str(caught.value) == ("c.json (alarm svc): ActionsSuppressorWaitPeriod: allowed only together with "
                                 "ActionsSuppressor")
