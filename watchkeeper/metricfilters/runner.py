"""Metric filters evaluated in ClickHouse per minute, recomputed whenever a minute's events change.

Why here and not in the collector's write path: the logs table folds a line
shipped twice (agent crash before its offset was saved, Kafka redelivery, spool
replay) by its (host, file, offset) identity, and a re-shipped line travels in a
*new* batch, so datapoints keyed by batch id would count it twice. Reading the
logs FINAL and recomputing a whole minute counts every line once by construction.

Each round: one cheap count of raw rows per (group, minute) over the lookback
window finds the minutes whose events changed since they were last evaluated
(new rows, late rows, a merge folding duplicates); only those are evaluated again.
A datapoint's event id derives from (filter, filter version, transformation,
minute, dimensions), and each write carries a newer version (microseconds), so a
recomputed minute *replaces* its datapoint in metric_samples (a ReplacingMergeTree
on version keeps the highest) instead of adding to it. Several runners (one per collector) write identical rows: harmless.

As in AWS, a filter publishes data for events ingested at or after its creation
(or last update); a changed filter writes datapoints under its new version and
never rewrites what the version before it published.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterable

from watchkeeper.events import MetricDatum
from watchkeeper.logfilter import to_sql
from watchkeeper.metricfilters.evaluate import MINUTE, counted_datapoints, minute_datapoints
from watchkeeper.metricfilters.model import MetricFilter
from watchkeeper.metricfilters.store import list_filters
from watchkeeper.storage.engine import Engine
from watchkeeper.storage.metrics import write_metrics
from watchkeeper.storage.sql import in_list, quote

DEFAULT_LOOKBACK_S = 6 * 3600
INTERVAL_S = 20.0
_MINUTE_OF_TS = f"intDiv(toUInt32(ts), {MINUTE}) * {MINUTE}"

EvaluatedKey = tuple[tuple[str, str, int], int]


class MetricFilterRunner:
    """Evaluates every live metric filter, one round per `run_once()`; processes run it every
    INTERVAL_S with watchkeeper.node.periodic (the collector, `watchkeeper up`)."""

    def __init__(self, engine: Engine, lookback_s: int = DEFAULT_LOOKBACK_S,
                 clock: Callable[[], float] = time.time) -> None:
        self._engine = engine
        self._lookback_s = lookback_s
        self._clock = clock
        # (filter identity, minute) -> the raw row count of the group's minute when it was evaluated.
        self._evaluated: dict[EvaluatedKey, int] = {}

    def run_once(self) -> int:
        """Evaluate the minutes whose events changed; return the number of datapoints written."""
        filters = list_filters(self._engine)
        start = (int(self._clock()) - self._lookback_s) // MINUTE * MINUTE
        counts = self._minute_counts(sorted({f.log_group for f in filters}), start)
        written = 0
        for metric_filter in filters:
            group_counts = counts.get(metric_filter.log_group, {})
            dirty = {minute: count for minute, count in group_counts.items()
                     if self._evaluated.get((metric_filter.identity, minute)) != count}
            if dirty:
                written += self._evaluate(metric_filter, sorted(dirty))
                self._evaluated.update(((metric_filter.identity, minute), count) for minute, count in dirty.items())
        live = {f.identity for f in filters}
        self._evaluated = {key: count for key, count in self._evaluated.items() if key[0] in live and key[1] >= start}
        return written

    def _minute_counts(self, groups: list[str], start: int) -> dict[str, dict[int, int]]:
        if not groups:
            return {}
        rows = self._engine.query(
            f"SELECT log_group, {_MINUTE_OF_TS} AS minute, count() FROM logs "
            f"WHERE log_group IN {in_list(groups)} AND ts >= toDateTime({start}) GROUP BY log_group, minute"
        )
        counts: dict[str, dict[int, int]] = {}
        for group, minute, count in rows:
            counts.setdefault(str(group), {})[int(minute)] = int(count)
        return counts

    def _evaluate(self, metric_filter: MetricFilter, minutes: list[int]) -> int:
        pattern = metric_filter.pattern()
        sql = to_sql(pattern.tree, self._engine.capabilities)
        where = (f"log_group = {quote(metric_filter.log_group)} AND ingestion_ms >= {metric_filter.version_ms} "
                 f"AND ts >= toDateTime({minutes[0]}) AND ts < toDateTime({minutes[-1] + MINUTE}) "
                 f"AND {_MINUTE_OF_TS} IN {in_list(minutes)}")
        totals = {int(minute): (int(events), int(candidates)) for minute, events, candidates in self._engine.query(
            f"SELECT {_MINUTE_OF_TS} AS minute, count(), countIf({sql.condition}) FROM logs FINAL "
            f"WHERE {where} GROUP BY minute")}
        countable = sql.exact and all(t.constant is not None and not t.dimensions
                                      for t in metric_filter.transformations)
        messages: dict[int, list[str]] = {}
        if not countable:
            for minute, message in self._engine.query(
                    f"SELECT {_MINUTE_OF_TS} AS minute, message FROM logs FINAL WHERE {where} AND ({sql.condition})"):
                messages.setdefault(int(minute), []).append(str(message))
        data: list[tuple[int, MetricDatum]] = []
        for minute, (events, candidates) in totals.items():
            for index, transformation in enumerate(metric_filter.transformations):
                if countable:
                    points = counted_datapoints(transformation, minute, candidates, events > 0)
                else:
                    matching = [m for m in messages.get(minute, []) if sql.exact or pattern.matches(m)]
                    points = minute_datapoints(pattern, transformation, minute, matching, events > 0)
                data.extend((index, point) for point in points)
        write_metrics(self._engine, _batches(metric_filter, data), version=time.time_ns() // 1000)
        return len(data)


def _batches(metric_filter: MetricFilter, data: list[tuple[int, MetricDatum]]) -> Iterable[tuple[str, list[object]]]:
    """One batch per datapoint, named by what identifies it, so a recomputation replaces it."""
    group, name, version = metric_filter.identity
    for index, point in data:
        dimensions = "\x01".join(f"{k}\x02{v}" for k, v in point.dimensions)
        yield f"metric-filter\x00{group}\x00{name}\x00{version}\x00{index}\x00{int(point.timestamp)}\x00{dimensions}", \
            [point.to_item()]
