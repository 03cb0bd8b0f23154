"""The running loop, woken by inotify or by polling, ships lines written after it started."""

from __future__ import annotations

import threading
import time
from dataclasses import replace
from pathlib import Path

import pytest

from agent.logs.watcher import ChangeSource, InotifyChanges, PollingChanges
from logs_tail_support import FAST, Harness, SeqWriter, assert_exactly_once


@pytest.mark.parametrize("mode", ["inotify", "poll"])
def test_loop_picks_up_new_files_and_lines(tmp_path: Path, mode: str) -> None:
    # With inotify, the periodic rescan is pushed out of reach: only events can find the new file.
    options = replace(FAST, rescan_interval_s=3600 if mode == "inotify" else 0.2, poll_interval_s=0.1)
    harness = Harness(tmp_path, pattern="**/*.log", options=options)
    changes: ChangeSource = InotifyChanges() if mode == "inotify" else PollingChanges()
    writer = SeqWriter()
    stop = threading.Event()
    loop = threading.Thread(target=harness.tailer.run, args=(stop, changes))
    loop.start()
    try:
        (harness.logs / "sub").mkdir()
        for _ in range(5):
            writer.write(harness.logs / "sub" / "late.log", 20)
            time.sleep(0.05)
        # Wait for the loop to catch up; the deadline only bounds a hang, the assertion is on content.
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline and len(harness.events()) < len(writer.written):
            time.sleep(0.05)
    finally:
        stop.set()
        loop.join()
    assert_exactly_once(harness.events(), writer.written)
