"""`watchkeeper collector run`: config errors exit 2, unreachable services exit 3, SIGTERM flushes and commits."""

from __future__ import annotations

import re
import signal
import subprocess
import sys
from pathlib import Path

from collector_support import Topics, committed, metric_envelope, produce, sample_counts, write_config
from watchkeeper.storage.engine import ServerEngine

COMMAND = [sys.executable, "-c", "from watchkeeper.cli.main import main; main()", "collector", "run"]


def run(config: Path, *extra: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([*COMMAND, "--config", str(config), *extra], capture_output=True, text=True,
                          timeout=120, check=False)


def test_bad_config_exits_2_naming_every_problem(tmp_path: Path) -> None:
    config = tmp_path / "watchkeeper.toml"
    config.write_text("[collector]\nmax_rows = 0\nbatch = 5\n")
    result = run(config)
    assert result.returncode == 2
    assert f"{config}: collector.max_rows: found 0" in result.stderr
    assert f"{config}: collector.batch: unknown key; allowed keys: group_id, max_age_s" in result.stderr
    assert "Traceback" not in result.stderr


def test_unreachable_clickhouse_exits_3_after_the_wait(tmp_path: Path) -> None:
    config = tmp_path / "watchkeeper.toml"
    config.write_text('[clickhouse]\nurl = "clickhouse://127.0.0.1:1/nowhere"\n')
    result = run(config, "--wait", "1")
    assert result.returncode == 3
    assert "ClickHouse still unreachable after 1s" in result.stderr
    assert "Traceback" not in result.stderr


def test_sigterm_inserts_what_is_buffered_and_commits_it(topics: Topics, unique_name: str, tmp_path: Path) -> None:
    envelopes = [metric_envelope(f"web-{i}", 1_800_000_000 + 100 * i, 10) for i in range(3)]
    produce(topics.bootstrap, topics.metrics, [(e.host, e.encode()) for e in envelopes])
    # Buffers never fall due on their own: only the stop can insert them.
    config = write_config(tmp_path / "watchkeeper.toml", topics, unique_name,
                          "max_age_s = 3600.0\nmax_rows = 1000000")
    process = subprocess.Popen([*COMMAND, "--config", str(config), "--log-level", "debug"],
                               stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    engine = ServerEngine("127.0.0.1", 9000, unique_name)
    try:
        _wait_until_polled(process, len(envelopes))
        process.send_signal(signal.SIGTERM)
        out, err = process.communicate(timeout=60)
        assert process.returncode == 0, err[-2000:]
        assert "'rows_inserted': {'metric_samples': 30" in out
        assert committed(topics.bootstrap, unique_name, topics.metrics) == 3
        assert sample_counts(engine)[1] == 30
    finally:
        if process.poll() is None:
            process.kill()
        engine.command(f"DROP DATABASE IF EXISTS {unique_name}")
        engine.close()


def _wait_until_polled(process: subprocess.Popen[str], records: int) -> None:
    """Read the collector's debug log until it reports having polled this many records."""
    assert process.stderr is not None
    polled = 0
    for line in process.stderr:
        if match := re.search(r"polled (\d+) records", line):
            polled += int(match.group(1))
            if polled >= records:
                return
    raise AssertionError(f"collector exited after polling {polled} of {records} records")
