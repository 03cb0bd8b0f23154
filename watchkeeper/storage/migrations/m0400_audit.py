"""The audit trail: hash-chained CloudTrail records and the signed hourly digests.

audit_events is a plain MergeTree on purpose: a forged or doubled row must stay
visible to validation instead of being folded away by a merge. The collector
never inserts an eventID twice (it checks before it chains).
"""

from __future__ import annotations

from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from watchkeeper.storage.schema import Context


def statements(ctx: Context) -> list[str]:
    lc = ctx.caps.lc()
    days = ctx.retention_days("audit")
    return [
        "CREATE TABLE IF NOT EXISTS audit_events ("
        "chain String, seq UInt64, event_id String, event_time DateTime, recorded_at DateTime, "
        f"event_source {lc}, event_name {lc}, username String, access_key_id String, read_only UInt8, "
        "resource_types Array(String), resource_names Array(String), "
        "event_hash String, prev_hash String, record String"
        ") ENGINE = MergeTree PARTITION BY toYYYYMM(recorded_at) ORDER BY (chain, seq)"
        f"{ctx.ttl('recorded_at', days)}",
        "CREATE TABLE IF NOT EXISTS audit_digests ("
        "hour DateTime, digest String, digest_hash String, signature String, key_fingerprint String"
        ") ENGINE = MergeTree PARTITION BY toYYYYMM(hour) ORDER BY hour"
        f"{ctx.ttl('hour', days)}",
    ]
