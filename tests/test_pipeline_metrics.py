"""Issue 2's first complete path, against the real services: the agent's collection cycles -> its spool ->
the real Kafka broker -> a collector -> the real ClickHouse server -> GetMetricStatistics through the API
and the CLI, consistent with psutil read at the same time."""

from __future__ import annotations

import socket
import threading
import time
from pathlib import Path
from typing import Any

import psutil
from click.testing import CliRunner

from agent.cwagent_config import AgentConfig
from agent.host import PsutilProbe
from agent.metrics_loop import MetricsLoop
from agent.shipper import Shipper
from collector.service import kafka_collector
from testenv import CLICKHOUSE_HOST, CLICKHOUSE_PORT, KAFKA_BOOTSTRAP, unique
from watchkeeper.api.app import create_app
from watchkeeper.api.context import ApiContext
from watchkeeper.cli.cmd_api import ApiServer
from watchkeeper.cli.main import cli
from watchkeeper.config import validate
from watchkeeper.config.settings import Settings
from watchkeeper.storage.engine import ServerEngine
from watchkeeper.storage.schema import migrate
from watchkeeper.transport.spool import Spool


def _settings(tmp_path: Path) -> Settings:
    prefix = unique("wk_pipe")
    return validate(Settings, {
        "data_dir": str(tmp_path),
        "kafka": {"bootstrap_servers": [KAFKA_BOOTSTRAP], "topic_prefix": prefix},
        "clickhouse": {"url": f"clickhouse://{CLICKHOUSE_HOST}:{CLICKHOUSE_PORT}/{prefix}"},
        "collector": {"group_id": prefix, "max_age_s": 0.2},
    }, "test")


def _agent_config() -> AgentConfig:
    return validate(AgentConfig, {
        "agent": {"metrics_collection_interval": 1},
        "metrics": {"metrics_collected": {"cpu": {"measurement": ["usage_idle"], "totalcpu": True},
                                          "mem": {"measurement": ["used_percent"]}}},
    }, "test")


def _get(runner: CliRunner, endpoint: str, metric: str, dimensions: list[str]) -> dict[str, Any]:
    import json

    result = runner.invoke(cli, ["--endpoint", endpoint, "metrics", "get-metric-statistics", "--namespace", "CWAgent",
                                 "--metric-name", metric, "--dimensions", *dimensions, "--start-time", "-5m",
                                 "--end-time", "now", "--period", "60",
                                 "--statistics", "Average", "SampleCount"])
    assert result.exit_code == 0, result.output
    answer: dict[str, Any] = json.loads(result.output)
    return answer


def test_host_metrics_flow_from_agent_through_kafka_to_clickhouse_and_the_api(tmp_path: Path) -> None:
    settings = _settings(tmp_path)
    host = socket.gethostname()
    spool = Spool(tmp_path / "spool", 64 * 1024 * 1024, 1024 * 1024, "always")
    shipper = Shipper.to_kafka(spool, settings.kafka)
    loop = MetricsLoop(_agent_config(), PsutilProbe(), shipper.submit, agent_id=host, host=host)
    engine = ServerEngine(CLICKHOUSE_HOST, CLICKHOUSE_PORT, settings.kafka.topic_prefix)
    migrate(engine, settings)
    collector = kafka_collector(settings, engine, wait_s=60)
    collector_thread = threading.Thread(target=collector.run, daemon=True)
    collector_thread.start()
    shipper.start()
    loop.start()
    api_engine = ServerEngine(CLICKHOUSE_HOST, CLICKHOUSE_PORT, settings.kafka.topic_prefix)
    try:
        with ApiServer.running(create_app(ApiContext(settings, api_engine)), "127.0.0.1:0") as server:
            runner = CliRunner()
            deadline = time.monotonic() + 90
            idle: list[dict[str, Any]] = []
            memory: list[dict[str, Any]] = []
            while time.monotonic() < deadline and not (idle and memory):
                time.sleep(1)
                idle = _get(runner, server.url, "cpu_usage_idle",
                            ["Name=cpu,Value=cpu-total", f"Name=host,Value={host}"])["Datapoints"]
                memory = _get(runner, server.url, "mem_used_percent", [f"Name=host,Value={host}"])["Datapoints"]
            expected_memory = psutil.virtual_memory().percent
            assert idle and memory, "datapoints did not arrive through Kafka and the collector"
            assert all(0.0 <= p["Average"] <= 100.0 for p in idle)
            assert abs(memory[-1]["Average"] - expected_memory) < 10.0, (memory, expected_memory)
            # One sample per collection second: nothing was stored twice on the way.
            doubled = engine.query("SELECT count() - uniqExact(ts) FROM metric_samples FINAL "
                                   "WHERE metric_name = 'mem_used_percent'")
            assert int(doubled[0][0]) == 0
    finally:
        loop.stop(10)
        shipper.stop(10)
        collector.stop()
        collector_thread.join(30)
        spool.close()
        engine.command(f"DROP DATABASE IF EXISTS {settings.kafka.topic_prefix}")
        engine.close()
        api_engine.close()
