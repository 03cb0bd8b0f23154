"""Log shipping torture (issue 3): 200,000 sequence-numbered lines, every one stored exactly once.

Four writers rotate their files by rename and by copytruncate at random moments while
a nemesis crashes the agent with SIGKILL during heavy writing and takes the Kafka
broker away; the oracle then reads every stored line back (FINAL) and demands each
(writer, seq) exactly once and, within each file identity, in byte-offset order.
The same run goes through `watchkeeper up` (spool + chdb), crashing `up` itself.
Set WATCHKEEPER_TORTURE_SEED to replay a run's rotation plan.
"""

from __future__ import annotations

import json
import os
import random
import socket
import subprocess
import time
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from logs_torture_support import (
    TIMESTAMP_FORMAT,
    AgentGate,
    Service,
    Verdict,
    WritingRun,
    judge,
    settle_growth,
    watchkeeper_cli,
)
from services import KafkaInstance
from testenv import CLICKHOUSE_HOST, CLICKHOUSE_PORT
from watchkeeper.storage.engine import EmbeddedEngine, Engine, ServerEngine
from watchkeeper.storage.sql import literal

WRITERS = 4
LINES_PER_WRITER = 50_000
OUTAGE_S = 15.0
STALL_S = 60.0
"""The stored count standing still this long short of the total means lines are missing."""

RecordProperty = Callable[[str, object], None]
BROKER = KafkaInstance("torture-logs", 19492, 19493)
STATE_FILE = Path("agent") / "logs" / "log_offsets.json"


def _seed() -> int:
    return int(os.environ.get("WATCHKEEPER_TORTURE_SEED") or random.randrange(1 << 31))


def _agent_config(tmp_path: Path, logs_dir: Path, group: str) -> Path:
    """The CloudWatch agent's logs section tailing the live files only (*.log, not the rotated w0.log.1)."""
    path = tmp_path / "amazon-cloudwatch-agent.json"
    entry = {"file_path": str(logs_dir / "*.log"), "log_group_name": group, "log_stream_name": "{hostname}",
             "timestamp_format": TIMESTAMP_FORMAT}
    path.write_text(json.dumps({"logs": {"force_flush_interval": 1,
                                         "logs_collected": {"files": {"collect_list": [entry]}}}}))
    return path


def _stored_rows(engine: Engine, group: str) -> tuple[list[tuple[str, int, str]], int]:
    """(file_id, file_offset, message) of every event with FINAL, and the row count without FINAL."""
    where = f"WHERE log_group = {literal(group)}"
    rows = engine.query(f"SELECT file_id, file_offset, message FROM logs FINAL {where}")
    raw = int(engine.query(f"SELECT count() FROM logs {where}")[0][0])
    return [(str(f), int(o), str(m)) for f, o, m in rows], raw


def _report(verdict: Verdict, seed: int, record_property: RecordProperty, *services: Service) -> None:
    print(f"\nlogs torture (seed {seed}): {verdict.summary()}")
    record_property("stored_exactly_once", verdict.stored)
    record_property("raw_duplicates_folded_by_final", verdict.folded)
    problems = verdict.problems()
    logs = "\n".join(f"--- {s.name} output (last lines) ---\n{s.tail()}" for s in services)
    assert not problems, f"seed {seed}: " + "\n".join(problems) + "\n" + logs


@pytest.fixture
def broker() -> Iterator[KafkaInstance]:
    """The private broker this test may stop; stopped again at the end (its data dir is reused)."""
    BROKER.start()
    yield BROKER
    BROKER.stop()


