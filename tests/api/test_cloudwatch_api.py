"""PutMetricData, GetMetricStatistics and ListMetrics through a real uvicorn server, on both engines."""

from __future__ import annotations

import time
from typing import Any

import httpx
import pytest

from watchkeeper.events import Kind, MetricDatum
from watchkeeper.storage.engine import Engine
from watchkeeper.storage.metrics import write_metrics
from watchkeeper.wire import make_envelope

HOST = [{"Name": "host", "Value": "web-1"}]
# A minute boundary ten minutes ago: every datum of a test lands in known periods.
BASE = (int(time.time()) // 60 - 10) * 60


def put(api: httpx.Client, data: list[dict[str, Any]], namespace: str = "App") -> httpx.Response:
    return api.post("/v1/cloudwatch/PutMetricData", json={"Namespace": namespace, "MetricData": data})


def stats(api: httpx.Client, **fields: Any) -> httpx.Response:
    body = {"Namespace": "App", "MetricName": "latency", "Dimensions": HOST, "StartTime": BASE,
            "EndTime": BASE + 600, "Period": 60, "Statistics": ["SampleCount", "Sum", "Average", "Minimum",
                                                                  "Maximum"]}
    body.update(fields)
    return api.post("/v1/cloudwatch/GetMetricStatistics", json={k: v for k, v in body.items() if v is not None})


def datapoints(api: httpx.Client, **fields: Any) -> list[dict[str, Any]]:
    response = stats(api, **fields)
    assert response.status_code == 200, response.text
    return sorted(response.json()["Datapoints"], key=lambda p: p["Timestamp"])


def test_put_then_get_every_statistic(api: httpx.Client) -> None:
    response = put(api, [{"MetricName": "latency", "Dimensions": HOST, "Timestamp": BASE + s, "Value": v,
                          "Unit": "Milliseconds"} for s, v in ((1, 10.0), (20, 30.0), (59, 20.0), (61, 7.0))])
    assert response.status_code == 200 and response.json() == {}
    answer = stats(api).json()
    assert answer["Label"] == "latency"
    assert answer["Datapoints"] and sorted(answer["Datapoints"], key=lambda p: p["Timestamp"]) == [
        {"Timestamp": _iso(BASE), "SampleCount": 3.0, "Sum": 60.0, "Average": 20.0, "Minimum": 10.0,
         "Maximum": 30.0, "Unit": "Milliseconds"},
        {"Timestamp": _iso(BASE + 60), "SampleCount": 1.0, "Sum": 7.0, "Average": 7.0, "Minimum": 7.0,
         "Maximum": 7.0, "Unit": "Milliseconds"},
    ]


def test_only_requested_statistics_and_period_bucketing(api: httpx.Client) -> None:
    put(api, [{"MetricName": "latency", "Dimensions": HOST, "Timestamp": BASE + 60 * i, "Value": float(i)}
              for i in range(6)])
    points = datapoints(api, Period=180, Statistics=["Maximum"])
    assert points == [{"Timestamp": _iso(BASE), "Maximum": 2.0, "Unit": "None"},
                      {"Timestamp": _iso(BASE + 180), "Maximum": 5.0, "Unit": "None"}]


def test_percentiles_weight_values_by_counts(api: httpx.Client) -> None:
    # 1 occurs 98 times, 50 once, 100 once: p50 is 1, p99 is 50, p100 is 100.
    put(api, [{"MetricName": "latency", "Dimensions": HOST, "Timestamp": BASE, "Values": [1.0, 50.0, 100.0],
               "Counts": [98, 1, 1]}])
    points = datapoints(api, Statistics=None, ExtendedStatistics=["p50", "p99", "p100"])
    assert points == [{"Timestamp": _iso(BASE), "ExtendedStatistics": {"p50": 1.0, "p99": 50.0, "p100": 100.0},
                       "Unit": "None"}]
    assert datapoints(api, Statistics=["SampleCount", "Sum"]) == [
        {"Timestamp": _iso(BASE), "SampleCount": 100.0, "Sum": 248.0, "Unit": "None"}]


def test_statistic_values_are_one_statistic_set(api: httpx.Client) -> None:
    put(api, [{"MetricName": "latency", "Dimensions": HOST, "Timestamp": BASE,
               "StatisticValues": {"SampleCount": 4, "Sum": 40, "Minimum": 1, "Maximum": 25}}])
    assert datapoints(api) == [{"Timestamp": _iso(BASE), "SampleCount": 4.0, "Sum": 40.0, "Average": 10.0,
                                "Minimum": 1.0, "Maximum": 25.0, "Unit": "None"}]
    # A set of several distinct values cannot give an exact percentile: CloudWatch omits it.
    assert datapoints(api, Statistics=None, ExtendedStatistics=["p50"]) == [
        {"Timestamp": _iso(BASE), "ExtendedStatistics": {}, "Unit": "None"}]


def test_unit_filter_keeps_units_apart(api: httpx.Client) -> None:
    put(api, [{"MetricName": "latency", "Dimensions": HOST, "Timestamp": BASE, "Value": 1.0, "Unit": "Seconds"},
              {"MetricName": "latency", "Dimensions": HOST, "Timestamp": BASE, "Value": 500.0,
               "Unit": "Milliseconds"}])
    assert datapoints(api, Statistics=["Sum"], Unit="Seconds") == [
        {"Timestamp": _iso(BASE), "Sum": 1.0, "Unit": "Seconds"}]
    assert {p["Unit"] for p in datapoints(api, Statistics=["Sum"])} == {"Seconds", "Milliseconds"}
    assert datapoints(api, Statistics=["Sum"], Unit="Bytes") == []


def test_dimensions_match_exactly_in_any_order(api: httpx.Client) -> None:
    both = [{"Name": "role", "Value": "db"}, {"Name": "host", "Value": "web-1"}]
    put(api, [{"MetricName": "latency", "Dimensions": both, "Timestamp": BASE, "Value": 5.0},
              {"MetricName": "latency", "Dimensions": HOST, "Timestamp": BASE, "Value": 7.0}])
    assert [p["Sum"] for p in datapoints(api, Statistics=["Sum"])] == [7.0]
    assert [p["Sum"] for p in datapoints(api, Statistics=["Sum"], Dimensions=both[::-1])] == [5.0]
    assert datapoints(api, Statistics=["Sum"], Dimensions=[]) == []


def test_empty_range_and_unknown_metric_give_no_datapoints(api: httpx.Client) -> None:
    put(api, [{"MetricName": "latency", "Dimensions": HOST, "Timestamp": BASE, "Value": 5.0}])
    assert datapoints(api, StartTime=BASE + 60) == []
    assert datapoints(api, MetricName="nothing") == []


def test_a_batch_delivered_twice_counts_once(api: httpx.Client, engine: Engine) -> None:
    datum = MetricDatum.single("App", "latency", (("host", "web-1"),), BASE, 3.0)
    envelope = make_envelope(Kind.METRICS, "agent-1", "web-1", [datum.to_item()])
    write_metrics(engine, [(envelope.batch_id, envelope.items)])
    write_metrics(engine, [(envelope.batch_id, envelope.items)])
    assert datapoints(api, Statistics=["SampleCount", "Sum"]) == [
        {"Timestamp": _iso(BASE), "SampleCount": 1.0, "Sum": 3.0, "Unit": "None"}]


def test_start_time_is_rounded_down_to_the_minute(api: httpx.Client) -> None:
    put(api, [{"MetricName": "latency", "Dimensions": HOST, "Timestamp": BASE + 5, "Value": 5.0}])
    assert datapoints(api, StartTime=BASE + 30, Statistics=["Sum"]) == [
        {"Timestamp": _iso(BASE), "Sum": 5.0, "Unit": "None"}]


def test_timestamps_accept_iso_8601(api: httpx.Client) -> None:
    put(api, [{"MetricName": "latency", "Dimensions": HOST, "Timestamp": _iso(BASE), "Value": 5.0}])
    assert datapoints(api, StartTime=_iso(BASE), EndTime=_iso(BASE + 60), Statistics=["Sum"]) == [
        {"Timestamp": _iso(BASE), "Sum": 5.0, "Unit": "None"}]


def _iso(epoch: int) -> str:
    return time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(epoch))


