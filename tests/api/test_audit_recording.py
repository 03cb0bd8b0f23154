"""Changes made through the API are recorded as audit events; reads only when asked to be."""

from __future__ import annotations

from typing import Any

import httpx

from audit.recorder import AuditRecorder
from watchkeeper.api.app import create_app
from watchkeeper.api.context import ApiContext
from watchkeeper.cli.cmd_api import ApiServer
from watchkeeper.config import validate
from watchkeeper.config.settings import Settings
from watchkeeper.storage.engine import Engine
from watchkeeper.wire import Envelope


def _records(settings: dict[str, Any], engine: Engine, calls: list[tuple[str, dict[str, Any]]]) -> list[dict[str, Any]]:
    envelopes: list[Envelope] = []
    recorder = AuditRecorder(envelopes.append, "api-host", "123456789012")
    ctx = ApiContext(validate(Settings, settings, "test"), engine, {"audit": recorder})
    with ApiServer.running(create_app(ctx), "127.0.0.1:0") as server:
        for action, body in calls:
            answer = httpx.post(f"{server.url}/v1/logs/{action}", json=body,
                                headers={"X-Watchkeeper-User": "alice"}, timeout=30)
            assert answer.status_code == 200, answer.text
    return [item for envelope in envelopes for item in envelope.items]


FILTER = {"logGroupName": "app", "filterName": "errors", "filterPattern": "ERROR",
          "metricTransformations": [{"metricName": "Errors", "metricNamespace": "App", "metricValue": "1"}]}


def test_log_group_and_metric_filter_changes_are_recorded_with_the_caller(engine: Engine) -> None:
    records = _records({}, engine, [("CreateLogGroup", {"logGroupName": "app"}), ("PutMetricFilter", FILTER),
                                    ("DescribeMetricFilters", {"logGroupName": "app"}),
                                    ("DeleteMetricFilter", {"logGroupName": "app", "filterName": "errors"})])
    assert [r["eventName"] for r in records] == ["CreateLogGroup", "PutMetricFilter", "DeleteMetricFilter"]
    assert {r["userIdentity"]["userName"] for r in records} == {"alice"}
    assert records[1]["resources"][0]["type"] == "Watchkeeper::MetricFilter"
    assert records[1]["requestParameters"]["filterPattern"] == "ERROR"
    assert not any(r["readOnly"] for r in records)


def test_read_calls_are_recorded_as_read_only_when_configured(engine: Engine) -> None:
    records = _records({"audit": {"record_read_calls": True}}, engine,
                       [("CreateLogGroup", {"logGroupName": "app"}), ("DescribeLogGroups", {})])
    reads = [r for r in records if r["readOnly"]]
    assert [r["eventName"] for r in reads] == ["DescribeLogGroups"]
