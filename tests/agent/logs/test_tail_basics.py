"""Reading: lines, partial lines, long lines, encodings, multiline, filters, short files."""

from __future__ import annotations

import os
import socket
from dataclasses import replace
from pathlib import Path

import pytest

from agent.logs.spec import LineFilter, TailSpec, compile_spec
from logs_tail_support import FAST, Harness, SeqWriter, assert_exactly_once
from watchkeeper.errors import ConfigError


def test_lines_are_read_with_their_offsets(tmp_path: Path) -> None:
    harness = Harness(tmp_path)
    writer = SeqWriter()
    writer.write(harness.logs / "a.log", 1000)
    events = harness.drain()
    assert_exactly_once(events, writer.written)
    line_length = len("seq=0 ") + 40 + 1
    assert [e.offset for e in events[:3]] == [0, line_length, 2 * line_length]
    assert len(harness.envelopes) > 1, "the batch byte bound splits 47 KB into several envelopes"


def test_partial_line_is_held_until_its_newline(tmp_path: Path) -> None:
    harness = Harness(tmp_path)
    path = harness.logs / "a.log"
    path.write_text("first\nsec")
    assert [e.message for e in harness.drain()] == ["first"]
    with open(path, "a") as out:
        out.write("ond\n")
    assert [(e.offset, e.message) for e in harness.drain()] == [(0, "first"), (6, "second")]


def test_partial_line_timeout_ships_it_and_the_rest_is_its_own_event(tmp_path: Path) -> None:
    harness = Harness(tmp_path, options=replace(FAST, partial_line_timeout_s=0))
    path = harness.logs / "a.log"
    path.write_text("no newline yet")
    assert [e.message for e in harness.drain()] == ["no newline yet"]
    with open(path, "a") as out:
        out.write(" and the rest\nnext\n")
    assert [(e.offset, e.message) for e in harness.drain()] == [
        (0, "no newline yet"), (14, " and the rest"), (28, "next")]


def test_long_line_is_split_with_markers_never_dropped(tmp_path: Path) -> None:
    harness = Harness(tmp_path, max_line_bytes=1024)
    path = harness.logs / "a.log"
    long_line = "".join(chr(ord("a") + i % 26) for i in range(2500))
    path.write_text(f"before\n{long_line}\nafter\n")
    messages = [e.message for e in harness.drain()]
    assert messages[0] == "before" and messages[-1] == "after"
    pieces = messages[1:-1]
    assert len(pieces) == 3
    assert pieces[0].endswith(" [truncated]") and pieces[1].startswith("[continued] ")
    assert pieces[2].startswith("[continued] ") and not pieces[2].endswith("[truncated]")
    rebuilt = "".join(p.removeprefix("[continued] ").removesuffix(" [truncated]") for p in pieces)
    assert rebuilt == long_line


def test_long_line_arriving_in_pieces_keeps_its_markers(tmp_path: Path) -> None:
    harness = Harness(tmp_path, max_line_bytes=1024)
    path = harness.logs / "a.log"
    path.write_text("x" * 1500)
    first = [e.message for e in harness.drain()]
    assert first == ["x" * 1024 + " [truncated]"]
    with open(path, "a") as out:
        out.write("y\n")
    assert harness.drain()[-1].message == "[continued] " + "x" * 476 + "y"


def test_a_20_mb_line_arrives_whole_in_pieces(tmp_path: Path) -> None:
    harness = Harness(tmp_path)
    (harness.logs / "a.log").write_bytes(b"z" * (20 * 1024 * 1024) + b"\nend\n")
    messages = [e.message for e in harness.drain(rounds=1)]
    assert messages[-1] == "end"
    payload = sum(len(m.removeprefix("[continued] ").removesuffix(" [truncated]")) for m in messages[:-1])
    assert payload == 20 * 1024 * 1024
    assert len(messages) - 1 == 20 * 1024 * 1024 // (256 * 1024)


def test_invalid_utf8_and_binary_garbage_are_replaced_not_fatal(tmp_path: Path) -> None:
    harness = Harness(tmp_path)
    garbage = bytes(range(256)).replace(b"\n", b"") * 4
    (harness.logs / "a.log").write_bytes(b"ok \xff\xfe bad\n" + garbage + b"\nstill flowing\n")
    messages = [e.message for e in harness.drain()]
    assert messages[0] == "ok \ufffd\ufffd bad"
    assert "\ufffd" in messages[1]
    assert messages[2] == "still flowing"


def test_declared_encoding_is_decoded(tmp_path: Path) -> None:
    harness = Harness(tmp_path, encoding="latin-1")
    (harness.logs / "a.log").write_bytes("café\r\n".encode("latin-1"))
    assert [e.message for e in harness.drain()] == ["café"]


def test_multiline_events_group_by_start_pattern(tmp_path: Path) -> None:
    harness = Harness(tmp_path, multi_line_start_pattern=r"^\d{4}-")
    path = harness.logs / "a.log"
    path.write_text("2024-01-01 ERROR boom\n  at a\n  at b\n2024-01-01 INFO ok\n")
    assert [e.message for e in harness.drain()] == ["2024-01-01 ERROR boom\n  at a\n  at b"]
    state_before = harness.tailer.store.checkpoints
    assert [c.offset for c in state_before.values()] == [len("2024-01-01 ERROR boom\n  at a\n  at b\n")]
    harness.options = replace(FAST, multiline_quiet_s=0)
    harness.restart()
    assert [e.message for e in harness.drain()][1:] == ["2024-01-01 INFO ok"]


