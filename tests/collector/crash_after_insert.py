"""Run a collector that SIGKILLs itself right after its first insert, before any offset commit.

Usage: python crash_after_insert.py WATCHKEEPER_TOML. The test that runs it then
starts a fresh collector in the same group, which must redeliver what this one
inserted without queries counting it twice.
"""

from __future__ import annotations

import os
import signal
import sys
from pathlib import Path

from collector.buffers import Batch
from collector.service import kafka_collector, open_storage
from watchkeeper.config import load_settings


def crash(_batch: Batch) -> None:
    os.kill(os.getpid(), signal.SIGKILL)


def main() -> None:
    settings = load_settings(Path(sys.argv[1]))
    collector = kafka_collector(settings, open_storage(settings, wait_s=30), wait_s=30, after_insert=crash)
    collector.run()


if __name__ == "__main__":
    main()
