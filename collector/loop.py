"""The collector loop: records in, rows per table out, offsets committed only behind the inserts.

Delivery is at least once: a position is committed only after every insert
carrying its rows succeeded, so a crash anywhere redelivers, never loses.
Redelivered rows carry the same event ids (derived from batch id and item
index) and the tables are ReplacingMergeTrees read FINAL, so they count once.
Inserts run on a thread of their own (insert_thread.py), one at a time and in
sealing order, while this loop converts the next batch. See docs/collector.md.
"""

from __future__ import annotations

import contextvars
import logging
import threading
import time
from collections import Counter, deque
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from collector.buffers import Batch, TableBuffers
from collector.deadletter import DeadLetters
from collector.insert_thread import InsertThread
from collector.ledger import CommitLedger
from collector.source import Record, Source
from collector.writers import rows_for
from watchkeeper.config.settings import CollectorSettings
from watchkeeper.errors import StorageError, WireError
from watchkeeper.storage.engine import Engine
from watchkeeper.storage.metrics import remember_series
from watchkeeper.wire import decode

log = logging.getLogger(__name__)

# Short enough that a stop request or a due buffer is noticed promptly.
_MAX_POLL_S = 0.5
# While an insert is in flight a poll finding nothing returns this soon, so the insert's end
# (settling its records, allowing their commit, starting the next insert) is noticed promptly.
_POLL_WHILE_INSERTING_S = 0.02
_FIRST_BACKOFF_S = 0.5


@dataclass
class CollectorStats:
    records: int = 0
    dead_lettered: int = 0
    inserts: int = 0
    insert_errors: int = 0
    commits: int = 0
    rows_inserted: dict[str, int] = field(default_factory=dict)
    last_insert_error: str | None = None


