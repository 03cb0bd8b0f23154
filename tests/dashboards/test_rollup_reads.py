"""Panels over the rollup tiers read a bucket rolled up twice as its newest rollup on both engines: per-host
panels and the fleet table fold the tiers by version, whole-fleet panels read them FINAL (dashboards/metric_sql.py),
and both keep the same rows."""

from __future__ import annotations

import pytest

from dashboards.catalog import dashboards
from dashboards.host_overview import UID as HOST_UID
from dashboards.pipeline_dashboard import UID as PIPELINE_UID
from dashboards.macros import QueryContext, Selection, expand
from dashboards.metric_sql import samples
from dashboards.runner import context_for, resolve_variables, run_sql, targets
from tests.watchkeeper.rollup_twice import BASE, HOUR, NEW_1H, NEW_5M, SPOOL, roll_up_twice
from watchkeeper.storage.engine import Engine

DAY = 86_400
BY_UID = {model["uid"]: model for model in dashboards()}


def _panel(engine: Engine, title: str, span: int) -> dict[str, list[object]]:
    now = BASE + 2 * HOUR + 60
    base = resolve_variables(engine, BY_UID[HOST_UID], context_for(now - span, now))
    ctx = QueryContext(base.from_ms, base.to_ms, base.interval_ms,
                       {**base.variables, "host": Selection(("web-1",), multi=True)})
    target = next(t for t in targets(BY_UID[HOST_UID]) if t.title == title)
    result = run_sql(engine, expand(target.raw_sql, ctx))
    return {column.name: result.values(column.name) for column in result.columns}


@pytest.mark.parametrize(("span", "expected"), [(3 * DAY, NEW_5M), (30 * DAY, NEW_1H)])
def test_a_bucket_rolled_up_twice_shows_its_newest_rollup(engine: Engine, span: int,
                                                           expected: dict[int, tuple[float, float]]) -> None:
    roll_up_twice(engine)
    swap = _panel(engine, "Swap used", span)
    assert dict(zip(swap["time"], swap["value"], strict=True)) == pytest.approx(
        {ts: total / count for ts, (count, total) in expected.items()})


@pytest.mark.parametrize("whole_fleet", [False, True], ids=["folded", "final"])
@pytest.mark.parametrize(("span", "expected"), [(3 * DAY, NEW_5M), (30 * DAY, NEW_1H)])
def test_both_ways_of_reading_a_tier_keep_the_newest_rollup(engine: Engine, span: int, whole_fleet: bool,
                                                            expected: dict[int, tuple[float, float]]) -> None:
    """What every metric panel reads from: the fold, and FINAL for whole-fleet panels (Largest spool)."""
    roll_up_twice(engine)
    now = BASE + 2 * HOUR + 60
    ctx = resolve_variables(engine, BY_UID[PIPELINE_UID], context_for(now - span, now))
    rows = samples(f"fingerprint = {SPOOL.fingerprint} AND $__timeFilter(ts)", whole_fleet)
    found = engine.query(expand(f"SELECT toUInt32(ts), c, s FROM {rows} AS samples ORDER BY ts", ctx))
    assert {int(ts): (float(count), float(total)) for ts, count, total in found} == expected


def test_the_fleet_table_shows_the_newest_rollup_of_the_latest_bucket(engine: Engine) -> None:
    roll_up_twice(engine)
    fleet = _panel(engine, "Fleet: latest values per host", 30 * DAY)
    count, total = NEW_1H[BASE]
    assert (fleet["host"], fleet["swap_pct"]) == (["web-1"], [pytest.approx(round(total / count, 1))])
