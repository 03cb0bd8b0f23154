"""Metric filter definitions (PutMetricFilter).

One row per put or delete of a filter: a ReplacingMergeTree on (log_group,
filter_name) whose version is the time of the change in ms, so the latest change
wins and a delete is a row with deleted = 1. Filters are few; readers take FINAL.
The one metric transformation AWS allows per filter is stored as its JSON text,
so the API answers DescribeMetricFilters with exactly what was put.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from watchkeeper.storage.schema import Context


def statements(ctx: Context) -> list[str]:
    return [
        "CREATE TABLE IF NOT EXISTS metric_filters ("
        "log_group String, filter_name String, filter_pattern String, transformations String, "
        "version_ms Int64, deleted UInt8"
        ") ENGINE = ReplacingMergeTree(version_ms) ORDER BY (log_group, filter_name)",
    ]
