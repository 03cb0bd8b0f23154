"""The embedded path of `watchkeeper up`: spool entries -> chdb, acked once stored, bad entries set aside."""

from __future__ import annotations

import threading
from pathlib import Path

import orjson

from collector.deadletter import FileDeadLetters
from collector.loop import Collector
from collector.spool_source import SpoolSource
from collector_support import eventually, metric_envelope, sample_counts
from watchkeeper.config.settings import CollectorSettings
from watchkeeper.events import Kind
from watchkeeper.storage.engine import EmbeddedEngine
from watchkeeper.storage.schema import migrate
from watchkeeper.transport.spool import Spool
from watchkeeper.wire import frame


def open_spool(directory: Path) -> Spool:
    return Spool(directory, max_bytes=64 * 1024 * 1024, segment_bytes=1024 * 1024, fsync="always")


def test_spool_entries_are_stored_acked_and_bad_ones_dead_lettered(tmp_path: Path) -> None:
    engine = EmbeddedEngine(tmp_path / "chdb")
    migrate(engine)
    spool = open_spool(tmp_path / "spool")
    envelopes = [metric_envelope(f"web-{i}", 1_800_000_000 + 100 * i, 10) for i in range(3)]
    spool.append(frame(Kind.METRICS, "web-0", envelopes[0].encode()))
    spool.append(b"\x09truncated")
    spool.append(frame(Kind.METRICS, "web-1", b"{}"))
    for envelope in envelopes[1:]:
        spool.append(frame(Kind.METRICS, envelope.host, envelope.encode()))

    dead_letters = FileDeadLetters(tmp_path / "deadletter.jsonl")
    collector = Collector(SpoolSource(spool, max_records=100, max_bytes=1024 * 1024), engine, dead_letters,
                          CollectorSettings(max_age_s=0.2))
    thread = threading.Thread(target=collector.run, daemon=True)
    thread.start()
    eventually(lambda: spool.pending_entries == 0, "every spool entry acknowledged")
    collector.stop()
    thread.join(timeout=60)
    spool.close()

    assert sample_counts(engine)[1] == 30
    letters = [orjson.loads(line) for line in (tmp_path / "deadletter.jsonl").read_bytes().splitlines()]
    assert [(letter["origin"]["offset"], letter["reason"].split(":")[0]) for letter in letters] == [
        (2, "malformed spool entry"), (3, "unsupported envelope version None; this collector reads 1")]
    assert open_spool(tmp_path / "spool").pending_entries == 0
    engine.close()
