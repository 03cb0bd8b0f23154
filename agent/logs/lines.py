"""Bytes -> lines, each with the byte offset where it starts.

Whole chunks are handled at C speed: numpy finds the newlines and computes every
line's offset, and the complete lines leave as one block of bytes (the lines joined
by newlines, a trailing carriage return dropped), so nothing is done per line in
Python. A line longer than max_line_bytes is cut into pieces, never dropped: every
piece but the last ends with TRUNCATED, every piece but the first starts with
CONTINUED, and each piece carries its own offset, so pieces keep distinct
identities (this rare case goes line by line). A partial last line stays in the
buffer until its newline arrives or the caller flushes it (the partial-line timeout).
"""

from __future__ import annotations

import numpy as np

TRUNCATED = b" [truncated]"
CONTINUED = b"[continued] "
NEWLINE = ord("\n")

# (offsets, block): offsets[i] is where line i starts in the file; block is the lines joined by b"\n".
Lines = tuple[list[int], bytes]


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

    def feed(self, data: bytes) -> Lines:
        """Add bytes read at offset `end`; return the lines that are now complete."""
        buffer = self.buffer + data if self.buffer else data
        cut = buffer.rfind(b"\n") + 1
        offsets: list[int] = []
        block = b""
        if cut:
            ends = np.flatnonzero(np.frombuffer(buffer, np.uint8, cut) == NEWLINE)
            starts = np.empty_like(ends)
            starts[0] = 0
            starts[1:] = ends[:-1] + 1
            block = buffer[:cut - 1]
            if self.continued or int((ends - starts).max()) > self.max_line_bytes:
                offsets, pieces = self._cut_long((starts + self.position).tolist(), self._strip_cr(block.split(b"\n")))
                block = b"\n".join(pieces)
            else:
                offsets = (starts + self.position).tolist()
                if b"\r" in block:
                    block = b"\n".join(self._strip_cr(block.split(b"\n")))
        self.position += cut
        self.buffer = buffer[cut:]
        pieces = [block] if offsets else []
        while len(self.buffer) > self.max_line_bytes:
            piece = self._piece_length(self.buffer)
            offsets.append(self.position)
            pieces.append(self._mark(self.buffer[:piece], first=not self.continued, last=False))
            self.continued = True
            self.position += piece
            self.buffer = self.buffer[piece:]
        return offsets, b"\n".join(pieces)

    def flush(self) -> Lines:
        """Emit the held partial line as it is (its writer went quiet); its rest will be a line of its own."""
        if not self.buffer:
            return [], b""
        out = [self.position], self._mark(self.buffer, first=not self.continued, last=True)
        self.continued = False
        self.position += len(self.buffer)
        self.buffer = b""
        return out

    @staticmethod
    def _strip_cr(lines: list[bytes]) -> list[bytes]:
        return [line[:-1] if line.endswith(b"\r") else line for line in lines]

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
