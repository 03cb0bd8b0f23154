"""`watchkeeper metrics ...` end to end against a real API server; errors are messages, never tracebacks."""

from __future__ import annotations

import json
import socket
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner, Result

from watchkeeper.cli._times import parse_time
from watchkeeper.cli.main import cli



def ten_minutes_ago() -> int:
    """A whole minute 10 minutes before now, taken when the test runs: a module constant would be taken at
    collection, and a test that asks for the last 15 minutes may run more than 5 minutes after that."""
    return (int(time.time()) // 60 - 10) * 60


def run(endpoint: str, *args: str, output: str = "json") -> Result:
    return CliRunner().invoke(cli, ["--endpoint", endpoint, "--output", output, "metrics", *args])


def ok(endpoint: str, *args: str) -> Any:
    result = run(endpoint, *args)
    assert result.exit_code == 0, result.output
    return json.loads(result.output)


def test_put_then_get_with_dimensions_and_statistics(endpoint: str) -> None:
    base = ten_minutes_ago()
    for value in ("10", "30"):
        ok(endpoint, "put-metric-data", "--namespace", "App", "--metric-name", "latency", "--value", value,
           "--dimensions", "Name=host,Value=web-1", "Name=role,Value=db", "--timestamp", str(base + 5),
           "--unit", "Milliseconds")
    answer = ok(endpoint, "get-metric-statistics", "--namespace", "App", "--metric-name", "latency",
                "--dimensions", "role=db,host=web-1", "--start-time", str(base), "--end-time", "now",
                "--period", "60", "--statistics", "Average", "Maximum")
    assert answer == {"Label": "latency", "Datapoints": [
        {"Timestamp": datetime.fromtimestamp(base, UTC).strftime("%Y-%m-%dT%H:%M:%SZ"), "Average": 20.0,
         "Maximum": 30.0, "Unit": "Milliseconds"}]}


def test_metric_data_file_and_shorthand_and_percentiles(endpoint: str, tmp_path: Path) -> None:
    base = ten_minutes_ago()
    data = tmp_path / "data.json"
    data.write_text(json.dumps([{"MetricName": "latency", "Values": [1, 9], "Counts": [9, 1],
                                 "Timestamp": base}]))
    ok(endpoint, "put-metric-data", "--namespace", "App", "--metric-data", f"file://{data}",
       f"MetricName=latency,Value=100,Timestamp={base}")
    answer = ok(endpoint, "get-metric-statistics", "--namespace", "App", "--metric-name", "latency",
                "--start-time", "-15m", "--period", "60", "--extended-statistics", "p50", "p99")
    assert [p["ExtendedStatistics"] for p in answer["Datapoints"]] == [{"p50": 1.0, "p99": 100.0}]


def test_list_metrics_as_json_table_and_text(endpoint: str) -> None:
    for host in ("web-1", "web-2"):
        ok(endpoint, "put-metric-data", "--namespace", "App", "--metric-name", "cpu", "--value", "1",
           "--dimensions", f"host={host}")
    answer = ok(endpoint, "list-metrics", "--namespace", "App", "--dimensions", "Name=host")
    assert sorted(m["Dimensions"][0]["Value"] for m in answer["Metrics"]) == ["web-1", "web-2"]
    table = run(endpoint, "list-metrics", "--dimensions", "Name=host,Value=web-2", output="table")
    assert table.exit_code == 0
    assert table.output.splitlines()[0] == "Metrics (1)"
    assert "host=web-2" in table.output and "web-1" not in table.output
    text = run(endpoint, "list-metrics", "--metric-name", "cpu", "--dimensions", "host=web-1", output="text")
    assert text.output.splitlines() == ["METRICS\tApp\tcpu\thost=web-1"]


def test_list_metrics_follows_every_page(endpoint: str, tmp_path: Path) -> None:
    data = tmp_path / "many.json"
    data.write_text(json.dumps([{"MetricName": f"m{i}", "Value": 1} for i in range(501)]))
    ok(endpoint, "put-metric-data", "--namespace", "Many", "--metric-data", f"file://{data}")
    assert len(ok(endpoint, "list-metrics", "--namespace", "Many")["Metrics"]) == 501
    first = ok(endpoint, "list-metrics", "--namespace", "Many", "--max-pages", "1")
    assert len(first["Metrics"]) == 500 and first["NextToken"]


def test_api_errors_print_code_and_message(endpoint: str) -> None:
    result = run(endpoint, "put-metric-data", "--namespace", "AWS/EC2", "--metric-name", "m", "--value", "1")
    assert result.exit_code == 2
    assert result.output.startswith("error: InvalidParameterValue: Namespace: found 'AWS/EC2'")


@pytest.mark.parametrize(("content", "fragment"), [(None, "file not found"), ("[{", "not valid JSON")])
def test_bad_metric_data_file_names_the_file(endpoint: str, tmp_path: Path, content: str | None,
                                             fragment: str) -> None:
    path = tmp_path / "data.json"
    if content is not None:
        path.write_text(content)
    result = run(endpoint, "put-metric-data", "--namespace", "App", "--metric-data", f"file://{path}")
    assert result.exit_code == 2
    assert result.output.startswith(f"error: {path}: {fragment}")


def test_bad_time_is_a_usage_error(endpoint: str) -> None:
    result = run(endpoint, "get-metric-statistics", "--namespace", "App", "--metric-name", "m",
                 "--start-time", "yesterday", "--period", "60", "--statistics", "Sum")
    assert result.exit_code == 2 and "found 'yesterday'; allowed: ISO-8601" in result.output
    assert result.exception is None or isinstance(result.exception, SystemExit)


def test_unreachable_endpoint_is_a_clear_message() -> None:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        url = f"http://127.0.0.1:{probe.getsockname()[1]}"
    result = run(url, "list-metrics")
    assert result.exit_code == 3
    assert result.output.startswith(f"error: EndpointUnreachable: cannot reach the Watchkeeper API at {url}")
    assert "is `watchkeeper up`" in result.output


NOW = datetime(2026, 11, 28, 12, 0, tzinfo=UTC)


@pytest.mark.parametrize(("text", "expected"), [
    ("now", NOW),
    ("-15m", NOW - timedelta(minutes=15)),
    ("-2h", NOW - timedelta(hours=2)),
    ("-1d", NOW - timedelta(days=1)),
    ("-30s", NOW - timedelta(seconds=30)),
    ("1795860000", datetime.fromtimestamp(1795860000, UTC)),
    ("2026-11-28T10:00:00Z", datetime(2026, 11, 28, 10, tzinfo=UTC)),
    ("2026-11-28T10:00:00", datetime(2026, 11, 28, 10, tzinfo=UTC)),
    ("2026-11-28T11:00:00+01:00", datetime(2026, 11, 28, 10, tzinfo=UTC)),
])
def test_time_forms(text: str, expected: datetime) -> None:
    assert parse_time(text, NOW) == expected


def test_unreadable_time_says_what_is_allowed() -> None:
    with pytest.raises(ValueError, match="found '-15x'; allowed: ISO-8601"):
        parse_time("-15x", NOW)
