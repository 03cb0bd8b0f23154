"""Background upkeep of stored data: rollups into the CloudWatch tiers, and retention where TTL is missing.

Rollups are recomputed from the deduplicated raw samples (FINAL) for whole
buckets and written into ReplacingMergeTree tables keyed by bucket, so running
them twice, from two collectors, or again after late data arrived, replaces a
bucket instead of adding to it. Each insert is stamped with its own version (the
rollup's wall-clock time in microseconds), so until a merge folds them, readers keep
the newest rollup of a bucket by argMax(column, version) without FINAL
(migrations/m0101_rollup_versions.py). Each run redoes the recent buckets (late
data) and catches up from the newest stored bucket (downtime).
"""

from __future__ import annotations

import logging
import time
from dataclasses import dataclass

from watchkeeper.config.settings import RetentionSettings, Settings
from watchkeeper.storage.engine import Engine

log = logging.getLogger(__name__)

DAY = 86_400


@dataclass(frozen=True)
class Tier:
    table: str
    seconds: int
    redo_s: int


TIERS = (Tier("metric_samples_5m", 300, 3600), Tier("metric_samples_1h", 3600, 3 * 3600))
ROLLUP_COLUMNS = "namespace, metric_name, fingerprint, ts, count, sum, min, max, unit, version"


def _newest_bucket(engine: Engine, tier: Tier) -> int | None:
    rows = engine.query(f"SELECT toUInt32(max(ts)), count() FROM {tier.table}")
    return int(rows[0][0]) if rows and int(rows[0][1]) else None


def _oldest_raw(engine: Engine) -> int | None:
    rows = engine.query("SELECT toUInt32(min(ts)), count() FROM metric_samples")
    return int(rows[0][0]) if rows and int(rows[0][1]) else None


def roll_up(engine: Engine, now: float | None = None) -> dict[str, int]:
    """Recompute every closed bucket that may have changed; return buckets-range width written per tier."""
    moment = int(time.time() if now is None else now)
    # The real clock, not `now`: a later rollup must outrank an earlier one whatever time it was asked about.
    version = time.time_ns() // 1000
    written = {}
    for tier in TIERS:
        end = moment // tier.seconds * tier.seconds  # the current bucket is still open
        newest = _newest_bucket(engine, tier)
        start = _oldest_raw(engine) if newest is None else min(newest, end - tier.redo_s)
        if start is None or start >= end:
            continue
        start = start // tier.seconds * tier.seconds
        bucket = engine.capabilities.bucket("ts", tier.seconds)
        engine.command(
            f"INSERT INTO {tier.table} ({ROLLUP_COLUMNS}) "
            f"SELECT namespace, metric_name, fingerprint, {bucket} AS bucket, sum(count), sum(sum), min(min), "
            f"max(max), any(unit), {version} FROM metric_samples FINAL "
            f"WHERE ts >= toDateTime({start}) AND ts < toDateTime({end}) "
            "GROUP BY namespace, metric_name, fingerprint, bucket"
        )
        written[tier.table] = (end - start) // tier.seconds
    return written


# Tables whose partitions are days (toDate) or months (toYYYYMM), with their retention.
def _retained(retention: RetentionSettings, audit_days: int) -> dict[str, int]:
    return {
        "metric_samples": retention.metrics_days,
        "metric_samples_5m": retention.metrics_5m_days,
        "metric_samples_1h": retention.metrics_1h_days,
        "audit_events": audit_days,
        "audit_digests": audit_days,
        "audit_incoming": audit_days,
    }


def drop_expired_partitions(engine: Engine, retention: RetentionSettings, audit_days: int,
                            extra: dict[str, int] | None = None, now: float | None = None) -> list[str]:
    """On servers without TTL, drop whole partitions older than each table's retention.

    A partition is dropped only when its newest row (max_time of its parts) is past retention, so nothing
    younger than the retention is ever lost (old data may outlive it by up to a partition).
    """
    if engine.capabilities.ttl:
        return []
    moment = int(time.time() if now is None else now)
    dropped = []
    for table, days in {**_retained(retention, audit_days), **(extra or {})}.items():
        rows = engine.query(
            "SELECT partition_id, toUInt32(max(max_time)) FROM system.parts "
            f"WHERE database = currentDatabase() AND table = '{table}' AND active GROUP BY partition_id"
        )
        for partition, newest in rows:
            if int(newest) < moment - days * DAY:
                engine.command(f"ALTER TABLE {table} DROP PARTITION ID '{partition}'")
                dropped.append(f"{table}:{partition}")
    if dropped:
        log.info("retention dropped partitions %s", ", ".join(dropped))
    return dropped


def expire_logs(engine: Engine, now: float | None = None) -> list[str]:
    """Each log group's retention (retention_in_days on every row, 0 = never) on servers without TTL.

    A day partition whose every row is past its group's retention is dropped; one that still holds rows to
    keep loses its expired rows by a mutation (ALTER TABLE ... DELETE), issued only while no mutation of the
    table is pending, so rounds that come faster than the server rewrites parts do not stack work on it.
    """
    if engine.capabilities.ttl:
        return []
    moment = int(time.time() if now is None else now)
    expired = f"retention_in_days > 0 AND toUInt32(ts) + retention_in_days * {DAY} < {moment}"
    days = engine.query(  # retention is at least a day: younger rows cannot be expired
        f"SELECT toString(toDate(ts)) AS day, countIf({expired}) AS gone, count() FROM logs "
        f"WHERE ts < toDateTime({moment - DAY}) GROUP BY day HAVING gone > 0 ORDER BY day")
    pending = engine.query("SELECT count() FROM system.mutations "
                           "WHERE database = currentDatabase() AND table = 'logs' AND is_done = 0")[0][0]
    done = []
    for day, gone, total in days:
        partition = str(day).replace("-", "")
        if gone == total:
            engine.command(f"ALTER TABLE logs DROP PARTITION ID '{partition}'")
            done.append(f"logs:{partition} dropped")
        elif not pending:
            engine.command(f"ALTER TABLE logs DELETE WHERE toDate(ts) = toDate('{day}') AND {expired}")
            done.append(f"logs:{partition} {gone} expired rows deleted")
    if done:
        log.info("log retention: %s", ", ".join(done))
    return done


def maintain(engine: Engine, settings: Settings) -> None:
    """One round of upkeep: roll up, then remove what is past retention (where TTL is missing)."""
    roll_up(engine)
    drop_expired_partitions(engine, settings.retention, settings.audit.retention_days)
    expire_logs(engine)
