"""Metric filters: AWS's validation, and log events -> per-minute datapoints read back with
GetMetricStatistics, counted once under redelivery and re-shipping, recomputed for late events."""

from __future__ import annotations

from datetime import datetime
from typing import Any

import httpx
import pytest
from logs_support import BASE_MS, BASE_S, Line, call, envelope_of, store, write

from watchkeeper.metricfilters.runner import MetricFilterRunner
from watchkeeper.storage.engine import Engine
from watchkeeper.wire import Envelope, make_envelope


def put_filter(api: httpx.Client, pattern: str, status: int = 200, name: str = "f",
               **transformation: Any) -> dict[str, Any]:
    spec = {"metricName": "Errors", "metricNamespace": "App", "metricValue": "1", **transformation}
    answer: dict[str, Any] = call(api, "PutMetricFilter", {"logGroupName": "app", "filterName": name,
                                                           "filterPattern": pattern, "metricTransformations": [spec]},
                                  status)
    return answer


def minutes(api: httpx.Client, metric: str = "Errors", dimensions: list[dict[str, str]] | None = None
            ) -> list[tuple[int, float, float]]:
    """(minute offset from BASE_S, SampleCount, Sum) per datapoint."""
    response = api.post("/v1/cloudwatch/GetMetricStatistics", json={
        "Namespace": "App", "MetricName": metric, "Dimensions": dimensions or [], "StartTime": BASE_S,
        "EndTime": BASE_S + 600, "Period": 60, "Statistics": ["SampleCount", "Sum"]})
    assert response.status_code == 200, response.text
    points = sorted(response.json()["Datapoints"], key=lambda p: p["Timestamp"])
    return [(int((datetime.fromisoformat(p["Timestamp"].replace("Z", "+00:00")).timestamp() - BASE_S) // 60),
             p["SampleCount"], p["Sum"]) for p in points]


@pytest.fixture
def group(logs_api: httpx.Client) -> None:
    call(logs_api, "CreateLogGroup", {"logGroupName": "app"})


def test_matches_become_per_minute_counts(logs_api: httpx.Client, engine: Engine, group: None) -> None:
    put_filter(logs_api, "ERROR")
    write(engine, "app", [Line(BASE_MS + 1000, "ERROR a"), Line(BASE_MS + 2000, "INFO b"),
                          Line(BASE_MS + 59_999, "ERROR c"), Line(BASE_MS + 120_000, "ERROR d")])
    runner = MetricFilterRunner(engine)
    assert runner.run_once() == 2
    assert minutes(logs_api) == [(0, 2.0, 2.0), (2, 1.0, 1.0)]
    # Nothing changed: nothing is evaluated again.
    assert runner.run_once() == 0


def test_default_value_fills_minutes_with_events_but_no_match(logs_api: httpx.Client, engine: Engine,
                                                               group: None) -> None:
    put_filter(logs_api, "ERROR", defaultValue=0)
    write(engine, "app", [Line(BASE_MS, "INFO a"), Line(BASE_MS + 60_000, "ERROR b"), Line(BASE_MS + 60_001, "x")])
    MetricFilterRunner(engine).run_once()
    assert minutes(logs_api) == [(0, 1.0, 0.0), (1, 1.0, 1.0)]


def test_values_and_dimensions_from_fields(logs_api: httpx.Client, engine: Engine, group: None) -> None:
    put_filter(logs_api, "{ $.latency > 0 }", metricName="Latency", metricValue="$.latency",
               dimensions={"Service": "$.service"}, unit="Milliseconds")
    put_filter(logs_api, "[ip, user, status, bytes]", name="bytes", metricName="Bytes", metricValue="$bytes",
               dimensions={"Status": "$status"})
    write(engine, "app", [
        Line(BASE_MS, '{"service": "api", "latency": 10}'),
        Line(BASE_MS + 1, '{"service": "api", "latency": 30.5}'),
        Line(BASE_MS + 2, '{"service": "web", "latency": 7}'),
        Line(BASE_MS + 3, '{"latency": 99}'),  # no dimension field: not published
        Line(BASE_MS + 4, "10.0.0.1 bob 200 512"),
        Line(BASE_MS + 5, "10.0.0.2 eve 200 488"),
        Line(BASE_MS + 6, "10.0.0.3 eve 404 12"),
    ])
    MetricFilterRunner(engine).run_once()
    assert minutes(logs_api, "Latency", [{"Name": "Service", "Value": "api"}]) == [(0, 2.0, 40.5)]
    assert minutes(logs_api, "Latency", [{"Name": "Service", "Value": "web"}]) == [(0, 1.0, 7.0)]
    assert minutes(logs_api, "Bytes", [{"Name": "Status", "Value": "200"}]) == [(0, 2.0, 1000.0)]
    assert minutes(logs_api, "Bytes", [{"Name": "Status", "Value": "404"}]) == [(0, 1.0, 12.0)]


def _reshipped(envelope: Envelope) -> Envelope:
    """The same lines (same host, file and offsets) in a new batch, as after an agent crash."""
    return make_envelope(envelope.kind, envelope.agent_id, envelope.host, envelope.items)


def test_redelivered_and_reshipped_batches_count_once(logs_api: httpx.Client, engine: Engine, group: None) -> None:
    put_filter(logs_api, "ERROR")
    envelope = envelope_of("app", [Line(BASE_MS + i * 1000, f"ERROR {i}") for i in range(5)])
    store(engine, envelope)
    runner = MetricFilterRunner(engine)
    runner.run_once()
    store(engine, envelope)  # Kafka redelivery: the same batch again
    store(engine, _reshipped(envelope))  # agent re-read: the same lines in a new batch
    runner.run_once()
    MetricFilterRunner(engine).run_once()  # a restarted (or second) runner recomputes: still once
    assert minutes(logs_api) == [(0, 5.0, 5.0)]


def test_a_late_event_recomputes_its_minute(logs_api: httpx.Client, engine: Engine, group: None) -> None:
    put_filter(logs_api, "ERROR")
    write(engine, "app", [Line(BASE_MS, "ERROR early")])
    runner = MetricFilterRunner(engine)
    runner.run_once()
    write(engine, "app", [Line(BASE_MS + 30_000, "ERROR late")])
    assert runner.run_once() == 1
    assert minutes(logs_api) == [(0, 2.0, 2.0)]


def test_validation_follows_aws(logs_api: httpx.Client, engine: Engine, group: None) -> None:
    assert "column" in put_filter(logs_api, "{ $.x = ", 400)["message"]
    combined = put_filter(logs_api, "{ $.x = 1 }", 400, defaultValue=0, dimensions={"X": "$.x"})
    assert "defaultValue cannot be combined with dimensions" in combined["message"]
    assert "$.selector reference needs a JSON" in put_filter(logs_api, "ERROR", 400, metricValue="$.x")["message"]
    assert "$ip" in put_filter(logs_api, "[ip, bytes]", 400, metricValue="$size")["message"]
    assert put_filter(logs_api, "ERROR", 400, metricValue="one")["__type"] == "InvalidParameterException"
    too_many = put_filter(logs_api, "{ $.a = 1 }", 400, dimensions={k: "$.a" for k in "ABCD"})
    assert "dimensions" in too_many["message"]
    assert call(logs_api, "PutMetricFilter", {"logGroupName": "nope", "filterName": "f", "filterPattern": "",
                                              "metricTransformations": [{"metricName": "m", "metricNamespace": "n",
                                                                         "metricValue": "1"}]},
                400)["__type"] == "ResourceNotFoundException"


def test_put_describe_replace_delete(logs_api: httpx.Client, engine: Engine, group: None) -> None:
    put_filter(logs_api, "ERROR", name="errors")
    put_filter(logs_api, "WARN", name="warnings", metricName="Warnings")
    put_filter(logs_api, "FATAL", name="errors", unit="Count")  # replaces
    described = call(logs_api, "DescribeMetricFilters", {"logGroupName": "app"})["metricFilters"]
    assert [(f["filterName"], f["filterPattern"]) for f in described] == [("errors", "FATAL"), ("warnings", "WARN")]
    assert described[0]["metricTransformations"] == [
        {"metricName": "Errors", "metricNamespace": "App", "metricValue": "1", "unit": "Count"}]
    by_metric = call(logs_api, "DescribeMetricFilters", {"metricName": "Warnings", "metricNamespace": "App"})
    assert [f["filterName"] for f in by_metric["metricFilters"]] == ["warnings"]
    paged = call(logs_api, "DescribeMetricFilters", {"logGroupName": "app", "limit": 1})
    rest = call(logs_api, "DescribeMetricFilters", {"logGroupName": "app", "limit": 1, "nextToken": paged["nextToken"]})
    assert [f["filterName"] for f in paged["metricFilters"] + rest["metricFilters"]] == ["errors", "warnings"]
    groups = call(logs_api, "DescribeLogGroups", {})["logGroups"]
    assert groups[0]["metricFilterCount"] == 2
    call(logs_api, "DeleteMetricFilter", {"logGroupName": "app", "filterName": "errors"})
    assert [f["filterName"] for f in call(logs_api, "DescribeMetricFilters", {})["metricFilters"]] == ["warnings"]
    assert call(logs_api, "DeleteMetricFilter", {"logGroupName": "app", "filterName": "errors"},
                400)["__type"] == "ResourceNotFoundException"


def test_positional_field_references_follow_the_guide() -> None:
    """ExtractBytesExample: `$7` is the seventh field of a space-delimited pattern, even one that uses `...`."""
    from watchkeeper.logfilter import compile_pattern
    from watchkeeper.metricfilters.model import reference_problems

    delimited = compile_pattern("[ip, user, ..., status=200, size]")
    assert reference_problems(delimited, {"metricValue": "$7"}) == []
    assert reference_problems(delimited, {"metricValue": "$size"}) == []
    problems = reference_problems(compile_pattern('{ $.status = 200 }'), {"metricValue": "$7"})
    assert problems and "not space-delimited" in problems[0]
