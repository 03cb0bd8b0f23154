"""Statements per cycle do not grow with the transitions (silences read once, writes batched), delivery
bookkeeping is batched and written by stop, and fingerprint lists too long for one statement are split
without changing any result. Both engines."""

from __future__ import annotations

import threading
from typing import Any

import pytest

from alarms.notify.bookkeeping import Bookkeeper
from alarms.store import AlarmStore, HistoryQuery
from tests.alarms.service_support import BASE, NEWEST_PERIOD, metric_alarm, receiver, running
from watchkeeper.storage import metrics_query
from watchkeeper.storage.engine import Columns, Engine, Row


class ThreadCountingEngine(Engine):
    """The real engine; counts the statements sent from the thread that created it (the cycle's)."""

    def __init__(self, inner: Engine) -> None:
        self._inner = inner
        self.database = inner.database
        self.capabilities = inner.capabilities
        self._thread = threading.get_ident()
        self.statements = 0

    def _count(self) -> None:
        if threading.get_ident() == self._thread:
            self.statements += 1

    def query(self, sql: str) -> list[Row]:
        self._count()
        return self._inner.query(sql)

    def command(self, sql: str) -> None:
        self._count()
        self._inner.command(sql)

    def insert(self, table: str, columns: Columns) -> None:
        self._count()
        self._inner.insert(table, columns)

    def close(self) -> None:
        self._inner.close()


def _cycle_statements(engine: Engine, alarms: int, hook_url: str) -> tuple[int, int]:
    """Statements of one cycle in which `alarms` alarms transition, half of them silenced; and transitions."""
    counting = ThreadCountingEngine(engine)
    with running(counting) as wk:
        wk.call("CreateSilence", {"Matcher": {"Type": "regex", "Value": r"r\d+-h\d*[02468]"}, "EndsAt": BASE + 3600,
                                  "Comment": "half", "CreatedBy": "ops"})
        for index in range(alarms):
            host = f"web-{alarms}-{index}"
            wk.call("PutMetricAlarm", metric_alarm(f"r{alarms}-h{index}", "cpu", [f"{hook_url}/h{index}"],
                                                   Dimensions=[{"Name": "host", "Value": host}]))
            wk.put_values("cpu", {NEWEST_PERIOD + 1: 90.0}, host=host)
        counting.statements = 0
        report = wk.service.scheduler.run_cycle()
        statements = counting.statements
        wk.wait_idle()
        silenced = [item for index in range(0, alarms, 2) for item in wk.history(f"r{alarms}-h{index}", "Action")]
        assert len(silenced) == -(-alarms // 2) and all("Suppressed" in i["HistorySummary"] for i in silenced)
        return statements, report.transitions


def test_statements_per_cycle_do_not_grow_with_transitions(engine: Engine) -> None:
    with receiver() as hook:
        few = _cycle_statements(engine, 2, hook.url)
        many = _cycle_statements(engine, 24, hook.url)
        hook.wait_for(lambda r: len(r) == 1 + 12)  # the unsilenced odd ones
    assert (few[1], many[1]) == (2, 24)
    assert few[0] == many[0]


def test_bookkeeping_is_batched_and_written_by_stop(engine: Engine) -> None:
    from alarms import history

    store = AlarmStore(engine)
    bookkeeper = Bookkeeper(store, lambda: BASE + 10.0, batch_items=1000, interval_s=3600)
    bookkeeper.start()
    items = [history.action_succeeded("a", f"http://x/{i}", BASE * 1000, BASE * 1000 + i, "204", b"{}")
             for i in range(3)]
    bookkeeper.record(items)
    bookkeeper.done("a", 7)
    assert bookkeeper.pending()
    assert store.history(HistoryQuery(name="a"), 0, 10) == []  # waits for its batch
    bookkeeper.stop()
    assert not bookkeeper.pending()
    assert [i.item_id for i in store.history(HistoryQuery(name="a", newest_first=False), 0, 10)] == [
        i.item_id for i in items]
    assert store.actions_done([("a", 7), ("a", 8)], BASE * 1000) == {("a", 7)}


def test_fingerprint_lists_are_split_under_the_statement_limit(engine: Engine,
                                                                monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(metrics_query, "MAX_FINGERPRINT_LIST_CHARS", 5 * 22)  # five series per statement
    with running(engine) as wk:
        values: dict[str, Any] = {}
        for index in range(12):
            host = f"web-{index}"
            wk.call("PutMetricAlarm", metric_alarm(f"h{index}", "cpu", [],
                                                   Dimensions=[{"Name": "host", "Value": host}]))
            values[f"h{index}"] = 10.0 + 5 * index
            wk.put_values("cpu", {NEWEST_PERIOD + 1: values[f"h{index}"]}, host=host)
        report = wk.service.scheduler.run_cycle()
        assert (report.evaluated, report.metric_queries) == (12, 3)
        states = {a["AlarmName"]: a["StateValue"]
                  for a in wk.call("DescribeAlarms", {"MaxRecords": 100})["MetricAlarms"]}
        assert states == {name: "ALARM" if value > 50 else "OK" for name, value in values.items()}
