"""The local durable spool: a bounded, segmented, checksummed write-ahead log.

The agent appends every batch here before anything touches the network, and a
forwarder reads, sends and acknowledges; `watchkeeper up` uses the spool itself
as the transport. Format and fsync policy: docs/spool.md; framing: segment.py.
"""

from __future__ import annotations

import fcntl
import logging
import os
import threading
from collections import deque
from dataclasses import dataclass
from pathlib import Path
from typing import Literal

from watchkeeper.errors import TransportError
from watchkeeper.atomicfile import fsync_directory, write_atomically
from watchkeeper.transport.segment import (
    RECORD_HEADER_BYTES,
    SEGMENT_MAGIC,
    Record,
    encode_record,
    first_seq_of,
    read_record,
    resync,
    segment_name,
)

log = logging.getLogger(__name__)

FsyncPolicy = Literal["always", "batch", "never"]
BATCH_FSYNC_INTERVAL_S = 0.2
HEADER_BYTES = len(SEGMENT_MAGIC)
ACK_FILE = "ack"
LOCK_FILE = "lock"


@dataclass(eq=False, slots=True)
class _Segment:
    first_seq: int
    path: Path
    size: int
    read_fd: int
    deleted: bool = False


@dataclass(frozen=True, slots=True)
class _Position:
    """A place in the log: the next record starts at offset and has a sequence above after_seq."""

    segment: _Segment
    offset: int
    after_seq: int


