"""The spool keeps every appended entry until acknowledged, across restarts, damage and its byte bound."""

from __future__ import annotations

import logging
import threading
from collections.abc import Iterator
from pathlib import Path

import pytest

from watchkeeper.errors import TransportError
from watchkeeper.transport.segment import RECORD_HEADER_BYTES
from watchkeeper.transport.spool import FsyncPolicy, Spool

MiB = 1024 * 1024


def open_spool(
    directory: Path, max_bytes: int = 64 * MiB, segment_bytes: int = MiB, fsync: FsyncPolicy = "never"
) -> Spool:
    return Spool(directory, max_bytes=max_bytes, segment_bytes=segment_bytes, fsync=fsync)


@pytest.fixture
def spool(tmp_path: Path) -> Iterator[Spool]:
    opened = open_spool(tmp_path / "spool")
    yield opened
    opened.close()


def read_all(spool: Spool) -> list[tuple[int, bytes]]:
    """Everything readable now, in as many reads as it takes."""
    entries: list[tuple[int, bytes]] = []
    while batch := spool.read(max_entries=1000, max_bytes=MiB, timeout=0):
        entries.extend(batch)
    return entries


def segment_files(directory: Path) -> list[Path]:
    return sorted(directory.glob("*.seg"))


@pytest.mark.parametrize("policy", ["always", "batch", "never"])
def test_entries_come_back_in_order_with_their_sequence_numbers(tmp_path: Path, policy: FsyncPolicy) -> None:
    spool = open_spool(tmp_path, fsync=policy)
    seqs = [spool.append(f"entry {i}".encode()) for i in range(5)]
    assert seqs == [1, 2, 3, 4, 5]
    assert read_all(spool) == [(i + 1, f"entry {i}".encode()) for i in range(5)]
    spool.close()


def test_read_honours_max_entries_and_max_bytes_but_returns_at_least_one(spool: Spool) -> None:
    for size in (10, 10, 100, 10):
        spool.append(b"x" * size)
    assert [seq for seq, _ in spool.read(max_entries=1, max_bytes=MiB, timeout=0)] == [1]
    assert [seq for seq, _ in spool.read(max_entries=10, max_bytes=15, timeout=0)] == [2]
    assert [seq for seq, _ in spool.read(max_entries=10, max_bytes=15, timeout=0)] == [3]
    assert [seq for seq, _ in spool.read(max_entries=10, max_bytes=15, timeout=0)] == [4]


def test_read_returns_nothing_when_empty_and_wakes_for_a_new_entry(spool: Spool) -> None:
    assert spool.read(max_entries=10, max_bytes=MiB, timeout=0.05) == []
    appender = threading.Timer(0.1, spool.append, args=(b"late",))
    appender.start()
    assert spool.read(max_entries=10, max_bytes=MiB, timeout=30) == [(1, b"late")]
    appender.join()


def test_wake_reader_ends_a_wait_without_timeout_even_if_it_comes_first(spool: Spool) -> None:
    spool.wake_reader()  # before the read: the read must not miss it and wait forever
    assert spool.read(max_entries=10, max_bytes=MiB, timeout=None) == []
    waker = threading.Timer(0.1, spool.wake_reader)
    waker.start()
    assert spool.read(max_entries=10, max_bytes=MiB, timeout=None) == []
    waker.join()
    spool.append(b"after")
    spool.wake_reader()
    assert spool.read(max_entries=10, max_bytes=MiB, timeout=None) == [(1, b"after")]


def test_rewind_rereads_unacknowledged_entries_in_order(spool: Spool) -> None:
    for i in range(4):
        spool.append(bytes([i]))
    read_all(spool)
    spool.ack(2)
    spool.rewind()
    assert read_all(spool) == [(3, b"\x02"), (4, b"\x03")]


def test_ack_beyond_what_was_read_is_refused(spool: Spool) -> None:
    spool.append(b"a")
    spool.append(b"b")
    spool.read(max_entries=1, max_bytes=MiB, timeout=0)
    with pytest.raises(ValueError, match="only 1 was read"):
        spool.ack(2)


def test_pending_counts_follow_appends_and_acks(spool: Spool) -> None:
    spool.append(b"a" * 100)
    spool.append(b"b" * 50)
    assert spool.pending_entries == 2
    assert spool.pending_bytes == 150 + 2 * RECORD_HEADER_BYTES
    spool.read(max_entries=1, max_bytes=MiB, timeout=0)
    spool.ack(1)
    assert spool.pending_entries == 1
    assert spool.pending_bytes == 50 + RECORD_HEADER_BYTES


