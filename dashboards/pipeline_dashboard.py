"""Pipeline health: the agent's and the collector's metrics about themselves (namespace Watchkeeper).

SELF_METRICS is the contract with the agent and the collector, who emit exactly
these (docs/dashboards.md, "Self-metrics the dashboards expect").
"""

from __future__ import annotations

from dataclasses import dataclass

from dashboards.metric_sql import (HOST, LARGEST, RATE, SELF_NAMESPACE, TOTAL, dimension, join_labels, metric_timeseries,
                                   tier_variables)
from dashboards.model import DashboardSpec, PanelSpec
from watchkeeper.storage.sql import quote

UID = "watchkeeper-pipeline"


@dataclass(frozen=True)
class SelfMetric:
    name: str
    dimensions: tuple[str, ...]
    unit: str
    meaning: str


SELF_METRICS = (
    SelfMetric("AgentHeartbeat", ("host",), "Count", "1 per agent metrics cycle: the agent is alive and shipping."),
    SelfMetric("SpoolBytes", ("host",), "Bytes", "Bytes in the agent's local spool not yet acknowledged by Kafka."),
    SelfMetric("SpoolRecords", ("host",), "Count", "Envelopes in the agent's spool not yet acknowledged."),
    SelfMetric("ConsumerLag", ("collector", "topic"), "Count",
               "Records behind the end of the topic for the collector's group (summed over partitions)."),
    SelfMetric("RowsInserted", ("collector", "table"), "Count", "Rows the collector inserted since its last report."),
    SelfMetric("InsertErrors", ("collector", "table"), "Count", "Failed ClickHouse inserts since the last report."),
    SelfMetric("DeadLetters", ("collector", "topic"), "Count",
               "Records set aside as undecodable or invalid since the last report."),
)

_AGENT_LABELS = join_labels(SELF_NAMESPACE, "metric_name = 'AgentHeartbeat'", {"host": HOST})
# No FINAL and no fold: a duplicate row has the same ts, which cannot change max(ts).
HEARTBEATS = (
    "SELECT host, toDateTime(max(last_ts)) AS last_heartbeat, toUInt32(now()) - max(last_ts) AS seconds_since "
    "FROM (SELECT fingerprint, toUInt32(max(ts)) AS last_ts FROM ${metrics_table} "
    f"WHERE namespace = {quote(SELF_NAMESPACE)} AND metric_name = 'AgentHeartbeat' AND $__timeFilter(ts) "
    f"GROUP BY fingerprint) AS latest {_AGENT_LABELS} "
    "GROUP BY host ORDER BY seconds_since DESC, host"
)


def _collector(metric: str, by: str, value: str) -> str:
    return metric_timeseries((metric,), "concat(collector, ' ', detail)", value=value,
                             labels={"collector": dimension("collector"), "detail": dimension(by)},
                             namespace=SELF_NAMESPACE, host_filter=False)


def _largest(metric: str) -> str:
    """The largest value across hosts per bucket: one line, whatever the fleet size (the heartbeat
    table names the hosts)."""
    return metric_timeseries((metric,), "'largest host'", value=LARGEST, namespace=SELF_NAMESPACE,
                             host_filter=False, whole_fleet=True)


def spec() -> DashboardSpec:
    panels = (
        PanelSpec("Agent heartbeats (oldest first)", "table", HEARTBEATS, width=8, height=9),
        PanelSpec("Largest spool (bytes)", "timeseries", _largest("SpoolBytes"),
                  width=8, height=9, unit="bytes"),
        PanelSpec("Largest spool (envelopes)", "timeseries", _largest("SpoolRecords"),
                  width=8, height=9),
        PanelSpec("Kafka consumer lag", "timeseries", _collector("ConsumerLag", "topic", LARGEST),
                  width=12, height=9),
        PanelSpec("Collector insert rate", "timeseries", _collector("RowsInserted", "table", RATE),
                  width=12, height=9, unit="rowsps"),
        PanelSpec("Insert errors", "timeseries", _collector("InsertErrors", "table", TOTAL),
                  width=12, height=9),
        PanelSpec("Dead letters", "timeseries", _collector("DeadLetters", "topic", TOTAL),
                  width=12, height=9),
    )
    return DashboardSpec(uid=UID, title="Watchkeeper / Pipeline health",
                         description="Agents, spools, Kafka lag and the collector, from their own metrics.",
                         panels=panels, variables=tier_variables(), time_from="now-6h",
                         tags=("watchkeeper", "pipeline"))
