"""The alarm service through the real API server on both engines: datapoints -> ALARM -> signed POST ->
recovery -> OK; history in AWS's format; restart without re-sending; one lease, one sender; silences."""

from __future__ import annotations

import json

from alarms.store import Lease, LeaseHolder
from tests.alarms.service_support import BASE, NEWEST_PERIOD, metric_alarm, receiver, running, verify_signature
from watchkeeper.storage.engine import Engine




def test_alarm_fires_signed_then_recovers(engine: Engine) -> None:
    with receiver() as hook, running(engine) as wk:
        wk.call("PutMetricAlarm", metric_alarm("cpu-high", "cpu", [f"{hook.url}/hook"]))
        described = wk.call("DescribeAlarms", {"AlarmNames": ["cpu-high"]})["MetricAlarms"][0]
        assert described["StateValue"] == "INSUFFICIENT_DATA"
        assert described["StateReason"] == "Unchecked: Initial alarm creation"

        wk.put_values("cpu", {NEWEST_PERIOD + 1: 99.5})
        report = wk.service.scheduler.run_cycle()
        assert report.transitions == 1 and report.metric_queries == 1
        [alarm] = hook.wait_for(lambda r: len(r) == 1)
        assert verify_signature(alarm)
        assert not verify_signature(alarm, "other-secret")
        body = alarm.json()
        assert (body["AlarmName"], body["OldStateValue"], body["NewStateValue"]) == (
            "cpu-high", "INSUFFICIENT_DATA", "ALARM")
        assert body["NewStateReason"].startswith("Threshold Crossed: 1 out of the last 1 datapoints [99.5 (")
        assert body["Trigger"]["MetricName"] == "cpu" and body["Trigger"]["Statistic"] == "AVERAGE"

        wk.clock.now += 60
        wk.put_values("cpu", {NEWEST_PERIOD + 61: 10.0})
        wk.service.scheduler.run_cycle()
        received = hook.wait_for(lambda r: len(r) == 2)
        assert received[1].json()["NewStateValue"] == "OK" and verify_signature(received[1])
        wk.wait_idle()

        updates = wk.history("cpu-high", "StateUpdate")
        assert [u["HistorySummary"] for u in updates] == ["Alarm updated from INSUFFICIENT_DATA to ALARM",
                                                          "Alarm updated from ALARM to OK"]
        data = json.loads(updates[0]["HistoryData"])
        assert data["version"] == "1.0" and data["newState"]["stateValue"] == "ALARM"
        assert data["newState"]["stateReasonData"]["recentDatapoints"] == [99.5]
        actions = wk.history("cpu-high", "Action")
        assert [a["HistorySummary"] for a in actions] == [f"Successfully executed action {hook.url}/hook"] * 2
        [created] = wk.history("cpu-high", "ConfigurationUpdate")
        assert created["HistorySummary"] == 'Alarm "cpu-high" created'


def test_restart_does_not_resend_and_unfinished_is_resumed(engine: Engine) -> None:
    with receiver() as hook:
        with running(engine, holder="a") as wk:
            wk.call("PutMetricAlarm", metric_alarm("disk", "disk", [f"{hook.url}/disk"]))
            wk.put_values("disk", {NEWEST_PERIOD + 1: 90.0})
            wk.service.scheduler.run_cycle()
            hook.wait_for(lambda r: len(r) == 1)
            wk.wait_idle()
            now = wk.clock.now
        with running(engine, holder="a") as again:
            again.clock.now = now + 10
            again.service.scheduler.run_cycle()
            again.wait_idle()
            assert len(hook.requests) == 1
            # A transition persisted but never delivered (a crash between commit and delivery) is resumed.
            again.call("SetAlarmState", {"AlarmName": "disk", "StateValue": "OK", "StateReason": "manual"})
            hook.wait_for(lambda r: len(r) == 2)
            again.wait_idle()
            engine.command("TRUNCATE TABLE alarm_actions_done")
            assert again.service.transitions.resume() == 1
            resent = hook.wait_for(lambda r: len(r) == 3)
            assert resent[2].json()["NewStateValue"] == "OK"


def test_two_services_one_lease_only_one_sends(engine: Engine) -> None:
    with receiver() as hook, running(engine, holder="a") as first, running(engine, holder="b") as second:
        first.call("PutMetricAlarm", metric_alarm("shared", "load", [f"{hook.url}/shared"]))
        first.put_values("load", {NEWEST_PERIOD + 1: 75.0})
        second.clock.now = first.clock.now
        reports = [first.service.scheduler.run_cycle(), second.service.scheduler.run_cycle()]
        assert [r.leading for r in reports] == [True, False]
        hook.wait_for(lambda r: len(r) == 1)
        first.wait_idle()
        second.wait_idle()
        assert len(hook.requests) == 1
        # The lease expires when its holder stops renewing: the other takes over.
        second.clock.now += 120
        assert second.service.scheduler.run_cycle().leading


