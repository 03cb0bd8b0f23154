"""ActionsSuppressorWaitPeriod as AWS documents it: a composite's ALARM actions wait up to the wait period
for the suppressor to reach ALARM; suppressed if it does, sent when the wait ends if it does not. The pure
rule as a table, then through the real service on both engines, restart included."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

import pytest

from alarms.composite import Release, SuppressorView, release_deferred
from tests.alarms.service_support import NEWEST_PERIOD, Receiver, Running, metric_alarm, receiver, running
from watchkeeper.storage.engine import Engine

SINCE = 1000.0  # the composite went to ALARM; wait period 60 s


@pytest.mark.parametrize(("suppressor", "still_in_alarm", "now", "expected"), [
    (SuppressorView("OK"), True, SINCE, "wait"),
    (SuppressorView("OK"), True, SINCE + 59.9, "wait"),
    (SuppressorView("OK"), True, SINCE + 60, "send"),                      # the wait is over: actions run
    (SuppressorView("INSUFFICIENT_DATA"), True, SINCE + 300, "send"),      # released late: still sent once
    (SuppressorView("ALARM"), True, SINCE + 30, "suppress"),               # the suppressor came within the wait
    (SuppressorView("OK", left_alarm_at=SINCE + 20), True, SINCE + 30, "suppress"),  # ...and left again
    (SuppressorView("OK", left_alarm_at=SINCE - 200), True, SINCE + 60, "send"),     # left before: not within
    (SuppressorView("OK"), False, SINCE + 30, "suppress"),                 # the composite's ALARM ended first
])
def test_release_deferred(suppressor: SuppressorView, still_in_alarm: bool, now: float, expected: Release) -> None:
    assert release_deferred("maint", suppressor, SINCE, 60, still_in_alarm, now).release == expected


@contextmanager
def _composite_waiting(engine: Engine, wait_s: int, holder: str = "a") -> Iterator[tuple[Running, Receiver]]:
    """cpu in ALARM drives composite svc, whose actions wait `wait_s` for suppressor maint (no data yet)."""
    with receiver() as hook, running(engine, holder=holder) as wk:
        wk.call("PutMetricAlarm", metric_alarm("cpu", "cpu", []))
        wk.call("PutMetricAlarm", metric_alarm("maint", "maint", []))
        wk.call("PutCompositeAlarm", {"AlarmName": "svc", "AlarmRule": "ALARM(cpu)", "AlarmActions": [f"{hook.url}/svc"],
                                      "ActionsSuppressor": "maint", "ActionsSuppressorWaitPeriod": wait_s,
                                      "ActionsSuppressorExtensionPeriod": 0})
        wk.put_values("cpu", {NEWEST_PERIOD + 1: 99.0, NEWEST_PERIOD + 61: 99.0, NEWEST_PERIOD + 121: 99.0})
        wk.service.scheduler.run_cycle()
        assert _state(wk, "svc") == "ALARM"
        yield wk, hook


def _state(wk: Running, name: str) -> str:
    alarms = wk.call("DescribeAlarms", {"AlarmNames": [name], "AlarmTypes": ["MetricAlarm", "CompositeAlarm"]})
    value: str = (alarms["MetricAlarms"] + alarms["CompositeAlarms"])[0]["StateValue"]
    return value


def _cycle_at(wk: Running, seconds_after_start: float, start: float) -> None:
    wk.clock.now = start + seconds_after_start
    wk.service.scheduler.run_cycle()
    wk.wait_idle()


def _actions(wk: Running) -> list[str]:
    return [item["HistorySummary"].split(":", 1)[0].split(" http")[0] for item in wk.history("svc", "Action")]


def test_actions_wait_then_are_sent_when_the_suppressor_stays_out_of_alarm(engine: Engine) -> None:
    with _composite_waiting(engine, 60) as (wk, hook):
        start = wk.clock.now
        wk.wait_idle()
        _cycle_at(wk, 30, start)
        assert hook.requests == [] and _actions(wk) == []  # within the wait: nothing yet
        _cycle_at(wk, 60, start)
        [sent] = hook.wait_for(lambda r: len(r) == 1)
        assert sent.json()["NewStateValue"] == "ALARM" and sent.json()["AlarmName"] == "svc"
        wk.wait_idle()
        assert _actions(wk) == ["Released action", "Successfully executed action"]
        _cycle_at(wk, 70, start)
        assert len(hook.requests) == 1  # released once


def test_the_suppressor_reaching_alarm_within_the_wait_suppresses_the_actions(engine: Engine) -> None:
    with _composite_waiting(engine, 120) as (wk, hook):
        start = wk.clock.now
        wk.put_values("maint", {NEWEST_PERIOD + 61: 99.0})
        _cycle_at(wk, 60, start)  # a new minute: maint is evaluated and goes to ALARM, 60 s into the wait
        assert _state(wk, "maint") == "ALARM"
        [suppressed] = wk.history("svc", "Action")
        assert suppressed["HistorySummary"] == (
            f"Suppressed action {hook.url}/svc: ActionsSuppressor maint (entered ALARM within "
            "ActionsSuppressorWaitPeriod 120 s)")
        _cycle_at(wk, 130, start)
        assert hook.requests == [] and len(wk.history("svc", "Action")) == 1


def test_a_pending_action_survives_a_restart_and_is_sent_once(engine: Engine) -> None:
    with _composite_waiting(engine, 60) as (wk, hook):
        start = wk.clock.now
        wk.wait_idle()
        with running(engine, holder="a") as again:  # the same evaluator after a restart: nothing in memory
            _cycle_at(again, 10, start)
            assert hook.requests == []  # resumed leadership does not send what waits for its release
            _cycle_at(again, 60, start)
            hook.wait_for(lambda r: len(r) == 1)
        with running(engine, holder="a") as third:
            _cycle_at(third, 80, start)
            assert len(hook.requests) == 1
