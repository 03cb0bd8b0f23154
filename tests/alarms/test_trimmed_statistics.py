"""Trimmed statistics (TM/TC/TS/WM/IQM/PR) as CloudWatch defines them: in-process (the dry run), in the
metrics store on both engines (the alarm cycle's read), and an alarm on one end to end."""

from __future__ import annotations

import json
import time
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner

from tests.alarms.service_support import NEWEST_PERIOD, metric_alarm, running
from watchkeeper.cli.main import cli
from watchkeeper.events import MetricDatum
from watchkeeper.statistics import Observation, aggregate, parse_extended_statistic
from watchkeeper.storage.engine import Engine
from watchkeeper.storage.metrics import write_metrics
from watchkeeper.storage.metrics_query import SeriesKey, fetch_trimmed

ONE_TO_HUNDRED = [Observation.of_values([(float(v), 1.0) for v in range(1, 101)])]
BASE = (int(time.time()) // 60 - 10) * 60


@pytest.mark.parametrize(("statistic", "expected"), [
    ("TM(150:1000)", None),                    # absolute bounds: nothing of 1..100 is above 150
    ("TM(10:20)", 15.5),                       # absolute (10, 20]: 11..20, the lower bound excluded
    ("TC(10:20)", 10.0), ("TS(10:20)", 155.0),
    ("TC(:20)", 20.0), ("TC(90:)", 10.0),      # an open side trims nothing
    ("TC(10%:)", 90.0), ("TS(80%:)", sum(range(81, 101))),
    ("WM(10%:90%)", (10 * 10 + sum(range(11, 91)) + 90 * 10) / 100),  # clamped to p10 = 10 and p90 = 90
    ("WM(20:30)", (20 * 20 + sum(range(21, 31)) + 30 * 70) / 100),    # absolute bounds clamp to the bounds
    ("PR(:30)", 30.0), ("PR(10:20)", 10.0), ("PR(200:300)", 0.0),
    ("tm100", 50.5), ("tc100", 100.0),
])
def test_trimmed_forms_over_one_to_hundred(statistic: str, expected: float | None) -> None:
    assert aggregate(ONE_TO_HUNDRED, statistic) == pytest.approx(expected)


def test_percent_bounds_trim_values_not_ranks_so_ties_stay_together() -> None:
    # p50 of 1,2,2,2,3 is 2: TM(:50%) keeps every 2 (value <= bound), TM(50%:) drops them all.
    observations = [Observation.of_values([(1.0, 1.0), (2.0, 3.0), (3.0, 1.0)])]
    assert aggregate(observations, "TC(:50%)") == 4.0
    assert aggregate(observations, "TC(50%:)") == 1.0


def test_trimmed_statistics_need_values_like_percentiles() -> None:
    spread = Observation(count=4, sum=40, minimum=5, maximum=15)  # StatisticValues of distinct values
    assert aggregate([spread], "tm90") is None
    assert aggregate([Observation(count=3, sum=21, minimum=7, maximum=7)], "TS(:10)") == 21.0
    assert aggregate([Observation.of_values([(-1.0, 1.0), (5.0, 1.0)])], "IQM") is None


@pytest.mark.parametrize("text", ["PR(10%:90%)", "TM(10%:500)", "TM(500:10)", "tm101", "TM(:)", "PR()",
                                  "TM(10%:101%)", "wm50.12345678901"])
def test_invalid_trimmed_forms(text: str) -> None:
    assert parse_extended_statistic(text) is None


STATISTICS = ["tm90", "TM(10%:90%)", "IQM", "tc90", "ts10", "wm90", "WM(5%:95%)", "TM(10:20)", "TC(10:20)",
              "TS(:20)", "WM(20:30)", "PR(:30)", "PR(10:20)", "TM(150:1000)", "TC(50%:)"]


def _values_item(key: SeriesKey, timestamp: int, value: float, count: float) -> dict[str, object]:
    """A Values/Counts entry as the collector stores it: count samples of one value."""
    return MetricDatum(key.namespace, key.metric_name, key.dimensions, timestamp, count, value * count, value,
                       value).to_item()


def test_the_store_computes_what_the_definitions_say(engine: Engine, unique_name: str) -> None:
    key, spread = (SeriesKey(unique_name, "latency", (("host", h),)) for h in ("web", "spread"))
    # Period one: 1..100 (5..8 weighted 3); period two: 7 x 4 as one statistic set of equal values.
    items = [_values_item(key, BASE + v % 60, float(v), 3.0 if 5 <= v <= 8 else 1.0) for v in range(1, 101)]
    items += [MetricDatum(key.namespace, "latency", key.dimensions, BASE + 61, 4, 28, 7, 7).to_item(),
              MetricDatum(key.namespace, "latency", spread.dimensions, BASE, 4, 40, 5, 15).to_item()]
    write_metrics(engine, [("batch-1", items)])
    write_metrics(engine, [("batch-1", items)])  # redelivered: counted once
    parsed = [p for s in STATISTICS if (p := parse_extended_statistic(s)) is not None]
    found = fetch_trimmed(engine, [key, spread], BASE, BASE + 120, 60, parsed)
    first = [Observation.of_values([(float(v), 3.0 if 5 <= v <= 8 else 1.0) for v in range(1, 101)])]
    second = [Observation(4, 28, 7, 7)]
    expected = [{s: v for s, text in zip(parsed, STATISTICS, strict=True)
                 if (v := aggregate(period, text)) is not None} for period in (first, second)]
    points = found[key.fingerprint]
    assert [p.timestamp for p in points] == [BASE, BASE + 60]
    for point, wanted in zip(points, expected, strict=True):
        assert point.trimmed == pytest.approx(wanted)
    assert points[0].trimmed[parsed[0]] != pytest.approx(points[0].average)  # trimming did change the mean
    [hidden] = found[spread.fingerprint]
    assert hidden.trimmed == {} and hidden.sample_count == 4.0


def test_an_alarm_on_a_trimmed_mean_ignores_the_outliers(engine: Engine) -> None:
    with running(engine) as wk:
        for name, statistic in (("latency-avg", "Average"), ("latency-tm90", "tm90")):
            extra = {"ExtendedStatistic": statistic, "Statistic": None} if statistic != "Average" else {}
            body = {k: v for k, v in metric_alarm(name, "latency", [], Threshold=100.0, **extra).items()
                    if v is not None}
            wk.call("PutMetricAlarm", body)
        # 18 fast requests and two very slow ones: the average crosses 100, the trimmed mean does not.
        wk.put_values("latency", {NEWEST_PERIOD + i: 20.0 for i in range(1, 19)})
        wk.put_values("latency", {NEWEST_PERIOD + 30: 2000.0, NEWEST_PERIOD + 31: 2000.0})
        wk.service.scheduler.run_cycle()
        described = {a["AlarmName"]: a for a in wk.call("DescribeAlarms", {})["MetricAlarms"]}
        assert described["latency-avg"]["StateValue"] == "ALARM"
        assert described["latency-tm90"]["StateValue"] == "OK"
        assert described["latency-tm90"]["StateReason"].startswith(
            "Threshold Crossed: 1 out of the last 1 datapoints [20.0 (")


def _dry_run(statistic: str, *data: dict[str, Any]) -> dict[str, Any]:
    alarm = {"AlarmName": "latency", "Namespace": "App", "MetricName": "latency", "ExtendedStatistic": statistic,
             "Period": 60, "EvaluationPeriods": 1, "Threshold": 100, "ComparisonOperator": "GreaterThanThreshold"}
    metric_data = {"Namespace": "App", "MetricData": [
        {"MetricName": "latency", "Timestamp": "2026-01-05T10:00:10Z", **datum} for datum in data]}
    result = CliRunner().invoke(cli, ["alarms", "evaluate", "--alarm", json.dumps(alarm), "--metric-data",
                                      json.dumps(metric_data), "--at", "2026-01-05T10:01:30Z"])
    assert result.exit_code == 0, result.output
    output: dict[str, Any] = json.loads(result.output)
    return output


def test_dry_run_computes_trimmed_statistics_from_values() -> None:
    # 150 (excluded: the lower bound is exclusive), 200 x 3 and 5000 (above 1000): TM(150:1000) = 200.
    output = _dry_run("TM(150:1000)", {"Values": [150.0, 200.0, 5000.0], "Counts": [1, 3, 1]})
    assert output["StateValue"] == "ALARM"
    assert json.loads(output["StateReasonData"])["recentDatapoints"] == [200.0]
    assert _dry_run("PR(:100)", {"Value": 50.0}, {"Value": 150.0})["StateReason"].startswith(
        "Threshold Crossed: 1 out of the last 1 datapoints [50.0 (")  # half the values are <= 100


def test_dry_run_with_only_statistic_sets_has_no_trimmed_value() -> None:
    # Like CloudWatch: a statistic set of distinct values hides its distribution, so the period has no
    # tm90 datapoint and the alarm stays INSUFFICIENT_DATA.
    output = _dry_run("tm90", {"StatisticValues": {"SampleCount": 4, "Sum": 800, "Minimum": 100, "Maximum": 300}})
    assert output["StateValue"] == "INSUFFICIENT_DATA"


TRIMMED_TEST_FILE = """
alarms:
  - {AlarmName: hot-samples, Namespace: CWAgent, MetricName: cpu, ExtendedStatistic: "TC(80:)",
     Period: 60, EvaluationPeriods: 1, Threshold: 0, ComparisonOperator: GreaterThanThreshold}
tests:
  - name: a period counts its values above 80
    start: 2024-05-01T12:00:00Z
    series:
      - {Namespace: CWAgent, MetricName: cpu, values: "10 95 10"}
    expect:
      - {alarm: hot-samples, at: 1m, state: OK}
      - {alarm: hot-samples, at: 2m, state: ALARM}
      - {alarm: hot-samples, at: 3m, state: OK}
"""


def test_alarm_test_files_take_trimmed_statistics(tmp_path: Path) -> None:
    path = tmp_path / "trimmed.yaml"
    path.write_text(TRIMMED_TEST_FILE)
    result = CliRunner().invoke(cli, ["alarms", "test", str(path)])
    assert result.exit_code == 0, result.output
    assert "3 of 3 expectations passed" in result.output
