"""A bucket rolled up twice with different values, both rollups still unmerged: what tier readers must fold.

Ten one-minute samples of 1.0 for CWAgent swap_used_percent and Watchkeeper SpoolBytes
of host web-1 (a per-host panel's series and a whole-fleet panel's), rolled up; then a late sample of 101 in the first minute, rolled up again. Merges are stopped on
both tiers, so each tier holds the old and the new rollup of the same bucket as two
rows until the test ends: only a fold by version (or FINAL) reads the new one alone.
"""

from __future__ import annotations

import time

from watchkeeper.events import Kind, MetricDatum
from watchkeeper.storage.engine import Engine
from watchkeeper.storage.maintenance import TIERS, roll_up
from watchkeeper.storage.metrics import write_metrics
from watchkeeper.storage.metrics_query import SeriesKey
from watchkeeper.wire import make_envelope

HOUR = 3600
# Two hours before the current one: closed, within a 3-hour lookback, and younger than any tier's retention.
BASE = (int(time.time()) // HOUR - 2) * HOUR
SERIES = SeriesKey("CWAgent", "swap_used_percent", (("host", "web-1"),))
SPOOL = SeriesKey("Watchkeeper", "SpoolBytes", (("host", "web-1"),))
# (count, sum) per bucket after the second rollup; the first rollup had 5 or 10 samples of 1.0.
NEW_5M = {BASE: (6.0, 106.0), BASE + 300: (5.0, 5.0)}
NEW_1H = {BASE: (11.0, 111.0)}


def _put(engine: Engine, values: list[tuple[int, float]]) -> None:
    items = [MetricDatum.single(key.namespace, key.metric_name, key.dimensions, ts, value).to_item()
             for key in (SERIES, SPOOL) for ts, value in values]
    envelope = make_envelope(Kind.METRICS, "web-1", "web-1", items)
    write_metrics(engine, [(envelope.batch_id, envelope.items)])


def roll_up_twice(engine: Engine) -> None:
    """Leave every tier with two unmerged rollups of its first bucket, the second one including late data."""
    for tier in TIERS:
        engine.command(f"SYSTEM STOP MERGES {tier.table}")
    _put(engine, [(BASE + 60 * minute, 1.0) for minute in range(10)])
    roll_up(engine, now=BASE + HOUR + 10)
    _put(engine, [(BASE + 30, 101.0)])  # late data for the first bucket of both tiers
    roll_up(engine, now=BASE + HOUR + 20)
    for tier in TIERS:
        rows = engine.query(f"SELECT count() FROM {tier.table} WHERE ts = toDateTime({BASE}) "
                            f"AND fingerprint = {SERIES.fingerprint}")
        assert int(rows[0][0]) == 2, f"{tier.table}: the scenario needs both rollups unmerged"