def _error(response: httpx.Response) -> tuple[str, str]:
    assert response.status_code == 400, response.text
    body = response.json()
    return body["__type"], body["message"]


ONE = {"MetricName": "m", "Value": 1.0}


@pytest.mark.parametrize(("namespace", "datum", "code", "fragment"), [
    ("AWS/EC2", ONE, "InvalidParameterValue", "Namespace: found 'AWS/EC2'; namespaces starting with AWS/"),
    (":x", ONE, "InvalidParameterValue", "Namespace: found ':x'"),
    ("App", {"Value": 1.0}, "MissingParameter", "MetricData[0].MetricName: required parameter is missing"),
    ("App", {**ONE, "MetricName": "x" * 256}, "InvalidParameterValue", "MetricData[0].MetricName"),
    ("App", {"MetricName": "m"}, "InvalidParameterCombination", "exactly one of Value, Values or StatisticValues"),
    ("App", {**ONE, "Values": [1.0]}, "InvalidParameterCombination", "found Value, Values"),
    ("App", {"MetricName": "m", "Values": [1.0] * 151}, "InvalidParameterValue", "MetricData[0].Values"),
    ("App", {"MetricName": "m", "Values": [1.0, 2.0], "Counts": [1.0]}, "InvalidParameterCombination",
     "Counts has 1 entries; Values has 2"),
    ("App", {**ONE, "Counts": [1.0]}, "InvalidParameterCombination", "Counts requires Values"),
    ("App", {"MetricName": "m", "Values": [1.0], "Counts": [-1.0]}, "InvalidParameterValue", "Counts[0]"),
    ("App", {**ONE, "Value": 2.0**361}, "InvalidParameterValue", "MetricData[0].Value"),
    ("App", {"MetricName": "m", "StatisticValues": {"SampleCount": 0, "Sum": 1, "Minimum": 1, "Maximum": 1}},
     "InvalidParameterValue", "StatisticValues.SampleCount"),
    ("App", {"MetricName": "m", "StatisticValues": {"SampleCount": 2, "Sum": 1, "Minimum": 3, "Maximum": 1}},
     "InvalidParameterValue", "Minimum (3.0) must not exceed Maximum (1.0)"),
    ("App", {"MetricName": "m", "StatisticValues": {"SampleCount": 2, "Sum": 1}}, "MissingParameter",
     "StatisticValues.Minimum: required parameter is missing"),
    ("App", {**ONE, "StorageResolution": 5}, "InvalidParameterValue", "StorageResolution: found 5"),
    ("App", {**ONE, "Unit": "Parsecs"}, "InvalidParameterValue", "MetricData[0].Unit: found 'Parsecs'"),
    ("App", {**ONE, "Timestamp": int(time.time()) - 15 * 86400}, "InvalidParameterValue", "two weeks"),
    ("App", {**ONE, "Timestamp": int(time.time()) + 3 * 3600}, "InvalidParameterValue", "two hours"),
    ("App", {**ONE, "Dimensions": [{"Name": "a", "Value": "1"}] * 2}, "InvalidParameterValue", "repeated: a"),
    ("App", {**ONE, "Dimensions": [{"Name": f"d{i}", "Value": "1"} for i in range(31)]},
     "InvalidParameterValue", "MetricData[0].Dimensions"),
    ("App", {**ONE, "Dimensions": [{"Name": "a", "Value": ""}]}, "InvalidParameterValue", "Dimensions[0].Value"),
    ("App", {**ONE, "Colour": "red"}, "InvalidParameterValue", "MetricData[0].Colour"),
])
def test_put_metric_data_rules(api: httpx.Client, namespace: str, datum: dict[str, Any], code: str,
                               fragment: str) -> None:
    found_code, message = _error(put(api, [datum], namespace))
    assert (found_code, fragment in message) == (code, True), message


