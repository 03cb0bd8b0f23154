"""`watchkeeper alarms evaluate` and `watchkeeper alarms test` end to end through the real CLI."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner

from watchkeeper.cli.main import cli

HOST = [{"Name": "host", "Value": "web1"}]
ALARM: dict[str, Any] = {
    "AlarmName": "cpu-high", "Namespace": "CWAgent", "MetricName": "cpu_usage_user", "Dimensions": HOST,
    "Statistic": "Average", "Period": 60, "EvaluationPeriods": 1, "Threshold": 50,
    "ComparisonOperator": "GreaterThanThreshold",
}


def datum(timestamp: str, **value: Any) -> dict[str, Any]:
    return {"MetricName": "cpu_usage_user", "Dimensions": HOST, "Timestamp": timestamp, **value}


def write(path: Path, data: Any) -> str:
    path.write_text(json.dumps(data))
    return f"file://{path}"


def run(*args: str) -> Any:
    return CliRunner().invoke(cli, ["alarms", *args])


def test_evaluate_documented_example(tmp_path: Path) -> None:
    data = {"Namespace": "CWAgent", "MetricData": [
        datum("2019-02-10T16:59:10Z", Value=99.0),
        datum("2019-02-10T16:59:50Z", Values=[99.5, 100.0], Counts=[2, 1]),
        datum("2019-02-10T16:58:30Z", StatisticValues={"SampleCount": 2, "Sum": 20, "Minimum": 5, "Maximum": 15}),
        {**datum("2019-02-10T16:59:30Z", Value=1.0), "Dimensions": [{"Name": "host", "Value": "web2"}]},
        datum("2019-02-10T17:00:05Z", Value=1.0),  # the current, partial period: not evaluated
    ]}
    result = run("evaluate", "--alarm", write(tmp_path / "a.json", ALARM),
                 "--metric-data", write(tmp_path / "d.json", data), "--at", "2019-02-10T17:00:20Z",
                 "--state-value", "OK")
    assert result.exit_code == 0, result.output
    output = json.loads(result.output)
    assert output["StateValue"] == "ALARM"
    # Average of 99, 99.5, 99.5, 100 = 99.5: AWS's own example, character for character.
    assert output["StateReason"] == (
        "Threshold Crossed: 1 out of the last 1 datapoints [99.5 (02/10/19 16:59:00)] was greater than the "
        "threshold (50.0) (minimum 1 datapoint for OK -> ALARM transition).")
    reason_data = json.loads(output["StateReasonData"])
    assert reason_data["recentDatapoints"] == [10.0, 99.5]
    assert reason_data["evaluatedDatapoints"][0]["sampleCount"] == 4.0


def test_evaluate_defaults_to_insufficient_data_state(tmp_path: Path) -> None:
    data = {"Namespace": "CWAgent", "MetricData": [datum("2019-02-10T16:59:10Z", Value=10.0)]}
    result = run("evaluate", "--alarm", json.dumps(ALARM), "--metric-data", json.dumps(data),
                 "--at", str(1_549_818_020))
    output = json.loads(result.output)
    assert output["StateValue"] == "OK"
    assert "(minimum 1 datapoint for INSUFFICIENT_DATA -> OK transition)." in output["StateReason"]


def test_evaluate_percentile_and_metric_math(tmp_path: Path) -> None:
    values = [float(v) for v in range(1, 101)]
    data = {"Namespace": "CWAgent", "MetricData": [datum("2019-02-10T16:59:10Z", Values=values)]}
    p90 = {**ALARM, "Statistic": None, "ExtendedStatistic": "p90", "Threshold": 89.5}
    del p90["Statistic"]
    result = run("evaluate", "--alarm", json.dumps(p90), "--metric-data", json.dumps(data), "--at",
                 "2019-02-10T17:00:20Z")
    assert json.loads(result.output)["StateReason"].startswith("Threshold Crossed: 1 out of the last 1 datapoints "
                                                               "[90.0 (02/10/19 16:59:00)]")
    math = {key: ALARM[key] for key in ("AlarmName", "EvaluationPeriods", "ComparisonOperator")}
    math |= {"Threshold": 150, "Metrics": [
        {"Id": "m1", "ReturnData": False, "MetricStat": {
            "Metric": {"Namespace": "CWAgent", "MetricName": "cpu_usage_user", "Dimensions": HOST},
            "Period": 60, "Stat": "Maximum"}},
        {"Id": "e1", "Expression": "m1 * 2 - 49"}]}
    result = run("evaluate", "--alarm", json.dumps(math), "--metric-data", json.dumps(data), "--at",
                 "2019-02-10T17:00:20Z")
    output = json.loads(result.output)
    assert output["StateValue"] == "ALARM" and "[151.0 (02/10/19 16:59:00)]" in output["StateReason"]


@pytest.mark.parametrize(("args", "message"), [
    (["--alarm", "file:///nonexistent/a.json"], "error: /nonexistent/a.json: file not found"),
    (["--alarm", "{not json"], "error: --alarm: not valid JSON"),
    (["--alarm", json.dumps({**ALARM, "Period": 45})], "error: --alarm (alarm cpu-high): Period: found 45"),
    (["--metric-data", json.dumps({"Namespace": "N", "MetricData": [datum("2019-02-10T16:59:10Z")]})],
     "error: --metric-data: MetricData[0]: found"),
    (["--at", "yesterday"], "error: --at: found 'yesterday'; allowed an ISO 8601 time"),
])
def test_evaluate_bad_input_is_a_clear_error(args: list[str], message: str) -> None:
    defaults = {"--alarm": json.dumps(ALARM), "--metric-data": json.dumps({"Namespace": "N", "MetricData": []}),
                "--at": "2019-02-10T17:00:20Z"}
    defaults.update(dict(zip(args[::2], args[1::2], strict=True)))
    result = run("evaluate", *[part for pair in defaults.items() for part in pair])
    assert result.exit_code == 2
    assert message in result.output
    assert "Traceback" not in result.output


TEST_FILE = """
alarms:
  - {AlarmName: cpu-high, Namespace: CWAgent, MetricName: cpu_usage_user, Statistic: Average,
     Period: 60, EvaluationPeriods: 3, DatapointsToAlarm: 2, Threshold: 80,
     ComparisonOperator: GreaterThanThreshold}
  - {AlarmName: cpu-gone, Namespace: CWAgent, MetricName: cpu_usage_user, Statistic: SampleCount,
     Period: 60, EvaluationPeriods: 1, Threshold: 1, ComparisonOperator: LessThanThreshold,
     TreatMissingData: breaching}
