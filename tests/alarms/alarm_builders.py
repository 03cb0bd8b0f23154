"""Builders shared by the alarm tests: definitions and datapoint rows in the AWS docs' 0 / X / - notation."""

from __future__ import annotations

from typing import Any

from alarms.evaluate import PeriodValue, newest_complete_period
from alarms.model import PutMetricAlarm, load_metric_alarm

NOW = 1_549_818_020.012  # 2019-02-10T17:00:20.012Z, the moment of AWS's documented example
THRESHOLD = 50.0


def metric_alarm(**overrides: Any) -> PutMetricAlarm:
    definition: dict[str, Any] = {
        "AlarmName": "cpu-high", "Namespace": "CWAgent", "MetricName": "cpu_usage_user",
        "Statistic": "Average", "Period": 60, "EvaluationPeriods": 1, "Threshold": THRESHOLD,
        "ComparisonOperator": "GreaterThanThreshold",
    }
    definition.update(overrides)
    return load_metric_alarm(definition, "test")


def row(notation: str, period: int = 60, now: float = NOW) -> dict[int, PeriodValue]:
    """'0 - X - X' (oldest left, newest right, ending at the newest complete period) -> datapoints."""
    cells = notation.split()
    newest = newest_complete_period(now, period)
    values = {"0": 10.0, "X": 99.5}
    return {newest - (len(cells) - 1 - i) * period: PeriodValue(values[c]) for i, c in enumerate(cells) if c != "-"}
