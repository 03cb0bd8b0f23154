"""The collector under faults: ClickHouse stopped while it runs, the collector killed between insert and commit."""

from __future__ import annotations

import signal
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

from collector_support import (StartCollector, Topics, committed, eventually, metric_envelope, produce,
                               sample_counts, write_config)
from watchkeeper.storage.engine import ServerEngine
from watchkeeper.storage.schema import migrate
from services import ClickHouseInstance

pytestmark = pytest.mark.torture

PRIVATE_CLICKHOUSE = ClickHouseInstance("collector-faults", 19000, 18123)


@pytest.fixture
def private_engine(unique_name: str) -> Iterator[ServerEngine]:
    """A migrated database on a ClickHouse server of our own, which the test may stop."""
    PRIVATE_CLICKHOUSE.start()
    engine = ServerEngine("127.0.0.1", PRIVATE_CLICKHOUSE.tcp_port, unique_name)
    migrate(engine)
    yield engine
    PRIVATE_CLICKHOUSE.start()
    engine.command(f"DROP DATABASE IF EXISTS {unique_name}")
    engine.close()


def test_clickhouse_down_commits_nothing_and_loses_nothing(
        topics: Topics, unique_name: str, private_engine: ServerEngine, start_collector: StartCollector) -> None:
    before = [metric_envelope(f"web-{i}", 1_800_000_000 + 100 * i, 30) for i in range(4)]
    during = [metric_envelope(f"db-{i}", 1_800_010_000 + 100 * i, 30) for i in range(4)]
    running = start_collector(topics, unique_name, private_engine)
    produce(topics.bootstrap, topics.metrics, [(e.host, e.encode()) for e in before])
    eventually(lambda: committed(topics.bootstrap, unique_name, topics.metrics) == len(before), "first batch stored")

    PRIVATE_CLICKHOUSE.stop()
    try:
        produce(topics.bootstrap, topics.metrics, [(e.host, e.encode()) for e in during])
        eventually(lambda: running.collector.stats()["insert_errors"] >= 3, "inserts retried while down")
        stats = running.collector.stats()
        assert stats["storage_blocked"] and stats["rows_buffered"] == 4 * 30 + 4  # samples, and one series row per host
        assert committed(topics.bootstrap, unique_name, topics.metrics) == len(before)
    finally:
        PRIVATE_CLICKHOUSE.start()

    total = len(before) + len(during)
    eventually(lambda: committed(topics.bootstrap, unique_name, topics.metrics) == total, "everything stored")
    running.stop()
    raw, final = sample_counts(private_engine)
    assert (raw, final) == (total * 30, total * 30)
    assert not running.collector.stats()["storage_blocked"]


def test_collector_killed_between_insert_and_commit_counts_each_datapoint_once(
        topics: Topics, unique_name: str, tmp_path: Path, start_collector: StartCollector) -> None:
    engine = ServerEngine("127.0.0.1", 9000, unique_name)
    envelopes = [metric_envelope(f"web-{i}", 1_800_000_000 + 100 * i, 25) for i in range(6)]
    produce(topics.bootstrap, topics.metrics, [(e.host, e.encode()) for e in envelopes])
    config = write_config(tmp_path / "watchkeeper.toml", topics, unique_name, "max_age_s = 0.2")
    try:
        crashed = subprocess.run([sys.executable, str(Path(__file__).with_name("crash_after_insert.py")),
                                  str(config)], capture_output=True, timeout=120, check=False)
        assert crashed.returncode == -signal.SIGKILL, crashed.stderr.decode()[-2000:]
        assert committed(topics.bootstrap, unique_name, topics.metrics) == 0
        inserted_before_crash = sample_counts(engine)[0]
        assert inserted_before_crash > 0

        running = start_collector(topics, unique_name, engine)
        eventually(lambda: committed(topics.bootstrap, unique_name, topics.metrics) == len(envelopes),
                   "every record committed by the second collector")
        running.stop()
        raw, final = sample_counts(engine)
        assert raw == 150 + inserted_before_crash  # the redelivered rows really were inserted twice...
        assert final == 150  # ...and count once
        assert engine.query("SELECT sum(sum) FROM metric_samples FINAL")[0][0] == sum(
            item["s"] for e in envelopes for item in e.items)
    finally:
        engine.command(f"DROP DATABASE IF EXISTS {unique_name}")
        engine.close()
