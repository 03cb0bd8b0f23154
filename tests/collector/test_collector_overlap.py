"""Inserts on their own thread: the loop goes on converting, but commits nothing an unfinished insert holds."""

from __future__ import annotations

import threading

from collector_support import StartCollector, Topics, committed, eventually, metric_envelope, produce, sample_counts
from watchkeeper.storage.engine import Columns, Engine, Row
from watchkeeper.storage.metrics import SERIES_TABLE


class HeldInserts(Engine):
    """A real engine whose inserts into one table wait until the test releases them."""

    def __init__(self, engine: Engine, table: str) -> None:
        self.database = engine.database
        self.capabilities = engine.capabilities
        self._engine = engine
        self._table = table
        self.entered = threading.Event()
        self.release = threading.Event()

    def query(self, sql: str) -> list[Row]:
        return self._engine.query(sql)

    def command(self, sql: str) -> None:
        self._engine.command(sql)

    def insert(self, table: str, columns: Columns) -> None:
        if table == self._table:
            self.entered.set()
            self.release.wait()
        self._engine.insert(table, columns)

    def close(self) -> None:
        """The wrapped engine belongs to the fixture that made it."""


def test_an_offset_is_committed_only_after_the_insert_holding_it_returned(
        topics: Topics, unique_name: str, engine: Engine, start_collector: StartCollector) -> None:
    # The series rows are inserted last (after the samples of the same records), so holding them
    # holds the only insert those records still wait for.
    held = HeldInserts(engine, SERIES_TABLE)
    first = metric_envelope("web-1", 1_800_000_000, 40)
    later = metric_envelope("web-2", 1_800_001_000, 40)
    running = start_collector(topics, unique_name, held)
    try:
        produce(topics.bootstrap, topics.metrics, [(first.host, first.encode())])
        eventually(held.entered.is_set, "the insert of the first record's series began")

        # The loop is free while that insert runs: it polls and converts the next record...
        produce(topics.bootstrap, topics.metrics, [(later.host, later.encode())])
        eventually(lambda: running.collector.stats()["records"] == 2, "a record polled during the insert")
        # ...and has committed round after round, yet nothing: every record waits for an insert.
        assert committed(topics.bootstrap, unique_name, topics.metrics) == 0
        assert running.collector.stats()["inserts"] == 1  # the samples: stored, but not all the record holds
    finally:
        held.release.set()

    eventually(lambda: committed(topics.bootstrap, unique_name, topics.metrics) == 2, "both records committed")
    running.stop()
    assert sample_counts(engine) == (80, 80)