class Collector:
    """Drives one source into one engine. `run()` blocks until `stop()` (any thread or a signal)."""

    def __init__(self, source: Source, engine: Engine, dead_letters: DeadLetters, settings: CollectorSettings,
                 after_insert: Callable[[Batch], None] | None = None) -> None:
        """after_insert runs after each successful insert, before any commit it allows (fault tests use it)."""
        self._source = source
        self._engine = engine
        self._dead_letters = dead_letters
        self._settings = settings
        self._after_insert = after_insert
        self._buffers = TableBuffers(settings.max_rows, settings.max_age_s)
        self._ledger = CommitLedger()
        # Sealed batches in insert order; the first is the one in flight while the insert thread is busy.
        self._sealed: deque[Batch] = deque()
        self._inserts = InsertThread(engine)
        self._stopping = threading.Event()
        self._backoff_s = 0.0
        self._retry_at: float | None = None
        self._stats = CollectorStats()
        # Records convert in a context of this collector's own, where the metrics writer remembers
        # the series it already wrote (to this engine) instead of rewriting them every envelope.
        self._convert_context = contextvars.copy_context()
        self._convert_context.run(remember_series)

    def run(self) -> None:
        try:
            while not self._stopping.is_set():
                self.step()
            self._drain()
        finally:
            self._inserts.close()
            self._source.close()
            self._dead_letters.close()

    def stop(self) -> None:
        self._stopping.set()

    def step(self) -> None:
        """One round: poll, convert, hand what is due to the insert thread (or retry), commit what is stored."""
        records = self._source.poll(self._poll_timeout())
        # A rebalance happens inside poll, before its records: forget the old positions first.
        self._ledger.forget(self._source.take_revoked())
        if records:
            log.debug("polled %d records", len(records))
        # A poll may bring the whole backlog (hundreds of records, a million rows): buffers are
        # sealed and handed over as they fill, so the first insert runs while the rest converts.
        for record in records:
            self._accept(record)
            self._insert_due()
        self._insert_due()
        self._commit()

    def _insert_due(self) -> None:
        self._sealed.extend(self._buffers.seal_due(time.monotonic()))
        self._advance_inserts(drain=False)

    def stats(self) -> dict[str, Any]:
        return {
            "records": self._stats.records,
            "dead_lettered": self._stats.dead_lettered,
            "inserts": self._stats.inserts,
            "insert_errors": self._stats.insert_errors,
            "last_insert_error": self._stats.last_insert_error,
            "rows_inserted": dict(self._stats.rows_inserted),
            "commits": self._stats.commits,
            "rows_buffered": self._buffers.rows() + sum(batch.rows for batch in self._sealed),
            "records_uncommitted": self._ledger.waiting(),
            "storage_blocked": self._retry_at is not None,
            "streams_owned": sorted(f"{topic}[{partition}]" for topic, partition in self._source.owned()),
            "lag": self._source.lag(),
        }

    def _poll_timeout(self) -> float:
        now = time.monotonic()
        if self._inserts.busy:
            return _POLL_WHILE_INSERTING_S
        if self._retry_at is not None:
            return min(_MAX_POLL_S, max(0.0, self._retry_at - now))
        due_in = self._buffers.next_due_in(now)
        return _MAX_POLL_S if due_in is None else min(_MAX_POLL_S, due_in)

    def _accept(self, record: Record) -> None:
        self._stats.records += 1
        try:
            if record.defect is not None:
                raise WireError(record.defect)
            tables = self._convert_context.run(rows_for, decode(record.payload))
        except WireError as error:
            reason = str(error)
            log.warning("dead-lettering %s: %s", record.origin(), reason)
            self._dead_letters.send(record, reason)
            self._stats.dead_lettered += 1
            self._ledger.track(record, ())
            return
        filled = {table: columns for table, columns in tables.items() if len(next(iter(columns.values()), ()))}
        pending = self._ledger.track(record, filled)
        now = time.monotonic()
        for table, columns in filled.items():
            self._buffers.add(table, columns, pending, now)

    def _advance_inserts(self, drain: bool) -> None:
        """Settle the insert that ended, then hand the next sealed batch to the insert thread.

        The loop waits for the insert in flight only when a table has another batch sealed
        behind it: memory then holds at most one batch inserting and one waiting per table.
        With drain, every sealed batch is inserted before returning, one attempt each.
        """
        while True:
            finished = self._inserts.take_finished(wait=drain or self._backlogged())
            if finished is not None:
                self._settle(*finished)
            if self._inserts.busy or not self._sealed or self._backing_off():
                return
            self._inserts.start(self._sealed[0])
            if not drain:
                return

    def _backlogged(self) -> bool:
        return self._inserts.busy and max(Counter(batch.table for batch in self._sealed).values(), default=0) > 1

    def _backing_off(self) -> bool:
        return self._retry_at is not None and time.monotonic() < self._retry_at

    def _settle(self, batch: Batch, error: StorageError | None) -> None:
        """The outcome of batch's insert: on success its records may be committed; on failure it stays first."""
        if error is not None:
            self._storage_failed(batch, error)
            return
        self._sealed.popleft()
        batch.settle()
        self._stats.inserts += 1
        self._stats.rows_inserted[batch.table] = self._stats.rows_inserted.get(batch.table, 0) + batch.rows
        if self._after_insert is not None:
            self._after_insert(batch)
        if self._retry_at is not None:
            log.info("ClickHouse accepts inserts again; resuming consumption")
            self._retry_at = None
            self._backoff_s = 0.0
            self._source.resume()

    def _storage_failed(self, batch: Batch, error: StorageError) -> None:
        self._stats.insert_errors += 1
        self._stats.last_insert_error = str(error)
        self._backoff_s = min(self._settings.retry_max_s, max(_FIRST_BACKOFF_S, self._backoff_s * 2))
        self._retry_at = time.monotonic() + self._backoff_s
        log.warning("insert of %d rows into %s failed (%s); pausing consumption, retrying in %.1fs",
                    batch.rows, batch.table, error, self._backoff_s)
        self._source.pause()

    def _commit(self) -> None:
        through = self._ledger.committable()
        if through:
            self._source.commit(through)
            self._stats.commits += 1

    def _drain(self) -> None:
        """On stop: insert everything held (one attempt) and commit what that covers."""
        self._sealed.extend(self._buffers.seal_all())
        self._retry_at = None
        self._advance_inserts(drain=True)
        if self._sealed:
            log.warning("stopping with %d rows not inserted; their records stay uncommitted and will be "
                        "delivered again", sum(batch.rows for batch in self._sealed))
        self._commit()