def test_put_metric_data_limits_the_batch_and_reports_every_problem(api: httpx.Client) -> None:
    assert "MetricData" in _error(put(api, [ONE] * 1001))[1]
    assert "MetricData" in _error(put(api, []))[1]
    _, message = _error(put(api, [{"MetricName": "", "Value": 1.0}, {"MetricName": "m", "Unit": "x", "Value": 1}]))
    assert "MetricData[0].MetricName" in message and "MetricData[1].Unit" in message
    # A refused call stores nothing.
    assert api.post("/v1/cloudwatch/ListMetrics", json={"Namespace": "App"}).json() == {"Metrics": []}


@pytest.mark.parametrize(("fields", "code", "fragment"), [
    ({"Period": 0}, "InvalidParameterValue", "Period: found 0"),
    ({"Period": 90}, "InvalidParameterValue", "allowed: 1, 5, 10, 30 or a multiple of 60"),
    ({"Statistics": ["Median"]}, "InvalidParameterValue", "Statistics[0]: found 'Median'"),
    ({"Statistics": None}, "InvalidParameterCombination", "either Statistics or ExtendedStatistics"),
    ({"ExtendedStatistics": ["p99"]}, "InvalidParameterCombination", "but not both"),
    ({"Statistics": None, "ExtendedStatistics": ["p101"]}, "InvalidParameterValue", "found 'p101'"),
    ({"Statistics": None, "ExtendedStatistics": ["tm99"]}, "InvalidParameterValue", "found 'tm99'"),
    ({"StartTime": BASE + 600, "EndTime": BASE}, "InvalidParameterCombination", "StartTime must be earlier"),
    ({"Namespace": None}, "MissingParameter", "Namespace: required parameter is missing"),
    ({"Unit": "Parsecs"}, "InvalidParameterValue", "Unit: found 'Parsecs'"),
    ({"StartTime": BASE - 86400, "EndTime": BASE + 60, "Period": 10}, "InvalidParameterCombination",
     "Period 10 must be a multiple of 60"),
    ({"StartTime": BASE - 86400 * 2, "Period": 60}, "InvalidParameterCombination",
     "exceeds the limit of 1440"),
    ({"StartTime": "yesterday"}, "InvalidParameterValue", "StartTime: found 'yesterday'"),
])
def test_get_metric_statistics_rules(api: httpx.Client, fields: dict[str, Any], code: str, fragment: str) -> None:
    found_code, message = _error(stats(api, **fields))
    assert (found_code, fragment in message) == (code, True), message


