"""Audit records as delivered, before they are chained.

The collector writes here like any other kind (idempotent: a redelivered record
has the same eventID and the ReplacingMergeTree folds it); the sealer chains
them into audit_events in delivery order, one writer at a time.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from watchkeeper.storage.schema import Context


def statements(ctx: Context) -> list[str]:
    return [
        "CREATE TABLE IF NOT EXISTS audit_incoming ("
        "origin String, received_at DateTime, batch_created Float64, batch_id String, idx UInt32, "
        "event_id String, record String"
        ") ENGINE = ReplacingMergeTree PARTITION BY toYYYYMM(received_at) ORDER BY (origin, event_id)"
        f"{ctx.ttl('received_at', ctx.retention_days('audit'))}",
    ]
