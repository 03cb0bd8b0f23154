"""Restarts and crashes, with the real spool as the hand-off: nothing lost, nothing shipped twice
except a batch whose offsets the crash kept from being saved (same event ids: folded)."""

from __future__ import annotations

import os
from pathlib import Path

import orjson
import pytest

from agent.logs.offsets import STATE_FILE
from logs_tail_support import Harness, SeqWriter, SpoolSink, assert_exactly_once, events_of
from watchkeeper.wire import Envelope


class Crash(Exception):
    """The process dies right after the spool took the batch, before the offsets are saved."""


@pytest.fixture
def sink(tmp_path: Path) -> SpoolSink:
    return SpoolSink(tmp_path / "spool")


def spooled_harness(tmp_path: Path, sink: SpoolSink, pattern: str = "*.log") -> Harness:
    harness = Harness(tmp_path, pattern=pattern)
    harness.tailer.submit = sink.submit
    return harness


def restart_with(harness: Harness, sink: SpoolSink, kill: bool = False) -> None:
    if kill:
        harness.kill()
    else:
        harness.restart()
    harness.tailer.submit = sink.submit


def test_restart_resumes_at_the_saved_offset(tmp_path: Path, sink: SpoolSink) -> None:
    harness = spooled_harness(tmp_path, sink)
    writer = SeqWriter()
    writer.write(harness.logs / "a.log", 500)
    harness.drain()
    restart_with(harness, sink)
    writer.write(harness.logs / "a.log", 500)
    harness.drain()
    assert_exactly_once(events_of(sink.envelopes()), writer.written)


def test_kill_mid_batch_rereads_only_what_was_not_submitted(tmp_path: Path, sink: SpoolSink) -> None:
    harness = spooled_harness(tmp_path, sink)
    writer = SeqWriter()
    writer.write(harness.logs / "a.log", 2000)
    harness.tailer.step()  # submits full batches; the last, partial batch is still pending
    submitted = events_of(sink.envelopes())
    assert 0 < len(submitted) < 2000
    restart_with(harness, sink, kill=True)
    harness.drain()
    events = submitted + events_of(sink.envelopes())
    assert_exactly_once(events, writer.written)


def test_crash_after_submit_before_save_redelivers_same_ids(tmp_path: Path, sink: SpoolSink) -> None:
    harness = spooled_harness(tmp_path, sink)
    writer = SeqWriter()
    writer.write(harness.logs / "a.log", 100)

    def submit_then_die(envelope: Envelope) -> int:
        sink.submit(envelope)
        raise Crash

    harness.tailer.submit = submit_then_die
    harness.tailer.step()
    with pytest.raises(Crash):
        harness.tailer.flush()
    restart_with(harness, sink, kill=True)
    harness.drain()
    events = events_of(sink.envelopes())
    assert len(events) == 200, "the batch whose offsets were not saved is read again"
    assert_exactly_once(events, writer.written, allow_redelivery=True)


def test_rotation_while_stopped_finishes_the_rotated_file(tmp_path: Path, sink: SpoolSink) -> None:
    harness = spooled_harness(tmp_path, sink, pattern="app.log")
    path = harness.logs / "app.log"
    writer = SeqWriter()
    writer.write(path, 300)
    harness.drain()
    writer.write(path, 300)  # written, never read: the agent stops now
    harness.tailer.close()
    os.rename(path, harness.logs / "app.log.1")
    writer.write(path, 100)
    harness.start()
    harness.tailer.submit = sink.submit
    harness.drain()
    assert_exactly_once(events_of(sink.envelopes()), writer.written)


def test_rotated_file_resumed_then_crashed_again_is_finished_exactly_once(tmp_path: Path, sink: SpoolSink) -> None:
    """Crash; app.log is rotated meanwhile; the restart resumes app.log.1 and saves part of it (its checkpoint
    now names app.log.1); crash again: the next start finds it at that path itself and reads only the rest."""
    harness = spooled_harness(tmp_path, sink, pattern="app.log")
    path, rotated = harness.logs / "app.log", harness.logs / "app.log.1"
    writer = SeqWriter()
    writer.write(path, 300)
    harness.drain()
    writer.write(path, 2000)  # never read before the first crash
    harness.tailer.close()
    os.rename(path, rotated)
    writer.write(path, 100)
    harness.start()
    submitted = 0

    def submit_twice_then_crash(envelope: Envelope) -> int:
        nonlocal submitted
        if submitted == 2:
            raise Crash
        submitted += 1
        return sink.submit(envelope)

    harness.tailer.submit = submit_twice_then_crash
    with pytest.raises(Crash):
        harness.tailer.step()
    saved = orjson.loads((harness.state / STATE_FILE).read_bytes())["files"].values()
    assert [0 < entry["offset"] < rotated.stat().st_size for entry in saved if entry["path"] == str(rotated)] == [True]
    restart_with(harness, sink, kill=True)
    harness.drain()
    assert_exactly_once(events_of(sink.envelopes()), writer.written)


def test_first_identity_is_saved_before_its_events_leave(tmp_path: Path, sink: SpoolSink) -> None:
    """A file first seen short, grown while the agent was down, keeps its file_id: no duplicates."""
    harness = spooled_harness(tmp_path, sink)
    path = harness.logs / "a.log"
    path.write_text("tiny\n")

    def submit_then_die(envelope: Envelope) -> int:
        sink.submit(envelope)
        raise Crash

    harness.tailer.submit = submit_then_die
    harness.tailer.step()
    with pytest.raises(Crash):
        harness.tailer.flush()
    with open(path, "a") as out:
        out.write("x" * 2000 + "\n")
    restart_with(harness, sink, kill=True)
    harness.drain()
    events = events_of(sink.envelopes())
    assert len({e.file_id for e in events}) == 1
    assert len({(e.file_id, e.offset) for e in events}) == 2


def test_state_file_format_and_never_past_end(tmp_path: Path, sink: SpoolSink) -> None:
    harness = spooled_harness(tmp_path, sink)
    path = harness.logs / "a.log"
    path.write_text("one\ntwo\npartial")
    harness.drain()
    state = orjson.loads((harness.state / STATE_FILE).read_bytes())
    assert state["version"] == 1
    (entry,) = state["files"].values()
    assert entry["offset"] == 8 <= path.stat().st_size
    assert entry["path"] == str(path) and entry["inode"] == path.stat().st_ino


def test_checkpoint_past_the_end_is_treated_as_truncation(tmp_path: Path, sink: SpoolSink) -> None:
    harness = spooled_harness(tmp_path, sink)
    path = harness.logs / "a.log"
    path.write_text("one\ntwo\nthree\n")
    harness.drain()
    harness.tailer.close()
    with open(path, "r+") as target:
        target.truncate(8)
    harness.start()
    harness.tailer.submit = sink.submit
    harness.drain()
    assert [e.message for e in events_of(sink.envelopes())] == ["one", "two", "three", "one", "two"]


def test_corrupt_state_file_starts_over_instead_of_skipping(tmp_path: Path, sink: SpoolSink) -> None:
    harness = spooled_harness(tmp_path, sink)
    (harness.logs / "a.log").write_text("one\n")
    harness.drain()
    harness.tailer.close()
    (harness.state / STATE_FILE).write_bytes(b"\x00" * 10)
    harness.start()
    harness.tailer.submit = sink.submit
    harness.drain()
    assert [e.message for e in events_of(sink.envelopes())] == ["one", "one"]
    assert (harness.state / "log_offsets.corrupt").exists()
