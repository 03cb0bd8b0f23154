"""Lines -> events by multi_line_start_pattern: a line matching it starts an event,
the lines after it (stack traces, continuations) join that event.

The open event is held until the next start line arrives, it would grow past the
size limit, or its file has been quiet for a while (the caller decides when and
calls flush). While an event is held, the file's committed offset must stay at its
first line, so a restart re-reads and regroups it instead of losing it.
"""

from __future__ import annotations

import re

Events = tuple[list[int], list[str]]


class MultilineGrouper:
    def __init__(self, start: re.Pattern[str], max_chars: int) -> None:
        self.start = start
        self.max_chars = max_chars
        self.held_offset: int | None = None
        self._lines: list[str] = []
        self._chars = 0

    def add(self, offsets: list[int], lines: list[str]) -> Events:
        """Feed decoded lines with their offsets; return the events they completed."""
        out_offsets: list[int] = []
        out_messages: list[str] = []
        match = self.start.match
        for offset, line in zip(offsets, lines):
            if self.held_offset is not None and (match(line) or self._chars + len(line) > self.max_chars):
                out_offsets.append(self.held_offset)
                out_messages.append("\n".join(self._lines))
                self.held_offset = None
            if self.held_offset is None:
                self.held_offset = offset
                self._lines = [line]
                self._chars = len(line)
            else:
                self._lines.append(line)
                self._chars += len(line) + 1
        return out_offsets, out_messages

    def flush(self) -> Events:
        """Emit the held event (its file went quiet, or is being let go)."""
        if self.held_offset is None:
            return [], []
        out = [self.held_offset], ["\n".join(self._lines)]
        self.held_offset = None
        self._lines = []
        self._chars = 0
        return out
