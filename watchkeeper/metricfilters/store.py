"""Metric filter definitions in ClickHouse (table metric_filters, migration m0210)."""

from __future__ import annotations

import time

import orjson

from watchkeeper.metricfilters.model import MetricFilter, Transformation
from watchkeeper.storage.engine import Engine
from watchkeeper.storage.sql import quote

TABLE = "metric_filters"


def put_filter(engine: Engine, log_group: str, name: str, pattern_text: str,
               transformations: list[Transformation]) -> MetricFilter:
    """Create or replace a filter; its version is now in ms (later than any earlier version of it)."""
    previous = {f.name: f.version_ms for f in list_filters(engine, log_group, name_prefix=name)}
    version = max(int(time.time() * 1000), previous.get(name, 0) + 1)
    _write(engine, log_group, name, pattern_text, transformations, version, deleted=False)
    return MetricFilter(log_group, name, pattern_text, tuple(transformations), version)


def delete_filter(engine: Engine, log_group: str, name: str) -> bool:
    """Delete a filter; False when it does not exist."""
    existing = [f for f in list_filters(engine, log_group, name_prefix=name) if f.name == name]
    if not existing:
        return False
    _write(engine, log_group, name, "", [], max(int(time.time() * 1000), existing[0].version_ms + 1), deleted=True)
    return True


def _write(engine: Engine, log_group: str, name: str, pattern_text: str, transformations: list[Transformation],
           version_ms: int, deleted: bool) -> None:
    engine.insert(TABLE, {
        "log_group": [log_group], "filter_name": [name], "filter_pattern": [pattern_text],
        "transformations": [orjson.dumps([t.to_json() for t in transformations]).decode()],
        "version_ms": [version_ms], "deleted": [1 if deleted else 0],
    })


def list_filters(engine: Engine, log_group: str | None = None, name_prefix: str | None = None,
                 metric_name: str | None = None, namespace: str | None = None) -> list[MetricFilter]:
    """Live filters matching every given condition, ordered by (log group, filter name)."""
    conditions = ["1"]
    if log_group is not None:
        conditions.append(f"log_group = {quote(log_group)}")
    if name_prefix:
        conditions.append(f"startsWith(filter_name, {quote(name_prefix)})")
    # The latest change per filter by argMax, not FINAL + WHERE: whether WHERE applies before or
    # after FINAL's folding has varied between releases, and a delete must hide older puts.
    rows = engine.query(
        "SELECT log_group, filter_name, argMax(filter_pattern, version_ms), argMax(transformations, version_ms), "
        f"max(version_ms), argMax(deleted, version_ms) AS gone FROM {TABLE} WHERE {' AND '.join(conditions)} "
        "GROUP BY log_group, filter_name HAVING gone = 0 ORDER BY log_group, filter_name"
    )
    found = [MetricFilter(str(group), str(name), str(pattern),
                          tuple(Transformation.from_json(t) for t in orjson.loads(text)), int(version))
             for group, name, pattern, text, version, _ in rows]
    return [f for f in found
            if (metric_name is None or any(t.metric_name == metric_name for t in f.transformations))
            and (namespace is None or any(t.namespace == namespace for t in f.transformations))]


def filter_counts(engine: Engine, log_groups: list[str]) -> dict[str, int]:
    """Live metric filters per log group (DescribeLogGroups' metricFilterCount)."""
    counts: dict[str, int] = {}
    for metric_filter in list_filters(engine):
        if metric_filter.log_group in log_groups:
            counts[metric_filter.log_group] = counts.get(metric_filter.log_group, 0) + 1
    return counts
