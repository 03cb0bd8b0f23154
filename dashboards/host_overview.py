"""Host overview: one or more hosts' CPU, memory, swap, disks, network, TCP and processes, plus the fleet.

The metric names are the CloudWatch agent's, as agent/inputs/ publishes them in
namespace CWAgent with a host dimension. The agent has no load-average input, so
there is no load panel. Alarm transitions are overlaid as annotations.
"""

from __future__ import annotations

from dashboards.alarm_sql import TRANSITION_ANNOTATION
from dashboards.audit_dashboard import AUDIT_ANNOTATION
from dashboards.metric_sql import (AGENT_NAMESPACE, HOST, RATE, dimension, join_labels, metric_timeseries, samples,
                                   short_name, tier_variables)
from dashboards.model import DashboardSpec, PanelSpec, VariableSpec
from watchkeeper.storage.sql import in_list, quote

UID = "watchkeeper-host-overview"

CPU_MODES = ("cpu_usage_user", "cpu_usage_system", "cpu_usage_iowait", "cpu_usage_nice", "cpu_usage_irq",
             "cpu_usage_softirq", "cpu_usage_steal")
MEMORY = ("mem_used", "mem_cached", "mem_buffered", "mem_available")
TCP_STATES = ("netstat_tcp_established", "netstat_tcp_time_wait", "netstat_tcp_close_wait", "netstat_tcp_listen",
              "netstat_tcp_syn_sent", "netstat_tcp_syn_recv")
PROCESSES = ("processes_running", "processes_sleeping", "processes_blocked", "processes_zombies")

HOST_VARIABLE = VariableSpec(
    "host", "Host",
    f"SELECT DISTINCT {HOST} AS host FROM metric_series WHERE namespace = {quote(AGENT_NAMESPACE)} "
    "AND has(dim_names, 'host') ORDER BY host",
    multi=True)
# No All option: per-host graphs of a whole fleet would be thousands of lines and seconds of query
# time (bench/dashboard_queries.py); the fleet table below is the all-hosts view.

# Latest value of every fleet column per host: last sample per series, then per host
# (the fullest mount for disk). Per-core CPU series are left out; cpu-total is the host's figure.
_FLEET_COLUMNS = (("cpu_pct", "max", "cpu_usage_active"), ("mem_pct", "max", "mem_used_percent"),
                  ("swap_pct", "max", "swap_used_percent"), ("fullest_disk_pct", "max", "disk_used_percent"),
                  ("tcp_established", "sum", "netstat_tcp_established"), ("processes", "sum", "processes_total"))
_FLEET_METRICS = tuple(metric for _, _, metric in _FLEET_COLUMNS)
_FLEET_LABELS = join_labels(AGENT_NAMESPACE, "has(dim_names, 'host')", {"host": HOST, "cpu": dimension("cpu")})
FLEET_SQL = (
    "SELECT host, "
    + ", ".join(f"round({agg}If(last_value, metric_name = {quote(metric)}), 1) AS {alias}"
                for alias, agg, metric in _FLEET_COLUMNS)
    + ", toDateTime(max(last_ts)) AS last_seen FROM ("
    "SELECT fingerprint, metric_name, argMax(s / c, ts) AS last_value, toUInt32(max(ts)) AS last_ts FROM "
    + samples(f"namespace = {quote(AGENT_NAMESPACE)} AND metric_name IN {in_list(_FLEET_METRICS)} "
              "AND $__timeFilter(ts) "
              # Latest means the last few points of the tier. Every series' newest point over the whole range
              # would cost 0.8-2 s at 30 days (docs/benchmarks.md); a host silent longer shows in Pipeline health.
              "AND toUInt32(ts) >= toUInt32($__toTime) - 3 * ${metrics_step}")
    + " AS folded GROUP BY fingerprint, metric_name"
    f") AS latest {_FLEET_LABELS} "
    "WHERE cpu IN ('', 'cpu-total') GROUP BY host ORDER BY host"
)


def spec() -> DashboardSpec:
    per_host = "concat(host, ' ', {})"
    panels = (
        PanelSpec("CPU by mode", "timeseries",
                  metric_timeseries(CPU_MODES, per_host.format(short_name("cpu_usage_")),
                                    labels={"cpu": dimension("cpu")}, condition=f"{dimension('cpu')} = 'cpu-total'"),
                  width=12, unit="percent"),
        PanelSpec("Memory", "timeseries",
                  metric_timeseries(MEMORY, per_host.format(short_name("mem_"))), width=12, unit="bytes"),
        PanelSpec("Swap used", "timeseries",
                  metric_timeseries(("swap_used_percent",), "host"), width=8, unit="percent"),
        PanelSpec("Disk used per mount", "timeseries",
                  metric_timeseries(("disk_used_percent",), per_host.format("path"),
                                    labels={"path": dimension("path")}), width=8, unit="percent"),
        PanelSpec("Disk I/O", "timeseries",
                  metric_timeseries(("diskio_read_bytes", "diskio_write_bytes"),
                                    per_host.format(f"concat(device, ' ', {short_name('diskio_')})"),
                                    value=RATE, labels={"device": dimension("name")}), width=8, unit="Bps"),
        PanelSpec("Network", "timeseries",
                  metric_timeseries(("net_bytes_recv", "net_bytes_sent"),
                                    per_host.format(f"concat(interface, ' ', {short_name('net_')})"),
                                    value=RATE, labels={"interface": dimension("interface")}), width=8, unit="Bps"),
        PanelSpec("TCP connections by state", "timeseries",
                  metric_timeseries(TCP_STATES, per_host.format(short_name("netstat_tcp_"))), width=8),
        PanelSpec("Processes", "timeseries",
                  metric_timeseries(PROCESSES, per_host.format(short_name("processes_"))), width=8),
        PanelSpec("Fleet: latest values per host", "table", FLEET_SQL, width=24, height=10,
                  description="Every host's latest sample in the range; click a header to sort."),
    )
    return DashboardSpec(
        uid=UID, title="Watchkeeper / Host overview",
        description="Host metrics from the Watchkeeper agent (CloudWatch agent names, namespace CWAgent).",
        panels=panels, variables=(HOST_VARIABLE, *tier_variables()),
        annotations=(TRANSITION_ANNOTATION, AUDIT_ANNOTATION), tags=("watchkeeper", "hosts"))
