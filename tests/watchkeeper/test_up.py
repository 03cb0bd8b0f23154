"""`watchkeeper up` as a newcomer runs it: a real process, its API on loopback, the CLI against it."""

from __future__ import annotations

import json
import os
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import psutil
import pytest


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


class Up:
    def __init__(self, data_dir: Path, *extra: str) -> None:
        self.data_dir = data_dir
        self.extra = extra
        self.endpoint = f"http://127.0.0.1:{_free_port()}"
        self.process: subprocess.Popen[str] | None = None

    def start(self) -> None:
        self.process = subprocess.Popen(
            [sys.executable, "-m", "watchkeeper.cli", "up", "--data-dir", str(self.data_dir),
             "--listen", self.endpoint.removeprefix("http://"), *self.extra],
            stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
        deadline = time.monotonic() + 120
        while time.monotonic() < deadline:
            assert self.process.poll() is None, self.process.stdout.read() if self.process.stdout else ""
            try:
                with socket.create_connection(("127.0.0.1", int(self.endpoint.rsplit(":", 1)[1])), timeout=1):
                    return
            except OSError:
                time.sleep(0.2)
        raise AssertionError("watchkeeper up did not start serving")

    def cli(self, *args: str, check: bool = True) -> subprocess.CompletedProcess[str]:
        result = subprocess.run([sys.executable, "-m", "watchkeeper.cli", "--endpoint", self.endpoint, *args],
                                capture_output=True, text=True, timeout=60)
        if check:
            assert result.returncode == 0, result.stderr
        return result

    def json(self, *args: str) -> Any:
        return json.loads(self.cli(*args).stdout)

    def stop(self) -> str:
        assert self.process is not None
        self.process.send_signal(signal.SIGTERM)
        output, _ = self.process.communicate(timeout=120)
        assert self.process.returncode == 0, output
        return output


@pytest.fixture
def up(tmp_path: Path) -> Iterator[Up]:
    node = Up(tmp_path / "data")
    node.start()
    yield node
    if node.process is not None and node.process.poll() is None:
        node.process.kill()


def _eventually(probe: Any, timeout: float = 90.0) -> Any:
    deadline = time.monotonic() + timeout
    while True:
        value = probe()
        if value or time.monotonic() > deadline:
            return value
        time.sleep(1)


def _statistic(up: Up, metric: str, dimensions: list[str]) -> list[dict[str, Any]]:
    answer = up.json("metrics", "get-metric-statistics", "--namespace", "CWAgent", "--metric-name", metric,
                     "--dimensions", *dimensions, "--start-time", "-10m", "--end-time", "now",
                     "--period", "10", "--statistics", "Average", "SampleCount")
    return list(answer["Datapoints"])


def test_host_metrics_are_queryable_and_match_psutil(up: Up) -> None:
    host = f"Name=host,Value={socket.gethostname()}"
    idle = _eventually(lambda: _statistic(up, "cpu_usage_idle", ["Name=cpu,Value=cpu-total", host]))
    assert idle, "no cpu_usage_idle datapoints arrived"
    assert all(0.0 <= p["Average"] <= 100.0 for p in idle)
    memory = _eventually(lambda: _statistic(up, "mem_used_percent", [host]))
    assert memory
    now = psutil.virtual_memory()
    expected = 100.0 * (now.total - now.available) / now.total
    # Memory moves a little between the sample and now; a gross error (wrong formula or unit) does not pass.
    assert abs(memory[-1]["Average"] - expected) < 10.0, (memory[-1], expected)


def test_audit_event_put_is_chained_and_looked_up_and_validates(up: Up, tmp_path: Path) -> None:
    event = tmp_path / "deploy.json"
    event.write_text(json.dumps({
        "eventSource": "deploy.example", "eventName": "Deploy",
        "userIdentity": {"type": "CI", "userName": "pipeline"},
        "resources": [{"ARN": "wk:external::deployment/web", "type": "External::Deployment"}]}))
    event_id = up.json("audit", "put-event", "--event", f"file://{event}")["EventIds"][0]
    found = _eventually(lambda: up.json("audit", "lookup-events", "--lookup-attributes",
                                        f"AttributeKey=EventId,AttributeValue={event_id}")["Events"])
    assert [e["EventName"] for e in found] == ["Deploy"]
    assert json.loads(found[0]["CloudTrailEvent"])["userIdentity"]["userName"] == "pipeline"
    report = up.cli("audit", "validate-logs", "--start-time", "-2h", "--verbose")
    assert "INVALID" not in report.stdout


def test_stop_flushes_and_restart_keeps_data(up: Up) -> None:
    host = f"Name=host,Value={socket.gethostname()}"
    assert _eventually(lambda: _statistic(up, "mem_used_percent", [host]))
    output = up.stop()
    assert "stopped" in output
    before = sum(1 for _ in (up.data_dir / "db").rglob("*"))
    assert before > 0
    up.start()
    assert _statistic(up, "mem_used_percent", [host]), "data stored before the restart is gone"
    up.stop()


def test_bad_config_is_a_clear_error_without_traceback(tmp_path: Path) -> None:
    config = tmp_path / "watchkeeper.toml"
    config.write_text('[kafka]\nbootstrap = "x"\n')
    result = subprocess.run([sys.executable, "-m", "watchkeeper.cli", "up", "--data-dir", str(tmp_path),
                             "--config", str(config)], capture_output=True, text=True, timeout=60,
                            env={**os.environ})
    assert result.returncode == 2
    assert "Traceback" not in result.stderr
    assert f"{config}: kafka.bootstrap: unknown key" in result.stderr


def test_tailed_log_lines_are_searchable_once_each(tmp_path: Path) -> None:
    log_file = tmp_path / "app.log"
    config = tmp_path / "agent.json"
    config.write_text(json.dumps({"logs": {"force_flush_interval": 1, "logs_collected": {"files": {"collect_list": [
        {"file_path": str(tmp_path / "*.log"), "log_group_name": "app", "log_stream_name": "{hostname}"}]}}}}))
    log_file.write_text("".join(f"line {i} {'ERROR' if i % 10 == 0 else 'INFO'} request done\n" for i in range(100)))
    node = Up(tmp_path / "data", "--agent-config", str(config))
    node.start()
    try:
        def errors() -> list[dict[str, Any]]:
            result = node.cli("logs", "filter-log-events", "--log-group-name", "app", "--filter-pattern", "ERROR",
                              "--start-time", "-1h", check=False)
            if "ResourceNotFoundException" in result.stderr:
                return []  # the group exists once its first lines are stored
            assert result.returncode == 0, result.stderr
            events = list(json.loads(result.stdout)["events"])
            return events if len(events) >= 10 else []

        found = _eventually(errors)
        assert sorted(e["message"] for e in found) == sorted(f"line {i} ERROR request done" for i in range(0, 100, 10))
        with log_file.open("a") as handle:
            handle.write("line 100 ERROR after start\n")
        assert _eventually(lambda: len(errors()) == 11 and errors())
        node.stop()
    finally:
        if node.process is not None and node.process.poll() is None:
            node.process.kill()


def test_file_changes_become_chained_audit_events(tmp_path: Path) -> None:
    watched = tmp_path / "etc"
    watched.mkdir()
    config = tmp_path / "watchkeeper.toml"
    config.write_text(f'[audit.files]\npaths = ["{watched}"]\n[audit.feeds]\nenabled = false\n')
    node = Up(tmp_path / "data", "--config", str(config))
    node.start()
    try:
        target = watched / "app.conf"
        target.write_text("port = 80\npassword = hunter2\n")

        def events_for(name: str) -> list[dict[str, Any]]:
            answer = node.json("audit", "lookup-events", "--lookup-attributes",
                               f"AttributeKey=ResourceName,AttributeValue={target}")
            return [e for e in answer["Events"] if e["EventName"] == name]

        created = _eventually(lambda: events_for("CreateFile"))
        assert created, "the new file was not recorded"
        target.write_text("port = 8080\npassword = swordfish\n")
        modified = _eventually(lambda: events_for("ModifyFile"))
        assert modified, "the edit was not recorded"
        record = json.loads(modified[0]["CloudTrailEvent"])
        text = json.dumps(record)
        assert "swordfish" not in text and "hunter2" not in text, "a secret leaked into the audit trail"
        assert "8080" in text  # the diff shows what changed
        target.chmod(0o600)
        assert _eventually(lambda: events_for("ChangeFileMode"))
        report = node.cli("audit", "validate-logs", "--start-time", "-2h")
        assert "INVALID" not in report.stdout
        node.stop()
    finally:
        if node.process is not None and node.process.poll() is None:
            node.process.kill()
