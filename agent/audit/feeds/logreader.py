"""New complete lines of an append-only log, from where the last read stopped.

The position is (device, inode, offset) per log path. A different inode or a file
shorter than the offset means the log was rotated: reading starts at 0 of the new
file (lines written to the old file after the last poll and before rotation are lost;
the poll interval bounds that window, documented in docs/audit-sources.md). A last
line without its newline is left for the next read, so a line is never split.
The caller commits a position only after the records it produced were handed on.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from typing import Any

MAX_READ_BYTES = 4 * 1024 * 1024


@dataclass(frozen=True, slots=True)
class Position:
    device: int
    inode: int
    offset: int

    def to_json(self) -> list[int]:
        return [self.device, self.inode, self.offset]

    @classmethod
    def from_json(cls, row: Any) -> Position:
        return cls(int(row[0]), int(row[1]), int(row[2]))

    @property
    def file_identity(self) -> str:
        return f"{self.device:x}-{self.inode:x}"


@dataclass(frozen=True, slots=True)
class Line:
    offset: int  # of the line's first byte: with the file identity, it names the line for good
    text: str


def read_new_lines(path: str, position: Position | None) -> tuple[list[Line], Position | None]:
    """(complete lines after position, the position after them); ([], position) when the log is absent."""
    try:
        with open(path, "rb") as handle:
            info = os.fstat(handle.fileno())
            start = position.offset if position is not None else 0
            if position is None or (position.device, position.inode) != (info.st_dev, info.st_ino) \
                    or info.st_size < start:
                start = 0  # new or rotated log
            handle.seek(start)
            data = handle.read(MAX_READ_BYTES)
    except FileNotFoundError:
        return [], position
    complete = data[: data.rfind(b"\n") + 1]
    lines = []
    offset = start
    for raw in complete.splitlines(keepends=True):
        lines.append(Line(offset, raw.rstrip(b"\r\n").decode("utf-8", errors="replace")))
        offset += len(raw)
    return lines, Position(info.st_dev, info.st_ino, offset)