def test_silence_suppresses_actions(engine: Engine) -> None:
    with receiver() as hook, running(engine) as wk:
        wk.call("PutMetricAlarm", metric_alarm("noisy-1", "mem", [f"{hook.url}/mem"]))
        silence = wk.call("CreateSilence", {"Matcher": {"Type": "prefix", "Value": "noisy-"},
                                            "EndsAt": BASE + 3600, "Comment": "maintenance", "CreatedBy": "ops"})
        wk.put_values("mem", {NEWEST_PERIOD + 1: 80.0})
        wk.service.scheduler.run_cycle()
        wk.wait_idle()
        assert hook.requests == []
        [action] = wk.history("noisy-1", "Action")
        assert action["HistorySummary"].startswith(f"Suppressed action {hook.url}/mem: silence ")
        assert json.loads(action["HistoryData"])["actionState"] == "Suppressed"
        [listed] = wk.call("ListSilences", {"Status": "active"})["Silences"]
        assert listed["SilenceId"] == silence["SilenceId"] and listed["Matcher"]["Value"] == "noisy-"
        wk.call("ExpireSilence", {"SilenceId": silence["SilenceId"]})
        assert wk.call("ListSilences", {"Status": "active"})["Silences"] == []
        wk.call("SetAlarmState", {"AlarmName": "noisy-1", "StateValue": "OK", "StateReason": "check"})
        hook.wait_for(lambda r: len(r) == 1)


def test_set_alarm_state_holds_until_the_next_evaluation(engine: Engine) -> None:
    with receiver() as hook, running(engine) as wk:
        wk.call("PutMetricAlarm", metric_alarm("forced", "cpu", [f"{hook.url}/forced"]))
        wk.put_values("cpu", {NEWEST_PERIOD + 1: 10.0})
        wk.service.scheduler.run_cycle()
        hook.wait_for(lambda r: len(r) == 1)  # workers deliver in parallel: no order across transitions
        wk.clock.now += 1
        wk.call("SetAlarmState", {"AlarmName": "forced", "StateValue": "ALARM", "StateReason": "testing the pager"})
        received = hook.wait_for(lambda r: len(r) == 2)
        assert [(r.json()["OldStateValue"], r.json()["NewStateValue"]) for r in received] == [
            ("INSUFFICIENT_DATA", "OK"), ("OK", "ALARM")]
        assert received[1].json()["NewStateReason"] == "testing the pager"
        wk.clock.now += 60
        wk.put_values("cpu", {NEWEST_PERIOD + 61: 10.0})
        wk.service.scheduler.run_cycle()
        assert hook.wait_for(lambda r: len(r) == 3)[2].json()["NewStateValue"] == "OK"


def test_history_filters_and_pages(engine: Engine) -> None:
    with running(engine) as wk:
        wk.call("PutMetricAlarm", metric_alarm("paged", "cpu", []))
        start = wk.clock.now
        for index, state in enumerate(["ALARM", "OK", "ALARM", "OK"]):
            wk.clock.now = start + 10 * (index + 1)
            wk.call("SetAlarmState", {"AlarmName": "paged", "StateValue": state, "StateReason": f"step {index}"})
        first = wk.call("DescribeAlarmHistory", {"AlarmName": "paged", "HistoryItemType": "StateUpdate",
                                                 "MaxRecords": 3})
        rest = wk.call("DescribeAlarmHistory", {"AlarmName": "paged", "HistoryItemType": "StateUpdate",
                                                "MaxRecords": 3, "NextToken": first["NextToken"]})
        summaries = [i["HistorySummary"] for i in first["AlarmHistoryItems"] + rest["AlarmHistoryItems"]]
        assert summaries == ["Alarm updated from ALARM to OK", "Alarm updated from OK to ALARM",
                             "Alarm updated from ALARM to OK", "Alarm updated from INSUFFICIENT_DATA to ALARM"]
        assert "NextToken" not in rest
        window = wk.call("DescribeAlarmHistory", {"AlarmName": "paged", "StartDate": start + 15, "EndDate": start + 35,
                                                  "ScanBy": "TimestampAscending"})["AlarmHistoryItems"]
        assert [json.loads(i["HistoryData"])["newState"]["stateReason"] for i in window] == ["step 1", "step 2"]


def test_lease_ties_go_to_the_smallest_holder(engine: Engine) -> None:
    # Two contenders that both claimed term 1 read the same winner, whichever inserted first.
    late = Lease(engine, "test-lease", "b", ttl_s=30, settle_s=0)
    early = Lease(engine, "test-lease", "a", ttl_s=30, settle_s=0)
    assert late.hold(1000.0)
    engine.insert("alarm_leases", {"lease": ["test-lease"], "term": [1], "holder": ["a"], "expires_ms": [1_030_000]})
    assert late.current() == early.current() == LeaseHolder(1, "a", 1_030_000)
    assert not late.hold(1001.0) and early.hold(1001.0)
    assert early.hold(1100.0) and not late.hold(1100.0)