def test_restart_keeps_unacknowledged_entries_and_the_sequence(tmp_path: Path) -> None:
    spool = open_spool(tmp_path, fsync="always")
    for i in range(5):
        spool.append(f"e{i}".encode())
    spool.read(max_entries=3, max_bytes=MiB, timeout=0)
    spool.ack(2)
    spool.close()

    reopened = open_spool(tmp_path, fsync="always")
    assert reopened.pending_entries == 3
    assert read_all(reopened) == [(3, b"e2"), (4, b"e3"), (5, b"e4")]
    assert reopened.append(b"after restart") == 6
    reopened.close()


def test_sequence_continues_after_everything_was_acknowledged(tmp_path: Path) -> None:
    spool = open_spool(tmp_path, segment_bytes=256)
    for _ in range(20):
        spool.append(b"y" * 50)
    read_all(spool)
    spool.ack(20)
    spool.close()
    reopened = open_spool(tmp_path, segment_bytes=256)
    assert read_all(reopened) == []
    assert reopened.append(b"next") == 21
    reopened.close()


def test_a_second_process_cannot_open_the_same_spool(tmp_path: Path, spool: Spool) -> None:
    with pytest.raises(TransportError, match="in use"):
        open_spool(tmp_path / "spool")


def test_an_entry_larger_than_the_whole_spool_is_refused_clearly(tmp_path: Path) -> None:
    spool = open_spool(tmp_path, max_bytes=1000, segment_bytes=500)
    with pytest.raises(TransportError, match="can never fit"):
        spool.append(b"z" * 1000)
    spool.close()


def test_segments_roll_over_and_acknowledged_ones_are_deleted(tmp_path: Path) -> None:
    spool = open_spool(tmp_path, segment_bytes=1024)
    for _ in range(40):
        spool.append(b"p" * 100)
    assert len(segment_files(tmp_path)) > 3
    entries = read_all(spool)
    assert [seq for seq, _ in entries] == list(range(1, 41))
    spool.ack(40)
    assert len(segment_files(tmp_path)) == 1
    assert spool.pending_entries == 0
    assert spool.pending_bytes == 0
    spool.close()


