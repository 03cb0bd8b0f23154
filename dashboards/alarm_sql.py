"""SQL over the alarm tables (storage/migrations/m0300_alarms.py, written by alarms/store.py).

Alarm times are epoch milliseconds (UInt64); the range filter converts the
plugin's second-precision bounds instead of using $__timeFilter_ms, whose
fromUnixTimestamp64Milli (DateTime64) does not exist on ClickHouse 18.16.
The new state of a StateUpdate is the last word of its CloudWatch summary
("Alarm updated from OK to ALARM", alarms/history.py).
"""

from __future__ import annotations

from dashboards.model import AnnotationSpec


def ms_filter(column: str) -> str:
    """column (epoch ms) within the dashboard's range, to the end of its last second."""
    return (f"{column} >= toUInt64(toUInt32($__fromTime)) * 1000 "
            f"AND {column} <= toUInt64(toUInt32($__toTime)) * 1000 + 999")


def ms_time(column: str) -> str:
    return f"toDateTime(intDiv({column}, 1000))"


NEW_STATE = "extract(summary, 'to ([A-Z_]+)$')"
STATE_CODES = ((0, "OK", "green"), (1, "INSUFFICIENT_DATA", "yellow"), (2, "ALARM", "red"))
STATE_CODE = "multiIf(state = 'ALARM', 2, state = 'OK', 0, 1)"
STATE_UPDATES = "alarm_history WHERE item_type = 'StateUpdate'"

TRANSITION_ANNOTATION = AnnotationSpec(
    "Alarm transitions",
    f"SELECT {ms_time('timestamp_ms')} AS time, concat(name, ': ', summary) AS text, name AS tags "
    f"FROM {STATE_UPDATES} AND {ms_filter('timestamp_ms')} ORDER BY time",
    color="red")
