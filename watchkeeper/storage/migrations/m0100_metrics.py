"""Metric series and samples, plus the 5-minute and 1-hour rollup tiers.

Samples are keyed by a series fingerprint (labels live once in metric_series),
which keeps the hot insert numeric. Samples are a ReplacingMergeTree on
(series, ts, event_id): a batch delivered twice carries the same event ids, and
exact queries read FINAL, so redelivery is never counted twice.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from watchkeeper.storage.schema import Context


def statements(ctx: Context) -> list[str]:
    caps = ctx.caps
    lc = caps.lc()
    samples_columns = (
        f"namespace {lc}, metric_name {lc}, fingerprint UInt64, "
        f"ts DateTime{caps.codec('DoubleDelta, ZSTD(1)')}, "
        f"count Float64, sum Float64{caps.codec('Gorilla, ZSTD(1)')}, "
        f"min Float64{caps.codec('Gorilla, ZSTD(1)')}, max Float64{caps.codec('Gorilla, ZSTD(1)')}, "
        f"unit {lc}"
    )
    out = [
        "CREATE TABLE IF NOT EXISTS metric_series ("
        f"namespace {lc}, metric_name {lc}, fingerprint UInt64, "
        "dim_names Array(String), dim_values Array(String), last_seen DateTime"
        ") ENGINE = ReplacingMergeTree(last_seen) ORDER BY (namespace, metric_name, fingerprint)",
        f"CREATE TABLE IF NOT EXISTS metric_samples ({samples_columns}, resolution UInt16, event_id UInt64, "
        # version: 0 for data as sent; a recomputed datapoint (metric filters) carries a higher one so it
        # replaces what it recomputes, both under FINAL and in the GROUP BY fold of metrics_query.
        "version UInt64 DEFAULT 0"
        ") ENGINE = ReplacingMergeTree(version) PARTITION BY toDate(ts) "
        "ORDER BY (namespace, metric_name, fingerprint, ts, event_id)"
        f"{ctx.ttl('ts', ctx.retention.metrics_days)} SETTINGS index_granularity = 8192{ctx.ttl_settings()}",
    ]
    for tier, days in (("5m", ctx.retention.metrics_5m_days), ("1h", ctx.retention.metrics_1h_days)):
        out.append(
            f"CREATE TABLE IF NOT EXISTS metric_samples_{tier} ({samples_columns}"
            ") ENGINE = ReplacingMergeTree PARTITION BY toYYYYMM(ts) "
            "ORDER BY (namespace, metric_name, fingerprint, ts)"
            f"{ctx.ttl('ts', days)} SETTINGS index_granularity = 8192{ctx.ttl_settings()}"
        )
    return out