class Spool:
    """Append-only log of opaque entries with an acknowledged position that survives restarts.

    Thread-safe for any number of appenders and one reader.
    """

    def __init__(self, directory: Path, max_bytes: int, segment_bytes: int, fsync: FsyncPolicy) -> None:
        if segment_bytes > max_bytes:
            raise TransportError(f"spool segment_bytes ({segment_bytes}) must not exceed max_bytes ({max_bytes})")
        self._dir = directory
        self._max_bytes = max_bytes
        self._segment_bytes = segment_bytes
        self._fsync = fsync
        self._lock = threading.Lock()
        self._new_entry = threading.Condition(self._lock)
        self._sync_lock = threading.Lock()
        self._closed = False
        self._reader_woken = False
        self.dropped_entries = 0
        self.dropped_bytes = 0
        # Damage is counted once even though a rewind makes the reader pass it again.
        self._damage_counted_after = -1
        self._in_flight: deque[tuple[int, _Position]] = deque()
        self._lock_fd = self._take_directory_lock()
        persisted_ack = self._read_ack_file()
        self._segments = self._open_segments(persisted_ack)
        self._last_seq = self._recover_active_segment()
        self._acked = max(persisted_ack, self._segments[0].first_seq - 1)
        # An ack file newer than the data (entries lost to a crash without fsync): number on after it.
        self._last_seq = max(self._last_seq, self._acked)
        self._delete_acknowledged_segments()
        self._ack_position = self._position_after(self._acked)
        self._cursor = self._ack_position
        self._last_read_seq = self._acked
        self._durable_seq = self._last_seq
        self._write_fd = os.open(self._active.path, os.O_WRONLY | os.O_APPEND)
        self._stop_flusher = threading.Event()
        self._flusher: threading.Thread | None = None
        if fsync == "batch":
            self._flusher = threading.Thread(target=self._flush_periodically, name="spool-fsync", daemon=True)
            self._flusher.start()

    # ----- public API -------------------------------------------------------------------

    def append(self, payload: bytes) -> int:
        """Append one entry and return its sequence number; durable per the fsync policy on return."""
        if RECORD_HEADER_BYTES + len(payload) + HEADER_BYTES > self._max_bytes:
            raise TransportError(
                f"spool entry of {len(payload)} bytes can never fit: spool max_bytes is {self._max_bytes}"
            )
        with self._lock:
            self._check_open()
            seq = self._last_seq + 1
            record = encode_record(seq, payload)
            active = self._active
            if active.size > HEADER_BYTES and active.size + len(record) > self._segment_bytes:
                self._roll(seq)
            self._make_room(len(record))
            self._write(record)
            self._last_seq = seq
            self._new_entry.notify_all()
        if self._fsync == "always":
            self._sync_through(seq)
        return seq

    def read(self, max_entries: int, max_bytes: int, timeout: float | None) -> list[tuple[int, bytes]]:
        """The next entries after the read cursor: at least one (even if larger than max_bytes)
        unless none arrives within timeout seconds (None: no limit) or `wake_reader` is called."""
        with self._lock:
            self._check_open()
            if self._cursor_at_end():
                self._new_entry.wait_for(
                    lambda: self._closed or self._reader_woken or not self._cursor_at_end(), timeout)
                self._check_open()
            self._reader_woken = False
            return self._read_locked(max_entries, max_bytes)

    def wake_reader(self) -> None:
        """End the reader's wait now (or its next one, if it is not waiting): it returns what is there,
        possibly nothing. A reader can so wait without a timeout, instead of waking to look for a stop."""
        with self._lock:
            self._reader_woken = True
            self._new_entry.notify_all()

    def ack(self, through: int) -> None:
        """Mark every entry up to and including `through` done; persist that and free whole segments.

        The ack file's write and fsyncs happen outside the append lock, so appenders are not held up
        by them (they were up to a tenth of the log tailer's time); segments go only after the file
        is written. Acknowledging is the one reader's job, so acks do not race each other.
        """
        with self._lock:
            self._check_open()
            if through <= self._acked:
                return
            if through > self._last_read_seq:
                raise ValueError(f"cannot acknowledge entry {through}: only {self._last_read_seq} was read")
            position: _Position | None = None
            while self._in_flight and self._in_flight[0][0] <= through:
                position = self._in_flight.popleft()[1]
            if position is not None:
                self._ack_position = position
            self._acked = through
        self._write_ack_file(through)
        with self._lock:
            self._check_open()
            self._delete_acknowledged_segments()
            self._repoint_positions()

    def rewind(self) -> None:
        """Move the read cursor back to the acknowledged position: unacknowledged entries come again."""
        with self._lock:
            self._cursor = self._ack_position
            self._last_read_seq = self._acked
            self._in_flight.clear()

    @property
    def pending_entries(self) -> int:
        """Entries appended and not yet acknowledged (or dropped)."""
        with self._lock:
            return self._last_seq - self._acked

    @property
    def pending_bytes(self) -> int:
        """Bytes of records (framing included) from the acknowledged position to the end."""
        with self._lock:
            ack = self._ack_position
            live = [s for s in self._segments if s.first_seq >= ack.segment.first_seq]
            return sum(s.size - HEADER_BYTES for s in live) - (ack.offset - HEADER_BYTES)

    @property
    def last_seq(self) -> int:
        with self._lock:
            return self._last_seq

    def close(self) -> None:
        """Flush per the fsync policy and release the files; safe to call twice."""
        if self._flusher is not None:
            self._stop_flusher.set()
            self._flusher.join()
        if self._fsync != "never" and not self._closed:
            self._sync_through(self.last_seq)
        with self._lock:
            if self._closed:
                return
            self._closed = True
            self._new_entry.notify_all()
            os.close(self._write_fd)
            for segment in self._segments:
                os.close(segment.read_fd)
            os.close(self._lock_fd)
        if self.dropped_entries:
            log.error(
                "spool %s closed after dropping %d entries (%d bytes) since it was opened",
                self._dir, self.dropped_entries, self.dropped_bytes,
            )

    # ----- opening and recovery -----------------------------------------------------------

    def _take_directory_lock(self) -> int:
        """Two processes appending to one spool would corrupt it: refuse the second."""
        try:
            self._dir.mkdir(parents=True, exist_ok=True)
            fd = os.open(self._dir / LOCK_FILE, os.O_RDWR | os.O_CREAT, 0o644)
        except OSError as error:
            raise TransportError(f"spool directory {self._dir}: {error.strerror}") from None
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            os.close(fd)
            raise TransportError(f"spool directory {self._dir} is in use by another process") from None
        return fd

    def _open_segments(self, persisted_ack: int) -> list[_Segment]:
        (self._dir / f"{ACK_FILE}.tmp").unlink(missing_ok=True)
        found = sorted((seq, path) for path in self._dir.iterdir() if (seq := first_seq_of(path)) is not None)
        segments: list[_Segment] = []
        for index, (first_seq, path) in enumerate(found):
            is_last = index == len(found) - 1
            with path.open("rb") as handle:
                magic = handle.read(HEADER_BYTES)
            if is_last and len(magic) < HEADER_BYTES and SEGMENT_MAGIC.startswith(magic):
                # Crashed while creating the segment: finish writing its header.
                with path.open("r+b") as handle:
                    handle.write(SEGMENT_MAGIC)
                    handle.truncate(HEADER_BYTES)
            elif magic != SEGMENT_MAGIC:
                lost = found[index + 1][0] - first_seq if not is_last else 0
                self._count_dropped(lost, path.stat().st_size)
                log.error("spool segment %s is not a spool segment (bad header); dropped %d entries", path, lost)
                path.unlink()
                continue
            segments.append(_Segment(first_seq, path, path.stat().st_size, os.open(path, os.O_RDONLY)))
        if not segments:
            segments.append(self._create_segment(persisted_ack + 1))
        return segments

    def _recover_active_segment(self) -> int:
        """Validate the last segment, the one a crash can leave half-written; return its last seq.

        A damaged record followed by valid ones is skipped (counted as dropped); damage
        that runs to the end is a torn write and is truncated away.
        """
        active = self._active
        position = _Position(active, HEADER_BYTES, active.first_seq - 1)
        while position.offset < active.size:
            record = read_record(active.read_fd, position.offset, active.size, position.after_seq)
            if record is None:
                record = resync(active.read_fd, position.offset, active.size, position.after_seq)
                if record is None:
                    log.warning(
                        "spool segment %s: torn tail of %d bytes at offset %d (crash mid-write) truncated",
                        active.path, active.size - position.offset, position.offset,
                    )
                    os.truncate(active.path, position.offset)
                    active.size = position.offset
                    break
                self._report_damage(position, record)
            position = _Position(active, record.end, record.seq)
        return position.after_seq

    def _read_ack_file(self) -> int:
        """The persisted acknowledged sequence; 0 (replay everything kept) when missing or unreadable."""
        path = self._dir / ACK_FILE
        try:
            return int(path.read_text().strip())
        except FileNotFoundError:
            return 0
        except (OSError, ValueError) as error:
            log.warning("spool ack file %s unreadable (%s): replaying from the oldest entry", path, error)
            return 0

    def _position_after(self, seq: int) -> _Position:
        """The position just after entry `seq` (scanning its segment once)."""
        candidates = [s for s in self._segments if s.first_seq <= seq + 1] or self._segments[:1]
        segment = candidates[-1]
        offset, last = HEADER_BYTES, segment.first_seq - 1
        while (record := read_record(segment.read_fd, offset, segment.size, last)) and record.seq <= seq:
            offset, last = record.end, record.seq
        return _Position(segment, offset, max(seq, segment.first_seq - 1))

    # ----- writing ----------------------------------------------------------------------

    @property
    def _active(self) -> _Segment:
        return self._segments[-1]

    def _check_open(self) -> None:
        if self._closed:
            raise TransportError(f"spool {self._dir} is closed")

    def _create_segment(self, first_seq: int) -> _Segment:
        path = self._dir / segment_name(first_seq)
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o644)
        try:
            os.write(fd, SEGMENT_MAGIC)
            if self._fsync != "never":
                os.fsync(fd)
        finally:
            os.close(fd)
        if self._fsync != "never":
            fsync_directory(self._dir)
        return _Segment(first_seq, path, HEADER_BYTES, os.open(path, os.O_RDONLY))

    def _roll(self, first_seq: int) -> None:
        """Close the active segment (durably, per policy) and start a new one at first_seq."""
        if self._fsync != "never":
            os.fsync(self._write_fd)
            self._durable_seq = max(self._durable_seq, first_seq - 1)
        os.close(self._write_fd)
        self._segments.append(self._create_segment(first_seq))
        self._write_fd = os.open(self._active.path, os.O_WRONLY | os.O_APPEND)

    def _write(self, record: bytes) -> None:
        active = self._active
        try:
            written = os.write(self._write_fd, record)
            while written < len(record):
                written += os.write(self._write_fd, record[written:])
        except OSError as error:
            # Cut the partial record off so the segment stays a valid log.
            os.ftruncate(self._write_fd, active.size)
            raise TransportError(f"spool {self._dir}: cannot append: {error.strerror}") from None
        active.size += len(record)

    def _make_room(self, record_bytes: int) -> None:
        """Drop the oldest segments (even unacknowledged ones) until the new record fits."""
        while sum(s.size for s in self._segments) + record_bytes > self._max_bytes:
            if len(self._segments) == 1:
                self._roll(self._last_seq + 1)
            self._drop_oldest()

    def _drop_oldest(self) -> None:
        oldest, successor = self._segments[0], self._segments[1]
        first_kept = successor.first_seq
        lost_entries = max(0, first_kept - 1 - max(self._acked, oldest.first_seq - 1))
        lost_from = self._ack_position.offset if self._ack_position.segment is oldest else HEADER_BYTES
        lost_bytes = oldest.size - lost_from if lost_entries else 0
        self._delete(oldest)
        self._count_dropped(lost_entries, lost_bytes)
        log.error(
            "spool %s is full (max_bytes=%d): dropped its oldest segment with %d unacknowledged entries "
            "(%d bytes); %d entries (%d bytes) dropped since the spool was opened",
            self._dir, self._max_bytes, lost_entries, lost_bytes, self.dropped_entries, self.dropped_bytes,
        )
        # What was dropped counts as done: the reader skips past it.
        self._acked = max(self._acked, first_kept - 1)
        self._last_read_seq = max(self._last_read_seq, first_kept - 1)
        while self._in_flight and self._in_flight[0][0] < first_kept:
            self._in_flight.popleft()
        self._repoint_positions()

    def _delete(self, segment: _Segment) -> None:
        self._segments.remove(segment)
        segment.deleted = True
        os.close(segment.read_fd)
        segment.path.unlink(missing_ok=True)

    def _delete_acknowledged_segments(self) -> None:
        while len(self._segments) > 1 and self._segments[1].first_seq - 1 <= self._acked:
            self._delete(self._segments[0])

    def _repoint_positions(self) -> None:
        """Move the ack position and the read cursor off deleted segments, to the oldest kept one.

        Segments are only ever deleted from the front, so that is where both continue.
        """
        oldest = self._segments[0]

        def repointed(position: _Position) -> _Position:
            if not position.segment.deleted:
                return position
            return _Position(oldest, HEADER_BYTES, max(position.after_seq, oldest.first_seq - 1))

        self._ack_position = repointed(self._ack_position)
        self._cursor = repointed(self._cursor)

    def _count_dropped(self, entries: int, size: int) -> None:
        self.dropped_entries += entries
        self.dropped_bytes += size

    # ----- durability -------------------------------------------------------------------

    def _sync_through(self, seq: int) -> None:
        """fsync so that every entry up to seq is on disk; one fsync serves every waiting appender."""
        with self._sync_lock:
            with self._lock:
                if self._durable_seq >= seq or self._closed:
                    return
                target = self._last_seq
                # A duplicate descriptor stays valid even if a rollover closes the original meanwhile.
                fd = os.dup(self._write_fd)
            try:
                os.fsync(fd)
            finally:
                os.close(fd)
            with self._lock:
                self._durable_seq = max(self._durable_seq, target)

    def _flush_periodically(self) -> None:
        while not self._stop_flusher.wait(BATCH_FSYNC_INTERVAL_S):
            self._sync_through(self.last_seq)

    def _write_ack_file(self, seq: int) -> None:
        """Replace the ack file atomically: a crash leaves the old or the new position, never half."""
        write_atomically(self._dir / ACK_FILE, f"{seq}\n".encode())

    # ----- reading ----------------------------------------------------------------------

    def _cursor_at_end(self) -> bool:
        cursor = self._cursor
        return cursor.segment is self._active and cursor.offset >= cursor.segment.size

    def _read_locked(self, max_entries: int, max_bytes: int) -> list[tuple[int, bytes]]:
        entries: list[tuple[int, bytes]] = []
        size = 0
        position = self._cursor
        while len(entries) < max_entries:
            segment = position.segment
            if position.offset >= segment.size:
                if segment is self._active:
                    break
                successor = self._segments[self._segments.index(segment) + 1]
                position = _Position(successor, HEADER_BYTES, position.after_seq)
                continue
            record = self._next_record(position)
            if record is None:
                if segment is self._active:
                    break
                successor = self._segments[self._segments.index(segment) + 1]
                position = _Position(successor, HEADER_BYTES, successor.first_seq - 1)
                continue
            if entries and size + len(record.payload) > max_bytes:
                break
            entries.append((record.seq, record.payload))
            size += len(record.payload)
            position = _Position(segment, record.end, record.seq)
            self._in_flight.append((record.seq, position))
        self._cursor = position
        if entries:
            self._last_read_seq = entries[-1][0]
        return entries

    def _next_record(self, position: _Position) -> Record | None:
        """The record at position, skipping (and counting) damage; None if only damage remains
        in the segment."""
        segment = position.segment
        record = read_record(segment.read_fd, position.offset, segment.size, position.after_seq)
        if record is not None:
            return record
        record = resync(segment.read_fd, position.offset, segment.size, position.after_seq)
        if record is not None:
            self._report_damage(position, record)
            return record
        if segment is self._active:
            return None
        successor = self._segments[self._segments.index(segment) + 1]
        lost = successor.first_seq - 1 - position.after_seq
        if not self._first_sight_of_damage(position):
            return None
        self._count_dropped(lost, segment.size - position.offset)
        log.error(
            "spool segment %s: %d damaged bytes at offset %d to its end; %d entries lost",
            segment.path, segment.size - position.offset, position.offset, lost,
        )
        return None

    def _first_sight_of_damage(self, position: _Position) -> bool:
        if position.after_seq <= self._damage_counted_after:
            return False
        self._damage_counted_after = position.after_seq
        return True

    def _report_damage(self, position: _Position, record: Record) -> None:
        if not self._first_sight_of_damage(position):
            return
        lost = record.seq - position.after_seq - 1
        self._count_dropped(lost, record.offset - position.offset)
        log.error(
            "spool segment %s: %d damaged bytes at offset %d skipped; %d entries lost",
            position.segment.path, record.offset - position.offset, position.offset, lost,
        )
