"""Log events, log groups and log streams.

logs is a ReplacingMergeTree ordered by (log_group, log_stream, host, file_id,
file_offset): the last three are a line's identity, so a line shipped twice (agent
crash before its offset was saved, Kafka redelivery) folds into one row; the
timestamp is not in the key because a line without a parsed timestamp gets its read
time, which differs on a re-read. Exact counts read FINAL. The order is also the
file's own order, which is what makes the table compress: neighbouring lines of one
file sit side by side, offsets and times grow steadily (Delta/DoubleDelta where the
server has codecs). The API's eventId is not stored (8 random bytes a row, 17 % of
what was stored when it was): event_id is an ALIAS, a hash of the identity computed
when read.

Retention is per log group (retention_in_days, 0 = never expire), carried on every
row so the TTL needs no join; servers without TTL (18.16) are pruned by the
retention job. A group's later retention change applies to rows written after it.
Skip indexes (minmax on ts, token bloom filter on message) exist where the server
has them (19.17+).

log_streams keeps one row per stream and hour: the API aggregates min/max across
hours for DescribeLogStreams, while the table stays small.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from watchkeeper.storage.schema import Context

NEVER_EXPIRE_DAYS = 36500


def statements(ctx: Context) -> list[str]:
    caps = ctx.caps
    lc = caps.lc()
    indexes = ""
    if caps.text_skip_index:
        indexes = (", INDEX ts_minmax ts TYPE minmax GRANULARITY 4"
                   ", INDEX message_tokens message TYPE tokenbf_v1(32768, 3, 0) GRANULARITY 4")
    ttl = ""
    if caps.ttl:
        ttl = (f" TTL ts + toIntervalDay(if(retention_in_days = 0, {NEVER_EXPIRE_DAYS}, retention_in_days))")
    return [
        "CREATE TABLE IF NOT EXISTS logs ("
        f"log_group {lc}, log_stream {lc}, host {lc}, file {lc}, file_id {lc}, "
        f"file_offset UInt64{caps.codec('Delta, ZSTD(1)')}, "
        f"ts DateTime{caps.codec('DoubleDelta, ZSTD(1)')}, timestamp_ms Int64{caps.codec('DoubleDelta, ZSTD(1)')}, "
        f"ingestion_ms Int64{caps.codec('DoubleDelta, ZSTD(1)')}, severity {lc}, "
        f"message String{caps.codec('ZSTD(3)')}, retention_in_days UInt16, "
        "event_id UInt64 ALIAS cityHash64(host, file_id, file_offset)"
        f"{indexes}) ENGINE = ReplacingMergeTree PARTITION BY toDate(ts) "
        f"ORDER BY (log_group, log_stream, host, file_id, file_offset){ttl} SETTINGS index_granularity = 8192{ctx.ttl_settings()}",
        "CREATE TABLE IF NOT EXISTS log_groups ("
        "name String, retention_in_days UInt16, created DateTime"
        ") ENGINE = ReplacingMergeTree ORDER BY name",
        "CREATE TABLE IF NOT EXISTS log_streams ("
        f"log_group {lc}, log_stream String, hour DateTime, first_event_ms Int64, last_event_ms Int64, "
        "last_ingestion_ms Int64"
        ") ENGINE = ReplacingMergeTree(last_ingestion_ms) ORDER BY (log_group, log_stream, hour)",
    ]
