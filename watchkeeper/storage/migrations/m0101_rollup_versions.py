"""Rollup tiers get the raw samples' event_id and version columns, so every tier is read by one fold.

A tier row is a whole bucket recomputed by maintenance.roll_up; a newer rollup of
the same bucket replaces the older one. Until a merge folds them both rows exist,
and reading FINAL to pick the newer one cost seconds over 30 days of the 1-hour
tier on 18.16. With version (the rollup time, written by roll_up) readers fold by
GROUP BY fingerprint, ts, event_id keeping argMax(column, version), as they read raw
samples: same rows as FINAL, without FINAL's merge of whole partitions. event_id is
always 0 in a tier (a bucket, not a delivery); it is there so the fold's key is the
same on every tier, since a dashboard's SQL names its table through a variable.

The tiers stay ReplacingMergeTree without a version parameter: an engine's parameters
cannot be changed by ALTER (18.16 has no MODIFY ENGINE; a rebuild would copy every
tier), and fresh installs must match migrated ones. Merges (and FINAL) keep the last
inserted row, which is also the highest version, since roll_up stamps each insert with
its own time; only two roll_ups racing could commit out of stamp order, and both computed
the bucket from the same raw rows moments apart.
Rows rolled up before this migration carry version 0: reads of such a bucket with two
unmerged rows pick either until the next rollup of it or a merge.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from watchkeeper.storage.schema import Context

ROLLUP_TABLES = ("metric_samples_5m", "metric_samples_1h")
# 18.16 has no ADD COLUMN IF NOT EXISTS: each column is added only when missing (Context.has_column).
ADDED_COLUMNS = (("event_id", "UInt64 DEFAULT 0"), ("version", "UInt64 DEFAULT 0"))


def statements(ctx: Context) -> list[str]:
    out = []
    for table in ROLLUP_TABLES:
        missing = [f"ADD COLUMN {name} {kind}" for name, kind in ADDED_COLUMNS if not ctx.has_column(table, name)]
        if missing:
            out.append(f"ALTER TABLE {table} {', '.join(missing)}")
    return out
