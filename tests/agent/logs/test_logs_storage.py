"""The logs tables on both engines: rows from envelopes, dedup by event identity, bad items named."""

from __future__ import annotations

import time

import pytest

from watchkeeper.errors import WireError
from watchkeeper.events import Kind
from watchkeeper.storage.engine import Engine
from watchkeeper.storage.logs import LogRun, detect_severity, severities, to_rows
from watchkeeper.wire import make_envelope

NOW_MS = int(time.time()) * 1000  # recent: older rows would be past the group's 7-day TTL


def run(offsets: list[int], messages: list[str], file_id: str = "fe-1-abc-1024") -> LogRun:
    return LogRun("app", "host-1", "/var/log/app.log", file_id, 7, NOW_MS + 5, offsets,
                  [NOW_MS + i for i in range(len(offsets))], messages)


def write(engine: Engine, items: list[LogRun]) -> None:
    for table, columns in to_rows(make_envelope(Kind.LOGS, "agent", "host-1", [r.to_item() for r in items])).items():
        engine.insert(table, columns)


def test_redelivered_lines_fold_into_one_row(engine: Engine) -> None:
    write(engine, [run([0, 10, 20], ["ERROR boom", "plain", "level=warn x"])])
    write(engine, [run([10, 20, 30], ["plain", "level=warn x", "new"])])  # a re-read after a crash
    rows = engine.query("SELECT file_offset, message, severity, timestamp_ms, toUInt32(ts), event_id "
                        "FROM logs FINAL ORDER BY file_offset")
    assert [(r[0], r[1], r[2]) for r in rows] == [(0, "ERROR boom", "ERROR"), (10, "plain", ""),
                                                   (20, "level=warn x", "WARN"), (30, "new", "")]
    assert rows[0][3] == NOW_MS and rows[0][4] == NOW_MS // 1000
    # The event id is the line's identity: one per line, the same for both copies of a re-read line.
    assert len({r[5] for r in rows}) == 4
    copies = engine.query("SELECT file_offset, uniqExact(event_id), count() FROM logs GROUP BY file_offset "
                          "ORDER BY file_offset")
    assert copies == [(0, 1, 1), (10, 1, 2), (20, 1, 2), (30, 1, 1)]
    assert engine.query("SELECT name, retention_in_days FROM log_groups FINAL") == [("app", 7)]
    streams = engine.query("SELECT log_group, log_stream, min(first_event_ms), max(last_event_ms) "
                           "FROM log_streams GROUP BY log_group, log_stream")
    assert streams == [("app", "host-1", NOW_MS, NOW_MS + 2)]


def test_same_offset_in_another_file_identity_is_another_event(engine: Engine) -> None:
    write(engine, [run([0], ["before copytruncate"]), run([0], ["after", ], file_id="fe-1-abc-1024-g1")])
    assert engine.query("SELECT count() FROM logs FINAL") == [(2,)]


@pytest.mark.parametrize("message, severity", [
    ("2024-01-01 ERROR x", "ERROR"), ("WARNING: disk", "WARN"), ("[INFO] up", "INFO"), ("DEBUG x", "DEBUG"),
    ('{"level":"error","msg":"x"}', "ERROR"), ("CRITICAL fail", "FATAL"), ("an error happened", ""),
    ("no level here", ""), ("TRACE", "TRACE"),
])
def test_severity_detection(message: str, severity: str) -> None:
    assert detect_severity(message) == severity


def test_severities_of_a_run_are_those_of_each_message() -> None:
    messages = ["GET /a 200", "ERROR boom", "x" * 300 + " ERROR past the scanned head", "level=warn x", "",
                "multi\nERROR in a continuation", "an error happened", "TRACE", "x" * 250 + "INFO"]
    expected = [detect_severity(message) for message in messages]
    assert expected[1] == "ERROR" and expected[2] == ""
    assert severities(messages, "\n".join(messages)) == expected
    unicode = messages + ["ünïcode ERROR", "ſeverity=error"]
    assert severities(unicode, "\n".join(unicode)) == [detect_severity(message) for message in unicode]


@pytest.mark.parametrize("change, complaint", [
    ({"offsets": [0, 1]}, "item 0.timestamps_ms: found 1 values; allowed: 2"),
    ({"offsets": [-1]}, "item 0.offsets[0]: found int -1; allowed: a non-negative int"),
    ({"messages": [5]}, "item 0.messages[0]: found int 5; allowed: str"),
    ({"file_id": None}, "item 0.file_id: found NoneType None; allowed: str"),
    ({"log_group": ""}, "item 0.log_group: found an empty string"),
])
def test_invalid_items_are_named(change: dict[str, object], complaint: str) -> None:
    item = run([0], ["x"]).to_item() | change
    with pytest.raises(WireError, match=complaint.replace("[", r"\[").replace("]", r"\]")):
        to_rows(make_envelope(Kind.LOGS, "agent", "host-1", [item]))
