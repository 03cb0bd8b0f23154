"""The spool's on-disk format: segment files of length+CRC32 framed records.

A segment file is named after the sequence number of its first record
(`00000000000000000042.seg`) and starts with an 8-byte magic that names the
format version. Then records follow back to back:

    magic  2 bytes  b"WK"        lets recovery find the next record after damage
    length 4 bytes  big-endian   payload length
    seq    8 bytes  big-endian   the record's sequence number
    crc    4 bytes  big-endian   CRC32 of length + seq + payload
    payload

The sequence number inside every record (not just in the file name) lets a
reader that skipped damage know exactly how many records it lost. See docs/spool.md.
"""

from __future__ import annotations

import os
import struct
import zlib
from dataclasses import dataclass
from pathlib import Path

SEGMENT_MAGIC = b"WKSPOOL1"
SEGMENT_SUFFIX = ".seg"
RECORD_MAGIC = b"WK"
_HEADER = struct.Struct(">2sIQI")
RECORD_HEADER_BYTES = _HEADER.size


def segment_name(first_seq: int) -> str:
    return f"{first_seq:020d}{SEGMENT_SUFFIX}"


def first_seq_of(path: Path) -> int | None:
    """The first sequence number a segment file name announces, or None if it is not a segment name."""
    stem = path.name.removesuffix(SEGMENT_SUFFIX)
    if path.suffix != SEGMENT_SUFFIX or len(stem) != 20 or not stem.isdigit():
        return None
    return int(stem)


def _checksum(length: int, seq: int, payload: bytes) -> int:
    return zlib.crc32(payload, zlib.crc32(struct.pack(">IQ", length, seq)))


def encode_record(seq: int, payload: bytes) -> bytes:
    length = len(payload)
    return _HEADER.pack(RECORD_MAGIC, length, seq, _checksum(length, seq, payload)) + payload


@dataclass(frozen=True, slots=True)
class Record:
    seq: int
    payload: bytes
    offset: int
    end: int


def read_record(fd: int, offset: int, end: int, after_seq: int) -> Record | None:
    """The valid record at offset, or None if the bytes there are not one.

    Valid means: complete before `end`, magic and CRC right, and a sequence
    number after `after_seq` (a stale or duplicated frame is damage too).
    """
    if end - offset < RECORD_HEADER_BYTES:
        return None
    header = os.pread(fd, RECORD_HEADER_BYTES, offset)
    magic, length, seq, crc = _HEADER.unpack(header)
    payload_start = offset + RECORD_HEADER_BYTES
    if magic != RECORD_MAGIC or seq <= after_seq or payload_start + length > end:
        return None
    payload = os.pread(fd, length, payload_start)
    if len(payload) != length or _checksum(length, seq, payload) != crc:
        return None
    return Record(seq, payload, offset, payload_start + length)


def resync(fd: int, offset: int, end: int, after_seq: int) -> Record | None:
    """The first valid record after damaged bytes at offset, searching up to end."""
    data = os.pread(fd, end - offset, offset)
    position = data.find(RECORD_MAGIC, 1)
    while position != -1:
        record = read_record(fd, offset + position, end, after_seq)
        if record is not None:
            return record
        position = data.find(RECORD_MAGIC, position + 1)
    return None
