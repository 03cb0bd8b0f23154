"""Alarm definitions, state, history, notification bookkeeping, silences and the evaluator lease.

Definitions, state and silences are ReplacingMergeTree tables with a version
column: an update is a plain insert of the whole row, and exact reads take
argMax(column, version) per key, so a read never depends on merges having run.
History and the bookkeeping tables only ever grow (MergeTree). Times are
milliseconds since the epoch (UInt64): AWS reports alarm times to the
millisecond and DateTime64 does not exist on 18.16.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from watchkeeper.storage.schema import Context


def statements(ctx: Context) -> list[str]:
    lc = ctx.caps.lc()
    return [
        "CREATE TABLE IF NOT EXISTS alarm_definitions ("
        f"name String, kind {lc}, definition String, updated_ms UInt64, deleted UInt8, version UInt64"
        ") ENGINE = ReplacingMergeTree(version) ORDER BY name",
        "CREATE TABLE IF NOT EXISTS alarm_state ("
        f"name String, state_value {lc}, previous_value {lc}, reason String, reason_data String, "
        "updated_ms UInt64, transitioned_ms UInt64, transition_id UInt64, version UInt64"
        ") ENGINE = ReplacingMergeTree(version) ORDER BY name",
        "CREATE TABLE IF NOT EXISTS alarm_history ("
        f"name String, timestamp_ms UInt64, item_type {lc}, summary String, data String, item_id String"
        ") ENGINE = MergeTree PARTITION BY toYYYYMM(toDateTime(intDiv(timestamp_ms, 1000))) "
        "ORDER BY (name, timestamp_ms, item_id)",
        # One row per transition whose actions were all delivered (or given up on): a restarted
        # evaluator re-queues only the transitions missing here.
        "CREATE TABLE IF NOT EXISTS alarm_actions_done ("
        "name String, transition_id UInt64, done_ms UInt64"
        ") ENGINE = MergeTree ORDER BY (name, transition_id)",
        "CREATE TABLE IF NOT EXISTS alarm_silences ("
        "silence_id String, matcher_type String, matcher_value String, starts_ms UInt64, ends_ms UInt64, "
        "comment String, created_by String, created_ms UInt64, version UInt64"
        ") ENGINE = ReplacingMergeTree(version) ORDER BY silence_id",
        "CREATE TABLE IF NOT EXISTS alarm_leases ("
        "lease String, term UInt64, holder String, expires_ms UInt64"
        ") ENGINE = MergeTree ORDER BY (lease, term, holder)",
    ]
