"""One open file being tailed: its identity, read position, held-back bytes and events.

The file descriptor stays open for the file's life in the tailer, so a file that is
renamed (rotation) or deleted is still read to its end: the data is reachable
through the descriptor whatever happened to the path.
"""

from __future__ import annotations

import codecs
import os
import time

from agent.logs.identity import FINGERPRINT_BYTES, FileIdentity, fingerprint
from agent.logs.lines import LineBuffer, Lines
from agent.logs.multiline import MultilineGrouper
from agent.logs.offsets import Checkpoint
from agent.logs.options import TailOptions
from agent.logs.spec import CompiledSpec
from watchkeeper.storage.logs import LogRun

# (offsets, messages): the messages as a list, or as one string joined by newlines (see LogRun).
Events = tuple[list[int], list[str] | str]


class TrackedFile:
    def __init__(self, spec: CompiledSpec, options: TailOptions, path: str, fd: int,
                 checkpoint: Checkpoint | None, generation: int = 0) -> None:
        self.spec = spec
        self.options = options
        self.path = path
        self.fd = fd
        self.identity: FileIdentity | None = checkpoint.identity if checkpoint else None
        self.next_generation = generation
        self.utf8 = codecs.lookup(spec.spec.encoding).name == "utf-8"
        self.lines = self._line_buffer(checkpoint.offset if checkpoint else 0)
        self.lines.continued = checkpoint.continued if checkpoint else False
        self.grouper = self._grouper()
        self.detached = False
        self.finished = False
        # Identities this file had before a truncation; their checkpoints go once the batch is submitted.
        self.retired: list[str] = []
        self.unsaved_identity = False
        self.last_data = time.monotonic()

    def _line_buffer(self, offset: int) -> LineBuffer:
        return LineBuffer(offset, self.spec.spec.max_line_bytes, self.utf8)

    def _grouper(self) -> MultilineGrouper | None:
        start = self.spec.start_pattern
        return MultilineGrouper(start, self.spec.spec.max_line_bytes) if start else None

    def checkpoint(self) -> Checkpoint | None:
        """Where a restart must resume: the first byte of anything not yet emitted."""
        if self.identity is None:
            return None
        held = self.grouper.held_offset if self.grouper else None
        if held is not None:
            return Checkpoint(self.identity, held, False, self.path)
        return Checkpoint(self.identity, self.lines.position, self.lines.continued, self.path)

    def close(self) -> None:
        os.close(self.fd)

    def read(self, budget: int) -> tuple[list[LogRun], bool]:
        """Read up to budget bytes; return the runs of events completed and whether more is waiting."""
        now = time.monotonic()
        runs: list[LogRun] = []
        stat = os.fstat(self.fd)
        if self.identity is not None and self._rewritten(stat):
            runs += self._emit(self._flush_all())
            self.retired.append(self.identity.file_id)
            self.next_generation = self.identity.generation + 1
            self.identity = None
            self.lines = self._line_buffer(0)
            self.grouper = self._grouper()
        if self.identity is None:
            if stat.st_size == 0:
                return runs, False
            self.identity = FileIdentity.first_seen(self.fd, stat, self.next_generation)
            self.unsaved_identity = True
        elif self.identity.fingerprint_length < FINGERPRINT_BYTES:
            self.identity = self.identity.grown(self.fd, stat)
        offsets: list[int] = []
        blocks: list[bytes] = []
        more = False
        while budget > 0:
            data = os.pread(self.fd, min(self.options.chunk_bytes, budget), self.lines.end)
            if not data:
                break
            budget -= len(data)
            self.last_data = now
            _take(offsets, blocks, self.lines.feed(data))
            more = budget <= 0
        quiet = now - self.last_data
        if self.detached and not more and quiet >= self.options.rotate_wait_s:
            self.finished = True
        if self.lines.buffer and (quiet >= self.options.partial_line_timeout_s or self.finished):
            _take(offsets, blocks, self.lines.flush())
        runs += self._emit(self._events(offsets, blocks, quiet >= self.options.multiline_quiet_s or self.finished))
        return runs, more

    def _rewritten(self, stat: os.stat_result) -> bool:
        """Truncated (shorter than what was read) or rewritten (its first bytes changed): copytruncate."""
        assert self.identity is not None
        if stat.st_size < self.lines.end:
            return True
        length = self.identity.fingerprint_length
        return fingerprint(self.fd, length) != self.identity.fingerprint

    def _flush_all(self) -> Events:
        offsets, block = self.lines.flush()
        return self._events(offsets, [block] if offsets else [], flush_held=True)

    def _events(self, offsets: list[int], blocks: list[bytes], flush_held: bool) -> Events:
        """Decoded lines -> events: grouped into multi-line events when a start pattern is set."""
        messages = self._decode(offsets, blocks)
        if self.grouper is None:
            return offsets, messages
        offsets, grouped = self.grouper.add(offsets, messages.split("\n") if isinstance(messages, str) else messages)
        if flush_held:
            held_offsets, held_messages = self.grouper.flush()
            offsets += held_offsets
            grouped += held_messages
        return offsets, grouped

    def _decode(self, offsets: list[int], blocks: list[bytes]) -> list[str] | str:
        """The lines as one string joined by newlines, decoded at once; line by line if the encoding needs it.

        A newline byte decodes to a newline and nothing else in UTF-8 and every ASCII-compatible
        encoding (invalid bytes before it become U+FFFD, the newline stays), so the decoded block
        holds exactly one newline fewer than lines. An encoding where it does not (UTF-16...) is
        decoded line by line, as the lines were split.
        """
        if not offsets:
            return []
        block = b"\n".join(blocks)
        encoding = self.spec.spec.encoding
        text = block.decode(encoding, "replace")
        if text.count("\n") == len(offsets) - 1:
            return text
        return [line.decode(encoding, "replace") for line in block.split(b"\n")]

    def _emit(self, events: Events) -> list[LogRun]:
        offsets, messages = events
        if not offsets:
            return []
        assert self.identity is not None
        spec = self.spec
        if spec.filters or spec.timestamp is not None:
            lines = messages.split("\n") if isinstance(messages, str) else messages
            if spec.filters:
                kept = [i for i, message in enumerate(lines) if spec.keeps(message)]
                if not kept:
                    return []
                if len(kept) < len(lines):
                    offsets = [offsets[i] for i in kept]
                    lines = [lines[i] for i in kept]
                    messages = "\n".join(lines) if isinstance(messages, str) else lines
        now_ms = int(time.time() * 1000)
        timestamps: list[int] = []
        if spec.timestamp is not None:
            parse, now = spec.timestamp.parse_ms, now_ms / 1000
            timestamps = [parse(message, now) or now_ms for message in lines]
        return [LogRun(spec.spec.log_group, spec.spec.log_stream, self.path, self.identity.file_id,
                       spec.spec.retention_in_days, now_ms, offsets, timestamps, messages)]


def _take(offsets: list[int], blocks: list[bytes], lines: Lines) -> None:
    """Append one LineBuffer result to what a read collected."""
    if lines[0]:
        offsets += lines[0]
        blocks.append(lines[1])
