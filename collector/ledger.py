"""Which source positions may be committed: those whose rows are all inserted.

A record's rows may wait in several table buffers, and tables flush at
different times. Each record is tracked with the set of tables still holding
its rows; a stream's commit point advances over the longest prefix of records
with nothing left pending, so a commit never covers a row not yet in ClickHouse.
"""

from __future__ import annotations

from collections import deque
from collections.abc import Iterable
from dataclasses import dataclass, field

from collector.source import Record, Stream


@dataclass(eq=False, slots=True)
class Pending:
    """One record's place in its stream and the tables whose inserts it still waits for."""

    offset: int
    tables: set[str] = field(default_factory=set)

    def settle(self, table: str) -> None:
        self.tables.discard(table)


class CommitLedger:
    def __init__(self) -> None:
        self._streams: dict[Stream, deque[Pending]] = {}

    def track(self, record: Record, tables: Iterable[str]) -> Pending:
        """Start tracking a record whose rows go to these tables (none: committable at once)."""
        pending = Pending(record.offset, set(tables))
        self._streams.setdefault(record.stream, deque()).append(pending)
        return pending

    def committable(self) -> dict[Stream, int]:
        """The last fully stored offset of each stream that advanced since the previous call."""
        through: dict[Stream, int] = {}
        for stream, queue in self._streams.items():
            while queue and not queue[0].tables:
                through[stream] = queue.popleft().offset
        return through

    def forget(self, streams: Iterable[Stream]) -> None:
        """Drop streams this process no longer owns: their records are redelivered to the new owner."""
        for stream in streams:
            self._streams.pop(stream, None)

    def waiting(self) -> int:
        """Records delivered but not yet committable."""
        return sum(len(queue) for queue in self._streams.values())