tests:
  - name: two hot minutes out of three
    start: 2024-05-01T12:00:00Z
    series:
      - {Namespace: CWAgent, MetricName: cpu_usage_user, values: "10 95 _ 97 20x3"}
    expect:
      - {alarm: cpu-high, at: 2m, state: OK}
      - {alarm: cpu-high, at: 5m, state: ALARM}
      - {alarm: cpu-high, at: 8m, state: OK}
      - {alarm: cpu-high, at: 20m, state: INSUFFICIENT_DATA, reason: "Insufficient Data: 3 datapoints were unknown."}
      - {alarm: cpu-gone, at: 2024-05-01T12:20:00Z, state: ALARM}
"""


def test_alarm_test_file_passes(tmp_path: Path) -> None:
    path = tmp_path / "cpu.yaml"
    path.write_text(TEST_FILE)
    result = run("test", str(path))
    assert result.exit_code == 0, result.output
    assert "5 of 5 expectations passed in 1 file(s)" in result.output


def test_alarm_test_file_failure_is_a_diff(tmp_path: Path) -> None:
    path = tmp_path / "cpu.yaml"
    path.write_text(TEST_FILE.replace("at: 5m, state: ALARM", "at: 3m, state: ALARM"))
    result = CliRunner().invoke(cli, ["alarms", "test", str(path)])
    assert result.exit_code == 1
    assert (f"FAIL {path}: 'two hot minutes out of three': alarm cpu-high at 2024-05-01T12:03:00.000+0000\n"
            "- expected: ALARM\n"
            "+ got:      OK (Threshold Crossed: 1 out of the last 1 datapoints [10.0 (05/01/24 12:00:00)] was not "
            "greater than the threshold (80.0) (minimum 2 datapoints for INSUFFICIENT_DATA -> OK transition).)"
            ) in result.output
    assert "4 of 5 expectations passed" in result.output


def test_alarm_test_file_json_and_errors(tmp_path: Path) -> None:
    path = tmp_path / "bad.json"
    path.write_text(json.dumps({"alarms": [{"AlarmName": "a", "Period": 7}], "tests": [
        {"name": "t", "start": "2024-05-01T12:00:00Z", "series": [], "expect": [
            {"alarm": "a", "at": "1m", "state": "OK"}]}]}))
    result = run("test", str(path))
    assert result.exit_code == 2
    assert f"error: {path}: alarms[0] (alarm a): Period: found 7" in result.output
    bad_values = tmp_path / "v.yaml"
    bad_values.write_text(TEST_FILE.replace('"10 95 _ 97 20x3"', '"10 abc"'))
    result = run("test", str(bad_values))
    assert f"error: {bad_values}: tests[0].series[0].values: found 'abc'; allowed a number, _ or VxK" in result.output
