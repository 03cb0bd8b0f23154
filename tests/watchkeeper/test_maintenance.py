"""Rollups into the 5-minute and 1-hour tiers, and retention where TTL is missing (partition drops, log groups)."""

from __future__ import annotations

import time

from watchkeeper.config.settings import RetentionSettings
from watchkeeper.events import Kind, MetricDatum
from watchkeeper.storage.engine import Engine
from watchkeeper.storage.logs import LogRun
from watchkeeper.storage.logs import to_rows as logs_rows
from watchkeeper.storage.maintenance import drop_expired_partitions, expire_logs, roll_up
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


def _put_logs(engine: Engine, group: str, retention_days: int, ts: int, count: int) -> None:
    run = LogRun(group, "host-1", f"/var/log/{group}.log", f"fe-{group}-{ts}", retention_days, ts * 1000,
                 list(range(0, 10 * count, 10)), [ts * 1000] * count, [f"line {i}" for i in range(count)])
    for table, columns in logs_rows(make_envelope(Kind.LOGS, "a", "host-1", [run.to_item()])).items():
        engine.insert(table, columns)


def _log_counts(engine: Engine) -> dict[tuple[str, int], int]:
    rows = engine.query("SELECT log_group, toUInt32(ts), count() FROM logs FINAL GROUP BY log_group, ts")
    return {(str(group), int(ts)): int(n) for group, ts, n in rows}


def test_log_groups_keep_their_own_retention_where_ttl_is_missing(engine: Engine) -> None:
    now = BASE + 40 * 86_400
    five_days_ago, three_days_ago, recent = now - 5 * 86_400, now - 3 * 86_400, now - 3600
    _put_logs(engine, "short", 1, five_days_ago, 3)  # a day holding only expired rows: the partition goes
    _put_logs(engine, "short", 1, three_days_ago, 4)  # expired, beside rows kept on the same day
    _put_logs(engine, "forever", 0, three_days_ago, 2)
    _put_logs(engine, "long", 30, three_days_ago, 5)
    _put_logs(engine, "short", 1, recent, 6)
    done = expire_logs(engine, now=now)
    if engine.capabilities.ttl:
        assert done == []  # the table's TTL does it on modern servers
        return
    assert [entry.split(" ", 1)[1] for entry in done] == ["dropped", "4 expired rows deleted"]
    for _ in range(300):  # the DELETE is a mutation: the server applies it in the background
        if not engine.query("SELECT count() FROM system.mutations "
                            "WHERE database = currentDatabase() AND table = 'logs' AND is_done = 0")[0][0]:
            break
        time.sleep(0.1)
    assert _log_counts(engine) == {("forever", three_days_ago): 2, ("long", three_days_ago): 5,
                                   ("short", recent): 6}
    assert expire_logs(engine, now=now) == []  # nothing left to expire
