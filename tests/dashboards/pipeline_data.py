"""Real pipeline data for the dashboards' proofs: written through the same code paths the collector uses.

Metrics go through write_metrics (CloudWatch agent names, as agent/inputs publishes
them, plus the self-metrics of namespace Watchkeeper), logs through the logs writer's
to_rows, audit records through write_audit's hash chain, alarms through AlarmStore.
"""

from __future__ import annotations

import math
import time

from alarms.history import action_failed, action_succeeded, state_update
from alarms.store import AlarmStore, StoredState
from audit.chain import Chainer, write_audit
from audit.record import new_record, resource
from dashboards.pipeline_dashboard import SELF_METRICS
from watchkeeper.events import Kind, MetricDatum, normalise_dimensions
from watchkeeper.storage import logs as log_rows
from watchkeeper.storage.engine import Engine
from watchkeeper.storage.logs import LogRun
from watchkeeper.storage.metrics import SAMPLE_COLUMNS, write_metrics
from watchkeeper.wire import make_envelope

HOSTS = ("web-1", "web-2", "db-1")
MINUTES = 120
NOW = int(time.time()) // 60 * 60
LOG_GROUPS = ("/var/log/syslog", "/var/log/app.log")
ALARMS = ("cpu-high-web-1", "disk-full-db-1")

_GAUGES = {
    "cpu_usage_user": ("Percent", {"cpu": "cpu-total"}), "cpu_usage_system": ("Percent", {"cpu": "cpu-total"}),
    "cpu_usage_iowait": ("Percent", {"cpu": "cpu-total"}), "cpu_usage_active": ("Percent", {"cpu": "cpu-total"}),
    "mem_used": ("Bytes", {}), "mem_cached": ("Bytes", {}), "mem_available": ("Bytes", {}),
    "mem_used_percent": ("Percent", {}), "swap_used_percent": ("Percent", {}),
    "netstat_tcp_established": ("Count", {}), "netstat_tcp_time_wait": ("Count", {}),
    "processes_running": ("Count", {}), "processes_sleeping": ("Count", {}), "processes_total": ("Count", {}),
    "diskio_read_bytes": ("Bytes", {"name": "sda"}), "diskio_write_bytes": ("Bytes", {"name": "sda"}),
    "net_bytes_recv": ("Bytes", {"interface": "eth0"}), "net_bytes_sent": ("Bytes", {"interface": "eth0"}),
}
_MOUNTS = ("/", "/var")


def _value(metric: str, host_index: int, minute: int) -> float:
    """A plausible, varying reading: a daily-ish wave around a per-host level."""
    level = 20.0 + 15 * host_index
    wave = 10 * math.sin(minute / 17 + host_index)
    return round(level + wave + (hash(metric) % 7), 2)


def _datum(namespace: str, metric: str, dims: dict[str, str], ts: int, value: float, unit: str) -> dict[str, object]:
    return MetricDatum.single(namespace, metric, normalise_dimensions(dims), ts, value, unit).to_item()


def write_metric_data(engine: Engine) -> None:
    for minute in range(MINUTES):
        ts = NOW - (MINUTES - 1 - minute) * 60
        items = []
        for index, host in enumerate(HOSTS):
            for metric, (unit, dims) in _GAUGES.items():
                items.append(_datum("CWAgent", metric, {"host": host, **dims}, ts, _value(metric, index, minute), unit))
            for mount in _MOUNTS:
                items.append(_datum("CWAgent", "disk_used_percent",
                                    {"host": host, "path": mount, "device": "sda1", "fstype": "ext4"},
                                    ts, _value(mount, index, minute), "Percent"))
            for metric in SELF_METRICS:
                if metric.dimensions == ("host",):
                    items.append(_datum("Watchkeeper", metric.name, {"host": host}, ts,
                                        1.0 if metric.name == "AgentHeartbeat" else _value(metric.name, index, minute),
                                        metric.unit))
        for metric in SELF_METRICS:
            if metric.dimensions != ("host",):
                second = "topic" if "topic" in metric.dimensions else "table"
                items.append(_datum("Watchkeeper", metric.name, {"collector": "collector-1", second: "metrics"},
                                    ts, _value(metric.name, 0, minute), metric.unit))
        write_metrics(engine, [(f"dash-test-{minute}", items)])
    roll_up(engine)


def roll_up(engine: Engine) -> None:
    """Fill the 5-minute and 1-hour tiers from raw samples, as statistic sets (count, sum, min, max)."""
    columns = [c for c in SAMPLE_COLUMNS if c not in ("resolution", "event_id")]
    for table, seconds in (("metric_samples_5m", 300), ("metric_samples_1h", 3600)):
        engine.command(
            f"INSERT INTO {table} ({', '.join(columns)}) SELECT namespace, metric_name, fingerprint, "
            f"{engine.capabilities.bucket('ts', seconds)} AS bucket, sum(count), sum(sum), min(min), max(max), "
            "any(unit) FROM metric_samples FINAL GROUP BY namespace, metric_name, fingerprint, bucket")


def write_log_data(engine: Engine) -> None:
    lines = ("INFO request served in 12 ms", "ERROR database connection refused",
             "WARN slow query took 2.1 s", "ERROR database connection refused", "plain line without a level")
    for host in HOSTS:
        items = []
        for group in LOG_GROUPS:
            count = 60
            items.append(LogRun(group, host, group, f"{host}:{group}", 30, NOW * 1000, list(range(0, count * 100, 100)),
                                [(NOW - 3600 + i * 60) * 1000 for i in range(count)],
                                [lines[i % len(lines)] for i in range(count)]).to_item())
        envelope = make_envelope(Kind.LOGS, f"agent-{host}", host, items)
        for table, columns in log_rows.to_rows(envelope).items():
            engine.insert(table, columns)


def write_audit_data(engine: Engine) -> None:
    batches = []
    for host in HOSTS:
        records = [new_record(
            event_source="watchkeeper.fim", event_name="FileModified",
            user_identity={"type": "HostUser", "userName": "root"}, installation_id="test",
            resources=[resource("Host::File", f"/etc/app-{n}.conf", host)], event_type="HostChange",
            request_parameters={"path": f"/etc/app-{n}.conf"},
            additional_event_data={"diff": f"--- a\n+++ b\n-port = {n}\n+port = {n + 1}\n"},
            event_time=NOW - 600 * n) for n in range(1, 4)]
        batches.append((host, records))
    write_audit(engine, Chainer(engine), batches)


def write_alarm_data(engine: Engine) -> None:
    store = AlarmStore(engine)
    start_ms = (NOW - 3000) * 1000
    store.write_states([StoredState(name, "ALARM", "OK", "Threshold crossed", "", start_ms, start_ms, 1)
                        for name in ALARMS])
    history = []
    for name in ALARMS:
        history.append(state_update(name, ("INSUFFICIENT_DATA", "", ""), ("OK", "Threshold not crossed", ""),
                                    (NOW - 5 * 86400) * 1000))
        history.append(state_update(name, ("OK", "", ""), ("ALARM", "Threshold crossed", ""), start_ms))
        history.append(action_succeeded(name, "https://hooks.example/alarm", start_ms, start_ms + 500, "200 OK",
                                        b"{}"))
        history.append(action_failed(name, "mailto:ops@example.com", start_ms, start_ms + 700, "timeout", 1, 3, 5.0))
    store.append_history(history)


def write_all(engine: Engine) -> None:
    write_metric_data(engine)
    write_log_data(engine)
    write_audit_data(engine)
    write_alarm_data(engine)
