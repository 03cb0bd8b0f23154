"""Reads of the logs tables: FilterLogEvents, DescribeLogGroups and DescribeLogStreams.

FilterLogEvents pushes the filter pattern down (logfilter.to_sql). An exact
condition is the answer; a prefilter is followed by the in-process matcher, so
events are read in chunks until `limit` of them match, the range ends, or a scan
budget is spent (then, as AWS does, the page is short, even empty, and carries
a token). Pages are keyset-paginated on (timestamp_ms, event_id), the order of
the answer, so a token resumes exactly after the last event returned: nothing
twice, nothing skipped, whatever was post-filtered. Reads are FINAL, so a line
stored twice is returned once.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from watchkeeper.logfilter import CompiledPattern, to_sql
from watchkeeper.storage.engine import Engine
from watchkeeper.storage.sql import in_list, quote

# Rows read per query while post-filtering, and rows one request may scan before it returns a token.
CHUNK_ROWS = 5000
SCAN_BUDGET_ROWS = 200_000

Key = tuple[int, int]


@dataclass(frozen=True)
class LogEvent:
    log_stream: str
    timestamp_ms: int
    message: str
    ingestion_ms: int
    event_id: int

    @property
    def key(self) -> Key:
        return (self.timestamp_ms, self.event_id)


@dataclass(frozen=True)
class EventQuery:
    """Which events: one group, optionally some streams (by name or prefix) and a time range (inclusive, ms)."""

    log_group: str
    pattern: CompiledPattern
    stream_names: Sequence[str] = ()
    stream_prefix: str | None = None
    start_ms: int | None = None
    end_ms: int | None = None


@dataclass(frozen=True)
class EventPage:
    events: list[LogEvent]
    # Where the next page starts (exclusive), or None when the range is exhausted.
    resume_after: Key | None


def _stream_conditions(query: EventQuery) -> list[str]:
    conditions = [f"log_group = {quote(query.log_group)}"]
    if query.stream_names:
        conditions.append(f"log_stream IN {in_list(query.stream_names)}")
    if query.stream_prefix:
        conditions.append(f"startsWith(log_stream, {quote(query.stream_prefix)})")
    return conditions


def _range_conditions(query: EventQuery, after: Key | None) -> list[str]:
    conditions = []
    # ts (seconds, the partition key) narrows the parts read; timestamp_ms is the exact bound.
    if query.start_ms is not None:
        conditions += [f"ts >= toDateTime({max(0, query.start_ms // 1000)})", f"timestamp_ms >= {query.start_ms}"]
    if query.end_ms is not None:
        conditions += [f"ts <= toDateTime({max(0, query.end_ms // 1000)})", f"timestamp_ms <= {query.end_ms}"]
    if after is not None:
        conditions.append(f"ts >= toDateTime({max(0, after[0] // 1000)})")
        conditions.append(f"(timestamp_ms > {after[0]} OR (timestamp_ms = {after[0]} AND event_id > {after[1]}))")
    return conditions


def filter_events(engine: Engine, query: EventQuery, limit: int, after: Key | None = None) -> EventPage:
    """Up to limit matching events after `after`, ascending by (timestamp, event id)."""
    sql = to_sql(query.pattern.tree, engine.capabilities)
    # One row beyond the page tells whether another page exists.
    chunk = limit + 1 if sql.exact else max(CHUNK_ROWS, limit + 1)
    found: list[LogEvent] = []
    scanned = 0
    cursor = after
    while True:
        where = " AND ".join([*_stream_conditions(query), *_range_conditions(query, cursor), f"({sql.condition})"])
        rows = engine.query(
            "SELECT log_stream, timestamp_ms, message, ingestion_ms, event_id FROM logs FINAL "
            f"WHERE {where} ORDER BY timestamp_ms, event_id LIMIT {chunk}"
        )
        events = [LogEvent(str(s), int(t), str(m), int(i), int(e)) for s, t, m, i, e in rows]
        scanned += len(events)
        found.extend(e for e in events if sql.exact or query.pattern.matches(e.message))
        if len(found) > limit:
            return EventPage(found[:limit], found[limit - 1].key)
        if len(events) < chunk:
            return EventPage(found, None)
        cursor = events[-1].key
        if scanned >= SCAN_BUDGET_ROWS:
            # Nothing between the last returned event and cursor matched: resume at cursor.
            return EventPage(found, cursor)


def searched_streams(engine: Engine, query: EventQuery) -> list[str]:
    """The streams a query covers (FilterLogEvents' searchedLogStreams)."""
    rows = engine.query(f"SELECT DISTINCT log_stream FROM log_streams WHERE {' AND '.join(_stream_conditions(query))} "
                        "ORDER BY log_stream")
    return [str(row[0]) for row in rows]


@dataclass(frozen=True)
class LogGroupInfo:
    name: str
    creation_ms: int
    retention_in_days: int
    stored_bytes: int


def describe_groups(engine: Engine, prefix: str | None, offset: int, limit: int) -> list[LogGroupInfo]:
    """Log groups by name: those declared (log_groups) and those only seen in streams; one page."""
    condition = f"startsWith(name, {quote(prefix)})" if prefix else "1"
    rows = engine.query(
        "SELECT name, toUInt32(min(created)), argMax(retention_in_days, created) FROM ("
        "SELECT name, created, retention_in_days FROM log_groups UNION ALL "
        "SELECT log_group AS name, min(hour) AS created, toUInt16(0) AS retention_in_days "
        "FROM log_streams GROUP BY log_group"
        f") WHERE {condition} GROUP BY name ORDER BY name LIMIT {int(offset)}, {int(limit)}"
    )
    names = [str(row[0]) for row in rows]
    stored: dict[str, int] = {str(group): int(size) for group, size in engine.query(
        f"SELECT log_group, sum(length(message)) FROM logs FINAL WHERE log_group IN {in_list(names)} GROUP BY log_group"
    )} if names else {}
    return [LogGroupInfo(str(name), int(created) * 1000, int(retention), stored.get(str(name), 0))
            for name, created, retention in rows]


def group_exists(engine: Engine, name: str) -> bool:
    return any(group.name == name for group in describe_groups(engine, name, 0, 1))


@dataclass(frozen=True)
class LogStreamInfo:
    name: str
    creation_ms: int
    first_event_ms: int
    last_event_ms: int
    last_ingestion_ms: int


def describe_streams(engine: Engine, log_group: str, prefix: str | None, by_last_event: bool, descending: bool,
                     offset: int, limit: int) -> list[LogStreamInfo]:
    """A group's streams ordered by name or by last event time; one page."""
    condition = f" AND startsWith(log_stream, {quote(prefix)})" if prefix else ""
    direction = "DESC" if descending else "ASC"
    order = f"last_event {direction}, log_stream {direction}" if by_last_event else f"log_stream {direction}"
    rows = engine.query(
        "SELECT log_stream, toUInt32(min(hour)), min(first_event_ms), max(last_event_ms) AS last_event, "
        f"max(last_ingestion_ms) FROM log_streams WHERE log_group = {quote(log_group)}{condition} "
        f"GROUP BY log_stream ORDER BY {order} LIMIT {int(offset)}, {int(limit)}"
    )
    return [LogStreamInfo(str(name), int(created) * 1000, int(first), int(last), int(ingested))
            for name, created, first, last, ingested in rows]
