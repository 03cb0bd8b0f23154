"""Bytes -> lines, each with the byte offset where it starts.

Whole chunks are split with bytes.split (C speed); per-line work is limited to the
objects the lines themselves are. A line longer than max_line_bytes is cut into
pieces, never dropped: every piece but the last ends with TRUNCATED, every piece but
the first starts with CONTINUED, and each piece carries its own offset, so pieces
keep distinct identities. A partial last line stays in the buffer until its newline
arrives or the caller flushes it (the partial-line timeout).
"""

from __future__ import annotations

from itertools import accumulate

TRUNCATED = b" [truncated]"
CONTINUED = b"[continued] "


class LineBuffer:
    """The not-yet-emitted bytes of one file, starting at file offset `position`."""

    def __init__(self, position: int, max_line_bytes: int, utf8: bool) -> None:
        self.position = position
        self.max_line_bytes = max_line_bytes
        self.utf8 = utf8
        self.buffer = b""
        # The next emitted line continues a line that was cut because it was too long.
        self.continued = False

    @property
    def end(self) -> int:
        """The file offset just past the last byte fed."""
        return self.position + len(self.buffer)

    def feed(self, data: bytes) -> tuple[list[int], list[bytes]]:
        """Add bytes read at offset `end`; return (offsets, lines) of what is now complete."""
        buffer = self.buffer + data if self.buffer else data
        cut = buffer.rfind(b"\n") + 1
        offsets: list[int] = []
        lines: list[bytes] = []
        if cut:
            lines = buffer[:cut].split(b"\n")
            lines.pop()  # the empty string after the last newline
            starts = accumulate((len(line) + 1 for line in lines[:-1]), initial=self.position)
            offsets = list(starts)
            if b"\r" in buffer[:cut]:
                lines = [line[:-1] if line.endswith(b"\r") else line for line in lines]
            if self.continued or max(map(len, lines)) > self.max_line_bytes:
                offsets, lines = self._cut_long(offsets, lines)
        self.position += cut
        self.buffer = buffer[cut:]
        while len(self.buffer) > self.max_line_bytes:
            piece = self._piece_length(self.buffer)
            offsets.append(self.position)
            lines.append(self._mark(self.buffer[:piece], first=not self.continued, last=False))
            self.continued = True
            self.position += piece
            self.buffer = self.buffer[piece:]
        return offsets, lines

    def flush(self) -> tuple[list[int], list[bytes]]:
        """Emit the held partial line as it is (its writer went quiet); its rest will be a line of its own."""
        if not self.buffer:
            return [], []
        line = self._mark(self.buffer, first=not self.continued, last=True)
        out = [self.position], [line]
        self.continued = False
        self.position += len(self.buffer)
        self.buffer = b""
        return out

    def _cut_long(self, offsets: list[int], lines: list[bytes]) -> tuple[list[int], list[bytes]]:
        new_offsets: list[int] = []
        new_lines: list[bytes] = []
        for offset, line in zip(offsets, lines):
            first = not self.continued
            self.continued = False
            while len(line) > self.max_line_bytes:
                piece = self._piece_length(line)
                new_offsets.append(offset)
                new_lines.append(self._mark(line[:piece], first=first, last=False))
                first = False
                offset += piece
                line = line[piece:]
            new_offsets.append(offset)
            new_lines.append(self._mark(line, first=first, last=True))
        return new_offsets, new_lines

    def _piece_length(self, data: bytes) -> int:
        """max_line_bytes, moved back to a character boundary in UTF-8 so no character is split."""
        cut = self.max_line_bytes
        if self.utf8:
            floor = cut - 3
            while cut > floor and data[cut] & 0xC0 == 0x80:
                cut -= 1
        return cut

    @staticmethod
    def _mark(piece: bytes, first: bool, last: bool) -> bytes:
        if first and last:
            return piece
        return (b"" if first else CONTINUED) + piece + (b"" if last else TRUNCATED)