def test_the_1440_datapoint_limit_is_inclusive(api: httpx.Client) -> None:
    assert stats(api, StartTime=BASE, EndTime=BASE + 1440 * 60).status_code == 200


def _metric(name: str, **dims: str) -> dict[str, Any]:
    return {"Namespace": "App", "MetricName": name,
            "Dimensions": [{"Name": k, "Value": v} for k, v in sorted(dims.items())]}


def list_metrics(api: httpx.Client, **fields: Any) -> dict[str, Any]:
    response = api.post("/v1/cloudwatch/ListMetrics", json=fields)
    assert response.status_code == 200, response.text
    return dict(response.json())


def test_list_metrics_filters(api: httpx.Client) -> None:
    published = [_metric("cpu", host="a"), _metric("cpu", host="b", role="db"), _metric("mem", host="a"),
                 _metric("cpu")]
    for metric in published:
        assert put(api, [{"MetricName": metric["MetricName"], "Dimensions": metric["Dimensions"],
                          "Value": 1.0}]).status_code == 200
    assert put(api, [{"MetricName": "cpu", "Value": 1.0}], namespace="Other").status_code == 200

    def names(**fields: Any) -> list[dict[str, Any]]:
        return sorted(list_metrics(api, **fields)["Metrics"], key=str)

    assert names(Namespace="App") == sorted(published, key=str)
    assert names(Namespace="App", MetricName="mem") == [_metric("mem", host="a")]
    assert names(Namespace="App", Dimensions=[{"Name": "host"}]) == sorted(
        [_metric("cpu", host="a"), _metric("cpu", host="b", role="db"), _metric("mem", host="a")], key=str)
    assert names(Dimensions=[{"Name": "host", "Value": "b"}]) == [_metric("cpu", host="b", role="db")]
    assert names(Dimensions=[{"Name": "host", "Value": "a"}, {"Name": "role"}]) == []
    assert names(Namespace="App", RecentlyActive="PT3H") == sorted(published, key=str)
    assert len(names(MetricName="cpu")) == 4


def test_list_metrics_pages_by_500(api: httpx.Client) -> None:
    assert put(api, [{"MetricName": f"m{i:04d}", "Value": 1.0} for i in range(501)]).status_code == 200
    first = list_metrics(api, Namespace="App")
    assert len(first["Metrics"]) == 500 and first["NextToken"]
    second = list_metrics(api, Namespace="App", NextToken=first["NextToken"])
    assert "NextToken" not in second
    names = [m["MetricName"] for m in first["Metrics"] + second["Metrics"]]
    assert sorted(names) == [f"m{i:04d}" for i in range(501)]


def test_list_metrics_rules(api: httpx.Client) -> None:
    response = api.post("/v1/cloudwatch/ListMetrics", json={"NextToken": "garbage"})
    assert response.status_code == 400 and response.json()["__type"] == "InvalidNextToken"
    assert _error(api.post("/v1/cloudwatch/ListMetrics", json={"RecentlyActive": "PT1H"}))[0] == \
        "InvalidParameterValue"
    assert "Dimensions" in _error(api.post("/v1/cloudwatch/ListMetrics",
                                           json={"Dimensions": [{"Name": f"d{i}"} for i in range(11)]}))[1]
