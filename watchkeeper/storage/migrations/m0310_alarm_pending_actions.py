"""Composite alarm actions deferred by ActionsSuppressorWaitPeriod (alarms/pending.py).

One row per deferred transition (name, transition_id); releasing it (sent or suppressed when the wait
ends) is an insert of the same key with released = 1 and a larger version, so an exact read takes
argMax(released, version) per key whatever merges have run, on ClickHouse 18.16 and chdb alike.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from watchkeeper.storage.schema import Context


def statements(ctx: Context) -> list[str]:
    return [
        "CREATE TABLE IF NOT EXISTS alarm_pending_actions ("
        "name String, transition_id UInt64, alarm_since_ms UInt64, suppressor String, wait_period_s UInt32, "
        "released UInt8, version UInt64"
        ") ENGINE = ReplacingMergeTree(version) ORDER BY (name, transition_id)",
    ]
