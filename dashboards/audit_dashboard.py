"""Audit: changes over time, by host, user and event name; recent changes with their diffs.

Changes are the records that are not read-only. A host is an audit chain (one per
origin: an agent's host, or api:<host> for Watchkeeper's own API). File diffs are
the `diff` field of additionalEventData (agent/audit/file_events.py), read with
visitParamExtractString, which 18.16 has (JSONExtract it has not).
"""

from __future__ import annotations

from dashboards.model import AnnotationSpec, DashboardSpec, PanelSpec, VariableSpec

UID = "watchkeeper-audit"

CHANGES = ("FROM audit_events WHERE read_only = 0 AND $__timeFilter(event_time) "
           "AND $__conditionalAll(chain IN (${host:singlequote}), $host)")
RESOURCES = "arrayStringConcat(resource_names, ', ')"

AUDIT_ANNOTATION = AnnotationSpec(
    "Changes (audit)",
    f"SELECT event_time AS time, concat(event_name, ' ', {RESOURCES}, ' by ', username) AS text, "
    f"chain AS tags {CHANGES} ORDER BY time LIMIT 1000",
    color="purple")

HOST_VARIABLE = VariableSpec("host", "Host", "SELECT DISTINCT chain FROM audit_events ORDER BY chain",
                             multi=True, include_all=True)


def _top(column: str, alias: str) -> str:
    return (f"SELECT {column} AS {alias}, count() AS changes, max(event_time) AS last_change {CHANGES} "
            f"GROUP BY {alias} ORDER BY changes DESC, {alias} LIMIT 50")


OVER_TIME = ("SELECT toDateTime(intDiv(toUInt32(event_time), $__interval_s) * $__interval_s) AS time, "
             f"event_source AS series, count() AS changes {CHANGES} GROUP BY time, series ORDER BY time")
RECENT = (f"SELECT event_time AS time, chain AS host, username, event_name, {RESOURCES} AS resources, "
          f"visitParamExtractString(record, 'diff') AS diff {CHANGES} ORDER BY event_time DESC, seq DESC LIMIT 200")


def spec() -> DashboardSpec:
    panels = (
        PanelSpec("Changes over time", "timeseries", OVER_TIME, width=24, height=8),
        PanelSpec("By host", "table", _top("chain", "host"), width=8, height=9),
        PanelSpec("By user", "table", _top("username", "user"), width=8, height=9),
        PanelSpec("By event name", "table", _top("event_name", "event"), width=8, height=9),
        PanelSpec("Recent changes", "table", RECENT, width=24, height=14,
                  description="Newest first; file changes carry their redacted unified diff."),
    )
    return DashboardSpec(uid=UID, title="Watchkeeper / Audit", description="The tamper-evident change record.",
                         panels=panels, variables=(HOST_VARIABLE,), annotations=(AUDIT_ANNOTATION,),
                         time_from="now-24h", tags=("watchkeeper", "audit"))
