"""Rollup tiers read without FINAL: a bucket rolled up twice reads as its newest rollup, and the migration
that gave the tiers their version column leaves old installs identical to fresh ones."""

from __future__ import annotations

from watchkeeper.config.settings import RetentionSettings
from watchkeeper.storage.engine import Engine
from watchkeeper.storage.maintenance import TIERS
from watchkeeper.storage.metrics_query import Tier, fetch_statistics
from watchkeeper.storage.migrations import m0100_metrics, m0101_rollup_versions
from watchkeeper.storage.schema import Context

from tests.watchkeeper.rollup_twice import BASE, HOUR, NEW_1H, NEW_5M, SERIES, roll_up_twice


def _read(engine: Engine, tier: Tier, period: int) -> dict[int, tuple[float, float]]:
    [points] = fetch_statistics(engine, [SERIES], BASE, BASE + HOUR, period, tier=tier).values()
    return {p.timestamp: (p.sample_count, p.sum) for p in points}


def _final(engine: Engine, table: str) -> dict[int, tuple[float, float]]:
    rows = engine.query(f"SELECT toUInt32(ts), count, sum FROM {table} FINAL WHERE fingerprint = {SERIES.fingerprint} "
                        "ORDER BY ts")
    return {int(ts): (float(count), float(total)) for ts, count, total in rows}


def test_a_bucket_rolled_up_twice_reads_as_the_newest_rollup_as_final_would(engine: Engine) -> None:
    roll_up_twice(engine)
    assert _read(engine, Tier.FIVE_MINUTES, 300) == NEW_5M == _final(engine, "metric_samples_5m")
    assert _read(engine, Tier.ONE_HOUR, HOUR) == NEW_1H == _final(engine, "metric_samples_1h")


def test_each_rollup_outranks_the_one_before(engine: Engine) -> None:
    roll_up_twice(engine)
    for tier in TIERS:
        versions = engine.query(f"SELECT version FROM {tier.table} WHERE ts = toDateTime({BASE}) "
                                f"AND fingerprint = {SERIES.fingerprint}")
        assert len({int(v) for (v,) in versions}) == 2, tier.table


def _structure(engine: Engine) -> list[tuple[object, ...]]:
    """Every tier's columns in order (name, type, default) and its engine, keys and settings."""
    found: list[tuple[object, ...]] = []
    for tier in TIERS:
        found += engine.query(
            "SELECT name, type, default_kind, default_expression, is_in_sorting_key FROM system.columns "
            f"WHERE database = currentDatabase() AND table = '{tier.table}'")
        found += engine.query("SELECT engine_full FROM system.tables WHERE database = currentDatabase() "
                              f"AND name = '{tier.table}'")
    return found


def test_tiers_created_before_versions_migrate_to_the_fresh_schema_and_keep_their_rows(engine: Engine) -> None:
    fresh = _structure(engine)
    ctx = Context(engine.capabilities, RetentionSettings(), engine=engine)
    for tier in TIERS:  # back to the tiers as m0100 alone created them, holding a rollup of that time
        engine.command(f"DROP TABLE {tier.table}")
    for statement in m0100_metrics.statements(ctx):
        engine.command(statement)
    for tier in TIERS:
        engine.insert(tier.table, {"namespace": ["CWAgent"], "metric_name": ["swap_used_percent"],
                                   "fingerprint": [SERIES.fingerprint], "ts": [BASE], "count": [2.0], "sum": [8.0],
                                   "min": [3.0], "max": [5.0], "unit": ["Percent"]})
    assert _structure(engine) != fresh
    statements = m0101_rollup_versions.statements(ctx)
    assert statements and all(s.startswith("ALTER TABLE") for s in statements)
    for statement in statements:
        engine.command(statement)
    assert _structure(engine) == fresh
    assert m0101_rollup_versions.statements(ctx) == []  # run again after an interruption: nothing left to do
    assert _read(engine, Tier.FIVE_MINUTES, 300) == {BASE: (2.0, 8.0)}
    assert engine.query("SELECT event_id, version FROM metric_samples_1h") == [(0, 0)]