@pytest.mark.torture
@pytest.mark.timeout(600)
def test_every_line_exactly_once_through_kafka_and_clickhouse(
        tmp_path: Path, unique_name: str, broker: KafkaInstance, record_property: RecordProperty) -> None:
    seed = _seed()
    logs_dir = tmp_path / "logs"
    logs_dir.mkdir()
    data_dir = tmp_path / "agent-data"
    settings = tmp_path / "watchkeeper.toml"
    settings.write_text(
        f'data_dir = "{data_dir}"\n'
        f'[kafka]\nbootstrap_servers = ["{broker.bootstrap}"]\ntopic_prefix = "{unique_name}"\n'
        f'request_timeout_s = 10\n'
        f'[clickhouse]\nurl = "clickhouse://{CLICKHOUSE_HOST}:{CLICKHOUSE_PORT}/{unique_name}"\n'
        f'[collector]\ngroup_id = "{unique_name}"\nmax_age_s = 0.5\nretry_max_s = 2\n')
    agent_config = _agent_config(tmp_path, logs_dir, unique_name)
    collector = Service("collector", watchkeeper_cli("collector", "run", "--config", settings, "--wait", "120"),
                        tmp_path / "collector.out")
    agent = Service("agent", watchkeeper_cli("agent", "run", "--config", settings, "--agent-config", agent_config),
                    tmp_path / "agent.out")
    engine = ServerEngine(CLICKHOUSE_HOST, CLICKHOUSE_PORT, unique_name)
    run = WritingRun(logs_dir, WRITERS, LINES_PER_WRITER, AgentGate(data_dir / STATE_FILE), seed)
    try:
        collector.start()
        agent.start()
        run.start()
        run.until(0.15)
        agent.crash_and_restart()
        run.until(0.30)
        broker.stop()
        time.sleep(OUTAGE_S)  # the agent keeps tailing into its spool; the collector waits for the broker
        broker.start()
        run.until(0.55)
        run.crash_while_writing_hard(agent.crash_and_restart)
        run.until(0.80)
        run.crash_while_writing_hard(agent.crash_and_restart)
        run.join()

        def stored() -> int:
            where = f"WHERE log_group = {literal(unique_name)}"
            return int(engine.query(f"SELECT count() FROM logs FINAL {where}")[0][0])

        settle_growth(stored, run.total, STALL_S, 2.0)
        rows, raw = _stored_rows(engine, unique_name)
        _report(judge(rows, raw, WRITERS, LINES_PER_WRITER), seed, record_property, agent, collector)
        assert agent.crashes >= 2
        assert agent.stop() == 0, agent.tail()
        assert collector.stop() == 0, collector.tail()
    finally:
        agent.stop()
        collector.stop()
        engine.command(f"DROP DATABASE IF EXISTS {unique_name}")
        engine.close()


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def _serving(port: int) -> bool:
    try:
        with socket.create_connection(("127.0.0.1", port), timeout=1):
            return True
    except OSError:
        return False


def _events_through_api(endpoint: str, group: str) -> list[dict[str, object]]:
    """Every event of the group as FilterLogEvents returns it, all pages (the CLI follows nextToken)."""
    result = subprocess.run(
        watchkeeper_cli("--endpoint", endpoint, "logs", "filter-log-events", "--log-group-name", group,
                        "--start-time", "0"),
        capture_output=True, text=True, timeout=300, check=False)
    assert result.returncode == 0, result.stderr
    events: list[dict[str, object]] = json.loads(result.stdout)["events"]
    return events


@pytest.mark.torture
@pytest.mark.timeout(600)
def test_every_line_exactly_once_through_watchkeeper_up(
        tmp_path: Path, record_property: RecordProperty) -> None:
    seed = _seed()
    group = "torture-up"
    logs_dir = tmp_path / "logs"
    logs_dir.mkdir()
    data_dir = tmp_path / "data"
    port = _free_port()
    endpoint = f"http://127.0.0.1:{port}"
    up = Service("up", watchkeeper_cli("up", "--data-dir", data_dir, "--listen", f"127.0.0.1:{port}",
                                       "--agent-config", _agent_config(tmp_path, logs_dir, group)),
                 tmp_path / "up.out", ready=lambda: _serving(port))
    run = WritingRun(logs_dir, WRITERS, LINES_PER_WRITER, AgentGate(data_dir / STATE_FILE), seed)
    try:
        up.start()
        run.start()
        run.until(0.25)
        run.crash_while_writing_hard(up.crash_and_restart)
        run.until(0.50)
        run.crash_while_writing_hard(up.crash_and_restart)
        run.until(0.75)
        run.crash_while_writing_hard(up.crash_and_restart)
        run.join()
        events: list[dict[str, object]] = []

        def served() -> int:
            events[:] = _events_through_api(endpoint, group)
            return len(events)

        settle_growth(served, run.total, STALL_S, 5.0)
        assert up.stop() == 0, up.tail()
        # chdb holds a lock per path: the store is read directly only once `up` has stopped.
        engine = EmbeddedEngine(data_dir / "db")
        try:
            rows, raw = _stored_rows(engine, group)
        finally:
            engine.close()
        verdict = judge(rows, raw, WRITERS, LINES_PER_WRITER)
        _report(verdict, seed, record_property, up)
        assert len({e["eventId"] for e in events}) == len(events) == verdict.stored
        assert sorted(str(e["message"]) for e in events) == sorted(message for _, _, message in rows)
        assert up.crashes >= 2
    finally:
        up.stop()
