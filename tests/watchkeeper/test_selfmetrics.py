"""Self-metrics carry the names the pipeline dashboard expects, as per-report deltas."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from dashboards.pipeline_dashboard import SELF_METRICS
from watchkeeper.selfmetrics import CollectorReporter, agent_report
from watchkeeper.storage.engine import Engine
from watchkeeper.transport.spool import Spool

EXPECTED = {m.name: (m.dimensions, m.unit) for m in SELF_METRICS}


def _check(datums: list[Any]) -> None:
    for datum in datums:
        dimensions, unit = EXPECTED[datum.name]
        assert tuple(sorted(dimensions)) == tuple(name for name, _ in datum.dimensions), datum
        assert datum.unit == unit


def test_agent_report_counts_the_spool_backlog(tmp_path: Path) -> None:
    spool = Spool(tmp_path, 1024 * 1024 * 8, 1024 * 1024, "never")
    spool.append(b"x" * 100)
    try:
        datums = {d.name: d for d in agent_report(spool, "web-1", 1_800_000_000)}
    finally:
        spool.close()
    _check(list(datums.values()))
    assert datums["SpoolRecords"].sum == 1
    assert datums["SpoolBytes"].sum >= 100
    assert datums["AgentHeartbeat"].sum == 1


def test_collector_report_is_deltas_and_is_stored(engine: Engine) -> None:
    stats: dict[str, Any] = {"rows_inserted": {"metric_samples": 10}, "insert_errors": 1, "dead_lettered": 0,
                             "lag": 7}
    reporter = CollectorReporter("c1", lambda: stats, engine)
    first = {d.name + d.dimensions[-1][1]: d.sum for d in reporter.report(1_800_000_000)}
    stats["rows_inserted"]["metric_samples"] = 25
    second = {d.name + d.dimensions[-1][1]: d.sum for d in reporter.report(1_800_000_060)}
    assert first["RowsInsertedmetric_samples"] == 10 and second["RowsInsertedmetric_samples"] == 15
    assert first["InsertErrorsall"] == 1 and second["InsertErrorsall"] == 0
    assert second["ConsumerLagall"] == 7
    _check(reporter.report())
    reporter()
    stored = engine.query("SELECT count() FROM metric_samples FINAL WHERE namespace = 'Watchkeeper'")
    assert int(stored[0][0]) == 4
