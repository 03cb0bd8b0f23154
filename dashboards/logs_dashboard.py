"""Logs: volume by group and severity, the matching events, and the most frequent errors.

Reads logs FINAL: a line shipped twice is one row only after a merge, and counts
must not depend on merges having run (storage/migrations/m0200_logs.py).
The search box is matched case-insensitively as plain text; ${search:singlequote}
quotes it the way ClickHouse reads string literals, so any text is safe.
"""

from __future__ import annotations

from dashboards.model import DashboardSpec, PanelSpec, VariableSpec

UID = "watchkeeper-logs"

VARIABLES = (
    VariableSpec("log_group", "Log group", "SELECT name FROM log_groups FINAL ORDER BY name",
                 multi=True, include_all=True),
    VariableSpec("search", "Search", None, default=""),
)
MATCHING = ("FROM logs FINAL WHERE $__timeFilter(ts) "
            "AND $__conditionalAll(log_group IN (${log_group:singlequote}), $log_group) "
            "AND positionCaseInsensitive(message, ${search:singlequote}) > 0")
SEVERITY = "if(severity = '', 'NONE', severity)"

VOLUME = (f"SELECT toDateTime(intDiv(toUInt32(ts), $__interval_s) * $__interval_s) AS time, "
          f"concat(log_group, ' ', {SEVERITY}) AS series, count() AS events {MATCHING} "
          "GROUP BY time, series ORDER BY time")
EVENTS = (f"SELECT ts AS timestamp, message AS body, {SEVERITY} AS level, log_group, log_stream, host "
          f"{MATCHING} ORDER BY timestamp_ms DESC LIMIT 1000")
TOP_ERRORS = ("SELECT substring(message, 1, 200) AS message_start, count() AS occurrences, "
              "uniqExact(host) AS hosts, max(ts) AS last_seen "
              f"{MATCHING} AND severity IN ('ERROR', 'FATAL') GROUP BY message_start "
              "ORDER BY occurrences DESC, message_start LIMIT 25")


def spec() -> DashboardSpec:
    panels = (
        PanelSpec("Log volume by group and severity", "timeseries", VOLUME, width=24, height=8),
        PanelSpec("Events", "logs", EVENTS, width=24, height=14),
        PanelSpec("Top error messages", "table", TOP_ERRORS, width=24, height=10),
    )
    return DashboardSpec(uid=UID, title="Watchkeeper / Logs", description="Log events shipped by the agent.",
                         panels=panels, variables=VARIABLES, time_from="now-1h", tags=("watchkeeper", "logs"))
