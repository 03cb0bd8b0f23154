"""Alarms: current state of every alarm, each alarm's state over time, transitions and notification outcomes."""

from __future__ import annotations

from dashboards.alarm_sql import (NEW_STATE, STATE_CODE, STATE_CODES, STATE_UPDATES, TRANSITION_ANNOTATION,
                                  ms_filter, ms_time)
from dashboards.model import DashboardSpec, PanelSpec

UID = "watchkeeper-alarms"

CURRENT_STATES = (
    "SELECT name, state, reason, toDateTime(intDiv(since_ms, 1000)) AS since FROM ("
    "SELECT name, argMax(state_value, version) AS state, argMax(reason, version) AS reason, "
    "argMax(transitioned_ms, version) AS since_ms FROM alarm_state GROUP BY name"
    ") WHERE name NOT IN (SELECT name FROM (SELECT name, argMax(deleted, version) AS gone "
    "FROM alarm_definitions GROUP BY name) WHERE gone = 1) "
    "ORDER BY state = 'ALARM' DESC, name"
)

# Each alarm's state at the start of the range (its last transition before it), then every
# transition inside it, so the timeline is coloured from the left edge.
STATE_TIMELINE = (
    f"SELECT time, name, {STATE_CODE} AS value FROM ("
    f"SELECT $__fromTime AS time, name, argMax({NEW_STATE}, timestamp_ms) AS state FROM {STATE_UPDATES} "
    "AND timestamp_ms < toUInt64(toUInt32($__fromTime)) * 1000 GROUP BY name "
    f"UNION ALL SELECT {ms_time('timestamp_ms')} AS time, name, {NEW_STATE} AS state FROM {STATE_UPDATES} "
    f"AND {ms_filter('timestamp_ms')}"
    ") ORDER BY time"
)

TRANSITIONS = (
    f"SELECT {ms_time('timestamp_ms')} AS time, name, {NEW_STATE} AS new_state, summary "
    f"FROM {STATE_UPDATES} AND {ms_filter('timestamp_ms')} ORDER BY timestamp_ms DESC LIMIT 500"
)

OUTCOME = "visitParamExtractString(data, 'actionState')"
NOTIFICATIONS = (
    f"SELECT {ms_time('timestamp_ms')} AS time, name, {OUTCOME} AS outcome, "
    "visitParamExtractString(data, 'notificationResource') AS target, summary "
    f"FROM alarm_history WHERE item_type = 'Action' AND {ms_filter('timestamp_ms')} "
    "ORDER BY timestamp_ms DESC LIMIT 500"
)
OUTCOMES_OVER_TIME = (
    "SELECT toDateTime(intDiv(intDiv(timestamp_ms, 1000), $__interval_s) * $__interval_s) AS time, "
    f"{OUTCOME} AS series, count() AS notifications FROM alarm_history "
    f"WHERE item_type = 'Action' AND {ms_filter('timestamp_ms')} GROUP BY time, series ORDER BY time"
)


def spec() -> DashboardSpec:
    panels = (
        PanelSpec("Current state", "table", CURRENT_STATES, width=24, height=8),
        PanelSpec("State timeline", "state-timeline", STATE_TIMELINE, width=24, height=10, states=STATE_CODES),
        PanelSpec("Recent transitions", "table", TRANSITIONS, width=12, height=10),
        PanelSpec("Notification outcomes", "timeseries", OUTCOMES_OVER_TIME, width=12, height=10),
        PanelSpec("Notifications", "table", NOTIFICATIONS, width=24, height=10),
    )
    return DashboardSpec(uid=UID, title="Watchkeeper / Alarms",
                         description="Alarm states, transitions and notification deliveries.",
                         panels=panels, annotations=(TRANSITION_ANNOTATION,), time_from="now-24h",
                         tags=("watchkeeper", "alarms"))