def test_full_spool_drops_the_oldest_segment_counts_and_warns(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    spool = open_spool(tmp_path, max_bytes=4096, segment_bytes=1024)
    with caplog.at_level(logging.ERROR, logger="watchkeeper.transport.spool"):
        for i in range(100):
            spool.append(i.to_bytes(2, "big") * 50)
    assert spool.dropped_entries > 0
    assert sum(path.stat().st_size for path in segment_files(tmp_path)) <= 4096
    assert "dropped its oldest segment" in caplog.text
    survivors = [seq for seq, _ in read_all(spool)]
    # The reader skips what was dropped and gets everything after it, contiguously.
    assert survivors == list(range(spool.dropped_entries + 1, 101))
    spool.close()


def test_dropping_while_entries_are_being_sent_keeps_the_rest_consistent(tmp_path: Path) -> None:
    spool = open_spool(tmp_path, max_bytes=4096, segment_bytes=1024)
    for _ in range(10):
        spool.append(b"q" * 100)
    in_flight = spool.read(max_entries=5, max_bytes=MiB, timeout=0)
    for _ in range(60):
        spool.append(b"r" * 100)
    spool.ack(in_flight[-1][0])  # acknowledging entries the bound already dropped is harmless
    remaining = [seq for seq, _ in read_all(spool)]
    assert remaining == list(range(spool.dropped_entries + 1, 71))
    spool.ack(70)
    assert spool.pending_entries == 0
    spool.close()


def test_torn_tail_is_truncated_on_open(tmp_path: Path, caplog: pytest.LogCaptureFixture) -> None:
    spool = open_spool(tmp_path)
    for i in range(3):
        spool.append(f"record {i}".encode() * 10)
    spool.close()
    [segment] = segment_files(tmp_path)
    size = segment.stat().st_size
    with segment.open("r+b") as handle:
        handle.truncate(size - 7)  # the crash cut the last record short

    with caplog.at_level(logging.WARNING, logger="watchkeeper.transport.spool"):
        reopened = open_spool(tmp_path)
    assert "torn tail" in caplog.text
    assert [payload for _, payload in read_all(reopened)] == [b"record 0" * 10, b"record 1" * 10]
    assert reopened.dropped_entries == 0
    new_seq = reopened.append(b"after crash")
    assert read_all(reopened) == [(new_seq, b"after crash")]
    reopened.close()


def write_closed_segments(directory: Path) -> None:
    """30 entries of 100 bytes over several 1 KiB segments, then close: a spool to damage."""
    spool = open_spool(directory, segment_bytes=1024)
    for i in range(30):
        spool.append(i.to_bytes(1, "big") * 100)
    spool.close()


def corrupt_byte(path: Path, offset: int) -> None:
    with path.open("r+b") as handle:
        handle.seek(offset)
        original = handle.read(1)
        handle.seek(offset)
        handle.write(bytes([original[0] ^ 0xFF]))


def test_a_corrupt_record_in_the_active_segment_is_skipped_and_counted(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    spool = open_spool(tmp_path)
    for i in range(5):
        spool.append(bytes([65 + i]) * 20)
    spool.close()
    [segment] = segment_files(tmp_path)
    record_bytes = RECORD_HEADER_BYTES + 20
    corrupt_byte(segment, 8 + record_bytes + RECORD_HEADER_BYTES + 3)  # inside record 2's payload

    with caplog.at_level(logging.ERROR, logger="watchkeeper.transport.spool"):
        reopened = open_spool(tmp_path)
        entries = read_all(reopened)
        reopened.rewind()
        read_all(reopened)
    assert [seq for seq, _ in entries] == [1, 3, 4, 5]
    assert reopened.dropped_entries == 1
    assert reopened.dropped_bytes == record_bytes
    assert "1 entries lost" in caplog.text
    reopened.close()


def test_a_corrupt_record_in_an_older_segment_is_skipped_by_the_reader(tmp_path: Path) -> None:
    write_closed_segments(tmp_path)
    first = segment_files(tmp_path)[0]
    corrupt_byte(first, 8 + 4)  # the length field of record 1

    reopened = open_spool(tmp_path, segment_bytes=1024)
    seqs = [seq for seq, _ in read_all(reopened)]
    assert seqs == list(range(2, 31))
    assert reopened.dropped_entries == 1
    reopened.close()


def test_damage_to_the_end_of_an_older_segment_loses_only_that_segments_rest(tmp_path: Path) -> None:
    write_closed_segments(tmp_path)
    first, second = segment_files(tmp_path)[:2]
    first.write_bytes(first.read_bytes()[:8] + b"\x00" * (first.stat().st_size - 8))

    reopened = open_spool(tmp_path, segment_bytes=1024)
    second_starts_at = int(second.name.removesuffix(".seg"))
    assert [seq for seq, _ in read_all(reopened)] == list(range(second_starts_at, 31))
    assert reopened.dropped_entries == second_starts_at - 1
    reopened.close()


def test_a_file_that_is_not_a_segment_is_dropped_not_fatal(tmp_path: Path) -> None:
    write_closed_segments(tmp_path)
    first = segment_files(tmp_path)[0]
    first.write_bytes(b"garbage!" + first.read_bytes()[8:])

    reopened = open_spool(tmp_path, segment_bytes=1024)
    remaining = [seq for seq, _ in read_all(reopened)]
    assert remaining == list(range(remaining[0], 31))
    assert reopened.dropped_entries == remaining[0] - 1
    reopened.close()


def test_an_unreadable_ack_file_replays_from_the_oldest_entry(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    spool = open_spool(tmp_path)
    for _ in range(3):
        spool.append(b"t")
    read_all(spool)
    spool.ack(2)
    spool.close()
    (tmp_path / "ack").write_text("not a number")

    with caplog.at_level(logging.WARNING, logger="watchkeeper.transport.spool"):
        reopened = open_spool(tmp_path)
    assert "ack file" in caplog.text
    assert [seq for seq, _ in read_all(reopened)] == [1, 2, 3]
    reopened.close()


def test_concurrent_appends_lose_nothing_and_keep_each_producers_order(tmp_path: Path) -> None:
    spool = open_spool(tmp_path, segment_bytes=16 * 1024, fsync="always")
    producers, per_producer = 6, 150

    def produce(producer: int) -> None:
        for i in range(per_producer):
            spool.append(f"{producer}:{i}".encode())

    threads = [threading.Thread(target=produce, args=(p,)) for p in range(producers)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()

    entries = read_all(spool)
    assert [seq for seq, _ in entries] == list(range(1, producers * per_producer + 1))
    by_producer: dict[str, list[int]] = {}
    for _, payload in entries:
        producer, index = payload.decode().split(":")
        by_producer.setdefault(producer, []).append(int(index))
    assert by_producer == {str(p): list(range(per_producer)) for p in range(producers)}
    spool.close()
