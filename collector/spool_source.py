"""Records from the local spool, for `watchkeeper up` (no Kafka): acked once inserted.

Spool entries are `wire.frame(kind, key, envelope)`; the sequence number is the
offset of a single stream. An entry whose frame is malformed is delivered with
a defect so the collector dead-letters it instead of stopping.
"""

from __future__ import annotations

import time
from typing import Protocol

from collector.source import Record, Stream
from watchkeeper.errors import WireError
from watchkeeper.wire import unframe

SPOOL_TOPIC = "spool"


class SpoolReader(Protocol):
    """The part of watchkeeper.transport.spool.Spool the collector uses."""

    def read(self, max_entries: int, max_bytes: int, timeout: float) -> list[tuple[int, bytes]]: ...

    def ack(self, through: int) -> None: ...


class SpoolSource:
    def __init__(self, spool: SpoolReader, max_records: int, max_bytes: int) -> None:
        self._spool = spool
        self._max_records = max_records
        self._max_bytes = max_bytes
        self._paused = False

    def poll(self, timeout_s: float) -> list[Record]:
        if self._paused:
            time.sleep(timeout_s)
            return []
        return [_record(seq, entry) for seq, entry in self._spool.read(self._max_records, self._max_bytes, timeout_s)]

    def commit(self, through: dict[Stream, int]) -> None:
        offset = through.get((SPOOL_TOPIC, 0))
        if offset is not None:
            self._spool.ack(offset)

    def pause(self) -> None:
        self._paused = True

    def resume(self) -> None:
        self._paused = False

    def take_revoked(self) -> set[Stream]:
        return set()  # one process owns the spool: nothing is ever taken away

    def owned(self) -> set[Stream]:
        return {(SPOOL_TOPIC, 0)}

    def lag(self) -> int | None:
        return None

    def close(self) -> None:
        """The spool belongs to `up`, which closes it after the agent and the collector stop."""


def _record(seq: int, entry: bytes) -> Record:
    try:
        _kind, key, payload = unframe(entry)
    except WireError as error:
        return Record(entry, None, SPOOL_TOPIC, 0, seq, defect=str(error))
    return Record(payload, key.encode(), SPOOL_TOPIC, 0, seq)
