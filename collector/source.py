"""What the collector reads from: a stream of records with positions it commits after storing them.

Kafka and the local spool both look like this. A position is (stream, offset)
where a stream is one ordered sequence (a Kafka topic-partition, or the spool);
committing offset N of a stream means every record up to and including N is
stored and must not be delivered again.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Protocol

Stream = tuple[str, int]


@dataclass(frozen=True, slots=True)
class Record:
    """One delivered batch: the envelope bytes and where they came from.

    `defect` is set when the source itself could not unwrap the entry (a
    malformed spool frame): the record then goes straight to the dead letters.
    """

    payload: bytes
    key: bytes | None
    topic: str
    partition: int
    offset: int
    defect: str | None = None

    @property
    def stream(self) -> Stream:
        return (self.topic, self.partition)

    def origin(self) -> str:
        return f"{self.topic}[{self.partition}]@{self.offset}"


class Source(Protocol):
    """Where records come from. Not thread-safe: one collector loop drives it."""

    def poll(self, timeout_s: float) -> list[Record]:
        """Records delivered since the last poll; waits up to timeout_s when there are none."""

    def commit(self, through: dict[Stream, int]) -> None:
        """Mark every record up to and including through[stream] as stored."""

    def pause(self) -> None:
        """Stop delivering records (storage is down) while staying a live member of its group."""

    def resume(self) -> None:
        """Deliver records again."""

    def take_revoked(self) -> set[Stream]:
        """Streams taken away since the last call (a rebalance); their uncommitted records go elsewhere."""

    def owned(self) -> set[Stream]:
        """The streams this process currently reads."""

    def lag(self) -> int | None:
        """Records delivered to the stream but not yet polled, when cheap to know."""

    def close(self) -> None: ...