def test_multiline_by_timestamp_format_and_parsed_timestamps(tmp_path: Path) -> None:
    harness = Harness(tmp_path, options=replace(FAST, multiline_quiet_s=0),
                      timestamp_format="%Y-%m-%d %H:%M:%S", timezone="UTC",
                      multi_line_start_pattern="{timestamp_format}")
    (harness.logs / "a.log").write_text("2024-01-31 10:00:00 one\ncont\n2024-01-31 10:00:01 two\n")
    events = harness.drain()
    assert [e.message for e in events] == ["2024-01-31 10:00:00 one\ncont", "2024-01-31 10:00:01 two"]
    assert [e.timestamp_ms for e in events] == [1706695200000, 1706695201000]


def test_include_and_exclude_filters(tmp_path: Path) -> None:
    harness = Harness(tmp_path, filters=(LineFilter("include", "ERROR|WARN"), LineFilter("exclude", "healthcheck")))
    (harness.logs / "a.log").write_text("INFO a\nERROR b\nWARN healthcheck c\nWARN d\n")
    assert [e.message for e in harness.drain()] == ["ERROR b", "WARN d"]
    assert list(harness.tailer.store.checkpoints.values())[0].offset == 41, "filtered lines are consumed too"


@pytest.mark.parametrize("content", [b"x", b"ab\n", b"short line\n" * 3])
def test_files_shorter_than_the_fingerprint_are_read(tmp_path: Path, content: bytes) -> None:
    harness = Harness(tmp_path, options=replace(FAST, partial_line_timeout_s=0))
    (harness.logs / "a.log").write_bytes(content)
    assert "\n".join(e.message for e in harness.drain()) == content.decode().rstrip("\n")


def test_empty_file_is_tracked_and_read_once_it_has_lines(tmp_path: Path) -> None:
    harness = Harness(tmp_path)
    path = harness.logs / "a.log"
    path.touch()
    assert harness.drain() == []
    writer = SeqWriter()
    writer.write(path, 5)
    assert_exactly_once(harness.drain(), writer.written)


def test_bad_spec_reports_every_problem(tmp_path: Path) -> None:
    spec = TailSpec(file_path=str(tmp_path / "*.log"), log_group="g", log_stream="s", encoding="utf-16",
                    multi_line_start_pattern="(", filters=(LineFilter("include", "["),), timestamp_format="%Q")
    with pytest.raises(ConfigError) as caught:
        compile_spec(spec)
    paths = [problem.path for problem in caught.value.problems]
    assert paths == ["encoding", "timestamp_format", "multi_line_start_pattern", "filters[0].expression"]
    assert "found 'utf-16'" in str(caught.value)


def test_unreadable_file_is_skipped_and_the_rest_flows(tmp_path: Path, caplog: pytest.LogCaptureFixture) -> None:
    if os.geteuid() == 0:
        pytest.skip("root reads every file; permissions cannot make one unreadable")
    harness = Harness(tmp_path)
    locked = harness.logs / "locked.log"
    locked.write_text("secret\n")
    locked.chmod(0)
    (harness.logs / "open.log").write_text("visible\n")
    assert [e.message for e in harness.drain()] == ["visible"]
    assert sum("cannot read" in r.message for r in caplog.records) == 1
    locked.chmod(0o644)
    assert [e.message for e in harness.drain()] == ["visible", "secret"]


def test_socket_matched_by_the_glob_is_warned_about_once(tmp_path: Path,
                                                        caplog: pytest.LogCaptureFixture) -> None:
    harness = Harness(tmp_path)
    listener = socket.socket(socket.AF_UNIX)
    listener.bind(str(harness.logs / "daemon.log"))
    (harness.logs / "open.log").write_text("visible\n")
    try:
        assert [e.message for e in harness.drain()] == ["visible"]
    finally:
        listener.close()
    assert sum("cannot read" in r.message for r in caplog.records) == 1


def test_fifo_matched_by_the_glob_does_not_block(tmp_path: Path, caplog: pytest.LogCaptureFixture) -> None:
    harness = Harness(tmp_path)
    os.mkfifo(harness.logs / "pipe.log")
    (harness.logs / "open.log").write_text("visible\n")
    assert [e.message for e in harness.drain()] == ["visible"]
    assert sum("not a regular file" in r.message for r in caplog.records) == 1


def test_directory_matched_by_the_glob_is_skipped(tmp_path: Path, caplog: pytest.LogCaptureFixture) -> None:
    harness = Harness(tmp_path, pattern="*")
    (harness.logs / "sub").mkdir()
    (harness.logs / "a.log").write_text("line\n")
    assert [e.message for e in harness.drain()] == ["line"]
    assert sum("is a directory" in r.message for r in caplog.records) == 1


def test_a_batch_worth_an_fsync_is_due_once_caught_up_a_small_one_waits_for_the_interval(tmp_path: Path) -> None:
    options = replace(FAST, batch_max_bytes=1024 * 1024, caught_up_flush_bytes=4096, flush_interval_s=3600)
    harness = Harness(tmp_path, options=options)
    path = harness.logs / "a.log"
    path.write_bytes(b"short line\n" * 10)
    harness.tailer.step(rescan=True)
    assert not harness.tailer.flush_due()
    with path.open("ab") as out:
        out.write((b"x" * 100 + b"\n") * 50)
    harness.tailer.step()
    assert harness.tailer.flush_due()
    assert harness.envelopes == []  # due, not yet submitted: run() submits it
