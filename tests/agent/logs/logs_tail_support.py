"""Test harness for the tailer: sequence-numbered writers and an exactly-once oracle.

Every test line is `seq=<n> <padding>`; the oracle collects what the tailer handed on,
folds copies by event identity (file_id, offset), as ClickHouse does, and checks that
every sequence number written is there exactly once.
"""

from __future__ import annotations

import re
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from agent.logs.options import TailOptions
from agent.logs.spec import TailSpec
from agent.logs.tailer import Tailer
from watchkeeper.storage.logs import LogRun
from watchkeeper.transport.spool import Spool
from watchkeeper.wire import Envelope, decode

SEQ = re.compile(r"seq=(\d+)")
FAST = TailOptions(chunk_bytes=4096, batch_max_bytes=8192, partial_line_timeout_s=3600, multiline_quiet_s=3600,
                   rotate_wait_s=0, rescan_interval_s=0, flush_interval_s=0, watch="poll")


@dataclass(frozen=True)
class Event:
    file: str
    file_id: str
    offset: int
    timestamp_ms: int
    message: str


def events_of(envelopes: list[Envelope]) -> list[Event]:
    out = []
    for envelope in envelopes:
        for index, item in enumerate(envelope.items):
            run = LogRun.from_item(item, f"item {index}")
            for offset, ts, message in zip(run.offsets, run.timestamp_list(), run.message_list()):
                out.append(Event(run.file, run.file_id, offset, ts, message))
    return out


@dataclass
class SeqWriter:
    """Appends `seq=<n>` lines, numbered across every file it writes, and remembers what it wrote."""

    padding: str = "x" * 40
    next_seq: int = 0
    written: list[int] = field(default_factory=list)

    def write(self, path: Path, count: int) -> None:
        with open(path, "a") as out:
            for _ in range(count):
                out.write(f"seq={self.next_seq} {self.padding}\n")
                self.written.append(self.next_seq)
                self.next_seq += 1


def assert_exactly_once(events: list[Event], written: list[int], allow_redelivery: bool = False) -> None:
    """Every written sequence number is present once; copies are allowed only as the same event (id)."""
    identities = Counter((e.file_id, e.offset) for e in events)
    if not allow_redelivery:
        assert [k for k, n in identities.items() if n > 1] == []
    by_identity: dict[tuple[str, int], str] = {}
    for event in events:
        known = by_identity.setdefault((event.file_id, event.offset), event.message)
        assert known == event.message, f"two messages share the identity {(event.file_id, event.offset)}"
    seen = Counter(int(m.group(1)) for message in by_identity.values() for m in SEQ.finditer(message))
    missing = sorted(set(written) - set(seen))
    doubled = sorted(n for n, c in seen.items() if c > 1)
    assert missing == [] and doubled == [], f"missing {missing[:20]}, doubled {doubled[:20]}"
    assert sorted(seen) == sorted(written)


class Harness:
    """A log directory, a state directory and a tailer that can be restarted (or killed) at will."""

    def __init__(self, root: Path, pattern: str = "*.log", options: TailOptions = FAST, **spec: Any) -> None:
        self.logs = root / "logs"
        self.logs.mkdir(exist_ok=True)
        self.state = root / "state"
        self.spec = TailSpec(file_path=str(self.logs / pattern), log_group="app", log_stream="host-1", **spec)
        self.options = options
        self.envelopes: list[Envelope] = []
        self.tailer = self.start()

    def start(self) -> Tailer:
        self.tailer = Tailer([self.spec], self.envelopes.append, self.state, "agent-1", "host-1", self.options)
        return self.tailer

    def restart(self) -> Tailer:
        """A clean stop (everything read is shipped, offsets saved) and a new process."""
        self.tailer.flush()
        self.tailer.close()
        return self.start()

    def kill(self) -> Tailer:
        """A crash: whatever was read but not yet flushed is simply gone with the process."""
        self.tailer.close()
        return self.start()

    def drain(self, rounds: int = 3) -> list[Event]:
        for _ in range(rounds):
            self.tailer.step(rescan=True)
        self.tailer.flush()
        return self.events()

    def events(self) -> list[Event]:
        return events_of(self.envelopes)


class SpoolSink:
    """The real durable spool as the tailer's submit, read back as envelopes."""

    def __init__(self, directory: Path) -> None:
        self.spool = Spool(directory, max_bytes=256 * 1024 * 1024, segment_bytes=1024 * 1024, fsync="always")

    def submit(self, envelope: Envelope) -> int:
        return self.spool.append(envelope.encode())

    def envelopes(self) -> list[Envelope]:
        out = []
        while entries := self.spool.read(1000, 64 * 1024 * 1024, 0):
            out += [decode(payload) for _, payload in entries]
        return out
