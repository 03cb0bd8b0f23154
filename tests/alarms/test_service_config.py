"""Definitions through the real API on both engines: composite alarms, DescribeAlarms filters and pages,
SetAlarmState, actions on/off, deletion, GitOps validation and idempotency, the audit hook, and that a cycle
reads all alarms' data in one query per (period, unit)."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from alarms.gitops import load_directory
from audit.recorder import AuditRecorder
from tests.alarms.service_support import NEWEST_PERIOD, metric_alarm, receiver, running
from watchkeeper.errors import ConfigError
from watchkeeper.storage.engine import Engine
from watchkeeper.wire import Envelope


def test_composite_follows_its_children_in_the_same_cycle(engine: Engine) -> None:
    with receiver() as hook, running(engine) as wk:
        wk.call("PutMetricAlarm", metric_alarm("cpu", "cpu", []))
        wk.call("PutMetricAlarm", metric_alarm("mem", "mem", []))
        wk.call("PutCompositeAlarm", {"AlarmName": "host-sick", "AlarmRule": "ALARM(cpu) AND ALARM(\"mem\")",
                                      "AlarmActions": [f"{hook.url}/composite"]})
        wk.put_values("cpu", {NEWEST_PERIOD + 1: 90.0})
        wk.put_values("mem", {NEWEST_PERIOD + 1: 90.0})
        wk.service.scheduler.run_cycle()
        [request] = hook.wait_for(lambda r: len(r) == 1)
        body = request.json()
        assert body["AlarmName"] == "host-sick" and body["NewStateValue"] == "ALARM"
        assert body["AlarmRule"] == 'ALARM(cpu) AND ALARM("mem")'
        triggering = json.loads(body["NewStateReasonData"])["triggeringAlarms"]
        assert [t["arn"] for t in triggering] == ["arn:aws:cloudwatch:local:000000000000:alarm:cpu",
                                                  "arn:aws:cloudwatch:local:000000000000:alarm:mem"]
        [composite] = wk.call("DescribeAlarms", {"AlarmTypes": ["CompositeAlarm"]})["CompositeAlarms"]
        assert composite["StateValue"] == "ALARM"
        wk.clock.now += 60
        wk.put_values("mem", {NEWEST_PERIOD + 61: 10.0})
        wk.put_values("cpu", {NEWEST_PERIOD + 61: 90.0})
        wk.service.scheduler.run_cycle()
        assert wk.call("DescribeAlarms", {"AlarmTypes": ["CompositeAlarm"]})["CompositeAlarms"][0][
            "StateValue"] == "OK"


def test_composite_cycle_is_refused(engine: Engine) -> None:
    with running(engine) as wk:
        wk.call("PutCompositeAlarm", {"AlarmName": "a", "AlarmRule": "ALARM(b)"})
        response = wk.api.post("/v1/cloudwatch/PutCompositeAlarm", json={"AlarmName": "b", "AlarmRule": "OK(a)"})
        assert response.status_code == 400 and "found a cycle" in response.json()["message"]


def test_describe_alarms_filters_and_pages(engine: Engine) -> None:
    with running(engine) as wk:
        for index in range(5):
            wk.call("PutMetricAlarm", metric_alarm(f"web-{index}", "cpu", ["exec:/bin/true"] if index == 0 else []))
        wk.call("PutMetricAlarm", metric_alarm("db-0", "cpu", []))
        wk.call("PutCompositeAlarm", {"AlarmName": "web-all", "AlarmRule": "ALARM(\"web-0\")"})
        wk.call("SetAlarmState", {"AlarmName": "web-3", "StateValue": "ALARM", "StateReason": "drill",
                                  "StateReasonData": "{\"why\": 1}"})
        first = wk.call("DescribeAlarms", {"AlarmNamePrefix": "web-", "MaxRecords": 2})
        assert [a["AlarmName"] for a in first["MetricAlarms"]] == ["web-0", "web-1"]
        second = wk.call("DescribeAlarms", {"AlarmNamePrefix": "web-", "MaxRecords": 2,
                                            "NextToken": first["NextToken"]})
        third = wk.call("DescribeAlarms", {"AlarmNamePrefix": "web-", "MaxRecords": 2,
                                           "NextToken": second["NextToken"]})
        assert [a["AlarmName"] for a in second["MetricAlarms"] + third["MetricAlarms"]] == ["web-2", "web-3", "web-4"]
        assert "NextToken" not in third and third["CompositeAlarms"] == []
        [alarmed] = wk.call("DescribeAlarms", {"StateValue": "ALARM"})["MetricAlarms"]
        assert (alarmed["AlarmName"], alarmed["StateReason"], alarmed["StateReasonData"]) == (
            "web-3", "drill", "{\"why\": 1}")
        assert {"AlarmArn", "StateUpdatedTimestamp", "StateTransitionedTimestamp", "DatapointsToAlarm",
                "AlarmConfigurationUpdatedTimestamp", "TreatMissingData", "ActionsEnabled"} <= alarmed.keys()
        both = wk.call("DescribeAlarms", {"AlarmNames": ["db-0", "web-all"],
                                          "AlarmTypes": ["MetricAlarm", "CompositeAlarm"]})
        assert [a["AlarmName"] for a in both["MetricAlarms"] + both["CompositeAlarms"]] == ["db-0", "web-all"]
        assert [a["AlarmName"] for a in wk.call("DescribeAlarms", {"ActionPrefix": "exec:"})["MetricAlarms"]] == [
            "web-0"]
        bad = wk.api.post("/v1/cloudwatch/DescribeAlarms", json={"NextToken": "nonsense"})
        assert bad.status_code == 400 and bad.json()["__type"] == "InvalidNextToken"


def test_update_keeps_state_delete_keeps_history_actions_toggle(engine: Engine) -> None:
    with running(engine) as wk:
        wk.call("PutMetricAlarm", metric_alarm("svc", "cpu", []))
        wk.call("SetAlarmState", {"AlarmName": "svc", "StateValue": "ALARM", "StateReason": "forced"})
        wk.clock.now += 1  # each change at its own time, so history has one order
        wk.call("PutMetricAlarm", metric_alarm("svc", "cpu", [], Threshold=70.0))
        [alarm] = wk.call("DescribeAlarms", {"AlarmNames": ["svc"]})["MetricAlarms"]
        assert (alarm["StateValue"], alarm["Threshold"]) == ("ALARM", 70.0)
        wk.clock.now += 1
        wk.call("DisableAlarmActions", {"AlarmNames": ["svc"]})
        assert wk.call("DescribeAlarms", {"AlarmNames": ["svc"]})["MetricAlarms"][0]["ActionsEnabled"] is False
        wk.clock.now += 1
        wk.call("EnableAlarmActions", {"AlarmNames": ["svc"]})
        wk.clock.now += 1
        wk.call("DeleteAlarms", {"AlarmNames": ["svc"]})
        assert wk.call("DescribeAlarms", {"AlarmNames": ["svc"]})["MetricAlarms"] == []
        summaries = [h["HistorySummary"] for h in wk.history("svc", "ConfigurationUpdate")]
        assert summaries == ['Alarm "svc" created', 'Alarm "svc" updated', 'Alarm "svc" updated',
                             'Alarm "svc" updated', 'Alarm "svc" deleted']
        updated = json.loads(wk.history("svc", "ConfigurationUpdate")[1]["HistoryData"])
        assert (updated["type"], updated["originalUpdatedAlarm"]["Threshold"], updated["updatedAlarm"]["Threshold"]) \
            == ("Update", 50.0, 70.0)
        missing = wk.api.post("/v1/cloudwatch/SetAlarmState",
                              json={"AlarmName": "svc", "StateValue": "OK", "StateReason": "x"})
        assert missing.status_code == 404 and missing.json()["__type"] == "ResourceNotFound"


def _write(directory: Path, name: str, body: dict[str, Any]) -> None:
    (directory / name).write_text(json.dumps(body))


def test_gitops_validation_names_file_alarm_and_field(tmp_path: Path) -> None:
    _write(tmp_path, "good.json", metric_alarm("good", "cpu", []))
    _write(tmp_path, "bad.json", metric_alarm("bad", "cpu", ["ftp://x"], Period=45))
    _write(tmp_path, "again.json", metric_alarm("good", "cpu", []))
    (tmp_path / "broken.json").write_text("{")
    try:
        load_directory(tmp_path)
    except ConfigError as error:
        messages = [str(p) for p in error.problems]
    else:
        raise AssertionError("invalid directory accepted")
    assert any(m.startswith(f"{tmp_path / 'bad.json'} (alarm bad): Period") for m in messages), messages
    assert any(m.startswith(f"{tmp_path / 'bad.json'} (alarm bad): AlarmActions[0]: found 'ftp://x'")
               for m in messages), messages
    assert any(m.startswith(f"{tmp_path / 'broken.json'}: not valid JSON") for m in messages), messages
    assert any("already defined in" in m and "good.json" in m for m in messages), messages


def test_gitops_apply_is_idempotent_and_audited(engine: Engine, tmp_path: Path) -> None:
    _write(tmp_path, "cpu.json", metric_alarm("cpu", "cpu", []))
    _write(tmp_path, "all.json", {"AlarmName": "all", "AlarmRule": "ALARM(cpu)"})
    with running(engine) as wk:
        envelopes: list[Envelope] = []
        wk.services["audit"] = AuditRecorder(envelopes.append, "test-host", "000000000000")
        bodies = [json.loads(p.read_text()) for p in sorted(tmp_path.glob("*.json"))]
        first = wk.api.post("/v1/cloudwatch/ApplyAlarms", json={"Alarms": bodies, "Source": str(tmp_path)},
                            headers={"X-Watchkeeper-User": "ci-bot"}).json()
        assert (first["Created"], first["Unchanged"]) == (["all", "cpu"], [])
        again = wk.call("ApplyAlarms", {"Alarms": bodies, "Source": str(tmp_path)})
        assert (again["Created"], again["Updated"], again["Unchanged"]) == ([], [], ["all", "cpu"])
        assert len(wk.history("cpu", "ConfigurationUpdate")) == 1
        records = [item for envelope in envelopes for item in envelope.items]
        assert [(r["eventName"], r["resources"][0]["ARN"].rsplit("/", 1)[-1], r["userIdentity"]["userName"])
                for r in records] == [("PutCompositeAlarm", "all", "ci-bot"), ("PutMetricAlarm", "cpu", "ci-bot")]
        forced = wk.api.post("/v1/cloudwatch/SetAlarmState", json={"AlarmName": "cpu", "StateValue": "ALARM",
                                                                   "StateReason": "drill"},
                             headers={"X-Watchkeeper-User": "oncall"})
        assert forced.status_code == 200, forced.text
        last = [item for envelope in envelopes for item in envelope.items][-1]
        assert (last["eventName"], last["userIdentity"]["userName"], last["requestParameters"]["StateReason"]) == (
            "SetAlarmState", "oncall", "drill")
        bad = wk.api.post("/v1/cloudwatch/ApplyAlarms", json={"Alarms": [{"AlarmName": "x"}], "Source": "d"})
        assert bad.status_code == 400 and "d: Alarms[0] (alarm x)" in bad.json()["message"]


def test_one_query_per_period_group_whatever_the_number_of_alarms(engine: Engine) -> None:
    with running(engine) as wk:
        for index in range(20):
            alarm = metric_alarm(f"h{index}", "cpu", [], Dimensions=[{"Name": "host", "Value": f"web-{index}"}])
            if index % 2:  # percentile alarms share one query of their period, apart from the basic statistics
                del alarm["Statistic"]
                alarm["ExtendedStatistic"] = "p90"
            wk.call("PutMetricAlarm", alarm)
            wk.put_values("cpu", {NEWEST_PERIOD + 1: 10.0 + 5 * index}, host=f"web-{index}")
        wk.call("PutMetricAlarm", metric_alarm("five-min", "cpu", [], Period=300))
        report = wk.service.scheduler.run_cycle()
        assert (report.evaluated, report.metric_queries) == (21, 3)
        states = {a["AlarmName"]: a["StateValue"] for a in wk.call("DescribeAlarms", {"MaxRecords": 100})[
            "MetricAlarms"]}
        assert [name for name, state in sorted(states.items()) if state == "ALARM"] == sorted(
            f"h{i}" for i in range(20) if 10 + 5 * i > 50)


def test_actions_suppressor_holds_composite_actions(engine: Engine) -> None:
    with receiver() as hook, running(engine) as wk:
        wk.call("PutMetricAlarm", metric_alarm("cpu", "cpu", []))
        wk.call("PutMetricAlarm", metric_alarm("maintenance", "maint", []))
        wk.call("PutCompositeAlarm", {"AlarmName": "page", "AlarmRule": "ALARM(cpu)",
                                      "AlarmActions": [f"{hook.url}/page"], "ActionsSuppressor": "maintenance",
                                      "ActionsSuppressorWaitPeriod": 0, "ActionsSuppressorExtensionPeriod": 120})
        wk.put_values("cpu", {NEWEST_PERIOD + 1: 90.0})
        wk.put_values("maint", {NEWEST_PERIOD + 1: 90.0})
        wk.service.scheduler.run_cycle()
        wk.wait_idle()
        assert hook.requests == []
        [held] = wk.history("page", "Action")
        assert held["HistorySummary"] == f"Suppressed action {hook.url}/page: ActionsSuppressor maintenance (Alarm)"
        # Once the suppressor has been out of ALARM longer than the extension period, actions run again.
        wk.clock.now += 60
        wk.put_values("cpu", {NEWEST_PERIOD + 61: 10.0})
        wk.put_values("maint", {NEWEST_PERIOD + 61: 10.0})
        wk.service.scheduler.run_cycle()
        wk.clock.now += 180
        wk.put_values("cpu", {NEWEST_PERIOD + 241: 95.0})
        wk.put_values("maint", {NEWEST_PERIOD + 241: 10.0})
        wk.service.scheduler.run_cycle()
        [request] = hook.wait_for(lambda r: len(r) == 1)
        assert request.json()["AlarmName"] == "page"


def test_metric_math_alarm_reads_its_series_in_the_shared_query(engine: Engine) -> None:
    with running(engine) as wk:
        stat = {"Metric": {"Namespace": "App", "MetricName": "cpu", "Dimensions": [{"Name": "host", "Value": "web-1"}]},
                "Period": 60, "Stat": "Average"}
        wk.call("PutMetricAlarm", {"AlarmName": "doubled", "EvaluationPeriods": 1, "Threshold": 100.0,
                                   "ComparisonOperator": "GreaterThanThreshold",
                                   "Metrics": [{"Id": "m1", "MetricStat": stat, "ReturnData": False},
                                               {"Id": "e1", "Expression": "m1 * 2", "ReturnData": True}]})
        wk.call("PutMetricAlarm", metric_alarm("plain", "cpu", []))
        wk.put_values("cpu", {NEWEST_PERIOD + 1: 60.0})
        report = wk.service.scheduler.run_cycle()
        assert (report.evaluated, report.metric_queries, report.errors) == (2, 1, [])
        [doubled] = wk.call("DescribeAlarms", {"AlarmNames": ["doubled"]})["MetricAlarms"]
        assert doubled["StateValue"] == "ALARM"
        assert json.loads(doubled["StateReasonData"])["recentDatapoints"] == [120.0]
