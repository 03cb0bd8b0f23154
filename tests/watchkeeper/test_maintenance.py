"""Rollups into the 5-minute and 1-hour tiers, and retention by partition drops where TTL is missing."""

from __future__ import annotations

from watchkeeper.config.settings import RetentionSettings
from watchkeeper.events import Kind, MetricDatum
from watchkeeper.storage.engine import Engine
from watchkeeper.storage.maintenance import drop_expired_partitions, roll_up
from watchkeeper.storage.metrics import write_metrics
from watchkeeper.wire import make_envelope

HOUR = 3600
BASE = 1_795_000_000 // HOUR * HOUR


def _put(engine: Engine, values: list[tuple[int, float]]) -> None:
    items = [MetricDatum.single("App", "latency", (("host", "a"),), ts, v, "Milliseconds").to_item()
             for ts, v in values]
    envelope = make_envelope(Kind.METRICS, "a", "a", items)
    write_metrics(engine, [(envelope.batch_id, envelope.items)])


def _tier(engine: Engine, table: str) -> list[tuple[int, float, float, float, float]]:
    rows = engine.query(f"SELECT toUInt32(ts), count, sum, min, max FROM {table} FINAL ORDER BY ts")
    return [(int(t), float(c), float(s), float(lo), float(hi)) for t, c, s, lo, hi in rows]


def test_rollups_aggregate_closed_buckets_and_redo_them_after_late_data(engine: Engine) -> None:
    _put(engine, [(BASE + 60 * i, float(i)) for i in range(10)])  # two 5-minute buckets
    roll_up(engine, now=BASE + HOUR + 10)
    assert _tier(engine, "metric_samples_5m") == [(BASE, 5, 10, 0, 4), (BASE + 300, 5, 35, 5, 9)]
    assert _tier(engine, "metric_samples_1h") == [(BASE, 10, 45, 0, 9)]
    _put(engine, [(BASE + 30, 100.0)])  # late data for the first bucket
    roll_up(engine, now=BASE + HOUR + 20)
    roll_up(engine, now=BASE + HOUR + 30)  # running again changes nothing
    assert _tier(engine, "metric_samples_5m")[0] == (BASE, 6, 110, 0, 100)
    assert _tier(engine, "metric_samples_1h") == [(BASE, 11, 145, 0, 100)]


def test_open_bucket_is_not_rolled_up(engine: Engine) -> None:
    _put(engine, [(BASE + 10, 1.0)])
    roll_up(engine, now=BASE + 100)
    assert _tier(engine, "metric_samples_5m") == []


def test_partitions_past_retention_are_dropped_where_ttl_is_missing(engine: Engine) -> None:
    now = BASE + 40 * 86_400
    _put(engine, [(BASE, 1.0), (now - 3600, 2.0)])
    dropped = drop_expired_partitions(engine, RetentionSettings(metrics_days=15), 90, now=now)
    remaining = engine.query("SELECT toUInt32(ts) FROM metric_samples ORDER BY ts")
    if engine.capabilities.ttl:
        assert dropped == []  # TTL does it on modern servers
    else:
        assert len(dropped) == 1 and dropped[0].startswith("metric_samples:")
        assert [int(r[0]) for r in remaining] == [now - 3600]
