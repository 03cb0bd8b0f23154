"""Watchkeeper's metrics about itself (namespace "Watchkeeper"), for the pipeline health dashboard.

The names, dimensions and units are the ones dashboards/pipeline_dashboard.py
lists in SELF_METRICS. The agent ships its own through its spool like any other
metric; a collector writes its own straight into the storage it already holds,
so a collector whose Kafka is down still reports that.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Mapping
from typing import Any

from watchkeeper.events import Kind, MetricDatum, normalise_dimensions
from watchkeeper.storage.engine import Engine
from watchkeeper.storage.metrics import write_metrics
from watchkeeper.transport.spool import Spool
from watchkeeper.wire import Envelope, make_envelope

NAMESPACE = "Watchkeeper"
REPORT_INTERVAL_S = 60.0


def _datum(name: str, dimensions: dict[str, str], value: float, unit: str, now: float) -> MetricDatum:
    return MetricDatum.single(NAMESPACE, name, normalise_dimensions(dimensions), now, value, unit)


def agent_report(spool: Spool, host: str, now: float) -> list[MetricDatum]:
    """Heartbeat and spool backlog of one agent."""
    dims = {"host": host}
    return [
        _datum("AgentHeartbeat", dims, 1.0, "Count", now),
        _datum("SpoolBytes", dims, float(spool.pending_bytes), "Bytes", now),
        _datum("SpoolRecords", dims, float(spool.pending_entries), "Count", now),
    ]


def agent_reporter(spool: Spool, host: str, agent_id: str, submit: Callable[[Envelope], object]) -> Callable[[], None]:
    def report() -> None:
        items = [d.to_item() for d in agent_report(spool, host, time.time())]
        submit(make_envelope(Kind.METRICS, agent_id, host, items))

    return report


class CollectorReporter:
    """Turns a collector's cumulative stats into per-report deltas and writes them."""

    def __init__(self, name: str, stats: Callable[[], Mapping[str, Any]], engine: Engine) -> None:
        self._name = name
        self._stats = stats
        self._engine = engine
        self._previous: dict[str, float] = {}

    def _delta(self, key: str, value: float) -> float:
        before = self._previous.get(key, 0.0)
        self._previous[key] = value
        return max(value - before, 0.0)

    def report(self, now: float | None = None) -> list[MetricDatum]:
        moment = time.time() if now is None else now
        stats = self._stats()
        out = []
        for table, rows in sorted(stats.get("rows_inserted", {}).items()):
            out.append(_datum("RowsInserted", {"collector": self._name, "table": table},
                              self._delta(f"rows:{table}", float(rows)), "Count", moment))
        out.append(_datum("InsertErrors", {"collector": self._name, "table": "all"},
                          self._delta("errors", float(stats.get("insert_errors", 0))), "Count", moment))
        out.append(_datum("DeadLetters", {"collector": self._name, "topic": "all"},
                          self._delta("dead", float(stats.get("dead_lettered", 0))), "Count", moment))
        lag = stats.get("lag")
        if lag is not None:
            out.append(_datum("ConsumerLag", {"collector": self._name, "topic": "all"}, float(lag), "Count", moment))
        return out

    def __call__(self) -> None:
        datums = self.report()
        batch = make_envelope(Kind.METRICS, self._name, self._name, [d.to_item() for d in datums])
        write_metrics(self._engine, [(batch.batch_id, batch.items)])
