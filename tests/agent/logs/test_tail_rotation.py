"""Rotation, truncation, deletion, new files and inode reuse: every line exactly once."""

from __future__ import annotations

import os
from pathlib import Path

from logs_tail_support import Harness, SeqWriter, assert_exactly_once


def test_rename_rotation_while_writing_loses_and_doubles_nothing(tmp_path: Path) -> None:
    harness = Harness(tmp_path, pattern="app.log")
    path = harness.logs / "app.log"
    writer = SeqWriter()
    for generation in range(5):
        writer.write(path, 300)
        harness.tailer.step()  # reads part of it
        with open(path, "a") as still_open:  # the writer's descriptor outlives the rename
            os.rename(path, harness.logs / f"app.log.{generation}")
            for _ in range(50):
                still_open.write(f"seq={writer.next_seq} late\n")
                writer.written.append(writer.next_seq)
                writer.next_seq += 1
        writer.write(path, 100)  # the new file at the path
    events = harness.drain()
    assert_exactly_once(events, writer.written)
    assert harness.tailer.files and all(f.path == str(path) for f in harness.tailer.files)
    assert len(harness.tailer.store.checkpoints) == 1, "rotated files are let go once read to their end"


def test_copytruncate_reads_the_new_content_from_zero(tmp_path: Path) -> None:
    harness = Harness(tmp_path, pattern="app.log")
    path = harness.logs / "app.log"
    writer = SeqWriter()
    for _ in range(3):
        writer.write(path, 200)
        harness.drain()
        with open(path, "r+") as target:  # what logrotate's copytruncate does after copying
            target.truncate(0)
        writer.write(path, 50)
    events = harness.drain()
    assert_exactly_once(events, writer.written)
    assert len({e.file_id for e in events}) == 4, "each rewrite of the inode is a new identity"


def test_truncation_to_a_smaller_size_is_detected(tmp_path: Path) -> None:
    harness = Harness(tmp_path)
    path = harness.logs / "app.log"
    path.write_text("one\ntwo\nthree\n")
    harness.drain()
    with open(path, "r+") as target:
        target.truncate(4)
        target.seek(4)
        target.write("2\n")
    messages = [e.message for e in harness.drain()]
    assert messages == ["one", "two", "three", "one", "2"]


def test_same_prefix_rewritten_after_truncation_gets_new_ids(tmp_path: Path) -> None:
    harness = Harness(tmp_path)
    path = harness.logs / "app.log"
    path.write_text("header\nold body\n")
    first = harness.drain()
    path.write_text("header\nnew\n")  # truncate + rewrite, shorter, same first line
    events = harness.drain()[len(first):]
    assert [e.message for e in events] == ["header", "new"]
    assert {e.file_id for e in events}.isdisjoint({e.file_id for e in first})


def test_deleted_file_is_read_to_its_end(tmp_path: Path) -> None:
    harness = Harness(tmp_path)
    path = harness.logs / "app.log"
    writer = SeqWriter()
    with open(path, "a") as still_open:
        writer.write(path, 100)
        harness.tailer.step()
        os.unlink(path)
        for _ in range(100):
            still_open.write(f"seq={writer.next_seq} after delete\n")
            writer.written.append(writer.next_seq)
            writer.next_seq += 1
    assert_exactly_once(harness.drain(), writer.written)
    assert harness.tailer.files == [] and harness.tailer.store.checkpoints == {}


def test_files_appearing_later_match_recursive_globs(tmp_path: Path) -> None:
    harness = Harness(tmp_path, pattern="**/*.log")
    writer = SeqWriter()
    writer.write(harness.logs / "top.log", 10)
    harness.drain()
    (harness.logs / "a" / "b").mkdir(parents=True)
    writer.write(harness.logs / "a" / "b" / "deep.log", 10)
    writer.write(harness.logs / "a" / "ignored.txt", 10)
    events = harness.drain()
    assert_exactly_once([e for e in events if not e.file.endswith(".txt")], writer.written[:20])
    assert {Path(e.file).name for e in events} == {"top.log", "deep.log"}


def test_inode_reuse_is_told_apart_by_fingerprint(tmp_path: Path) -> None:
    """The inode holds other content, longer than the saved offset: only the fingerprint can tell."""
    harness = Harness(tmp_path)
    path = harness.logs / "app.log"
    path.write_text("first file line\n")
    harness.drain()
    inode = path.stat().st_ino
    harness.tailer.close()  # agent stopped
    with open(path, "r+") as same_inode:
        same_inode.write("second file, a longer first line\n")
    assert path.stat().st_ino == inode
    harness.start()
    events = harness.drain()
    assert [e.message for e in events] == ["first file line", "second file, a longer first line"]
    assert len({e.file_id for e in events}) == 2
