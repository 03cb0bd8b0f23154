"""Panels over the rollup tiers read a bucket rolled up twice as its newest rollup, as FINAL would, on both
engines: the tiers are folded by version (dashboards/metric_sql.py), not read FINAL."""

from __future__ import annotations

import pytest

from dashboards.catalog import dashboards
from dashboards.host_overview import UID
from dashboards.macros import QueryContext, Selection, expand
from dashboards.runner import context_for, resolve_variables, run_sql, targets
from tests.watchkeeper.rollup_twice import BASE, HOUR, NEW_1H, NEW_5M, roll_up_twice
from watchkeeper.storage.engine import Engine

DAY = 86_400
HOST_OVERVIEW = next(model for model in dashboards() if model["uid"] == UID)


def _panel(engine: Engine, title: str, span: int) -> dict[str, list[object]]:
    now = BASE + 2 * HOUR + 60
    base = resolve_variables(engine, HOST_OVERVIEW, context_for(now - span, now))
    ctx = QueryContext(base.from_ms, base.to_ms, base.interval_ms,
                       {**base.variables, "host": Selection(("web-1",), multi=True)})
    target = next(t for t in targets(HOST_OVERVIEW) if t.title == title)
    result = run_sql(engine, expand(target.raw_sql, ctx))
    return {column.name: result.values(column.name) for column in result.columns}


@pytest.mark.parametrize(("span", "expected"), [(3 * DAY, NEW_5M), (30 * DAY, NEW_1H)])
def test_a_bucket_rolled_up_twice_shows_its_newest_rollup(engine: Engine, span: int,
                                                           expected: dict[int, tuple[float, float]]) -> None:
    roll_up_twice(engine)
    swap = _panel(engine, "Swap used", span)
    assert dict(zip(swap["time"], swap["value"], strict=True)) == pytest.approx(
        {ts: total / count for ts, (count, total) in expected.items()})


def test_the_fleet_table_shows_the_newest_rollup_of_the_latest_bucket(engine: Engine) -> None:
    roll_up_twice(engine)
    fleet = _panel(engine, "Fleet: latest values per host", 30 * DAY)
    count, total = NEW_1H[BASE]
    assert (fleet["host"], fleet["swap_pct"]) == (["web-1"], [pytest.approx(round(total / count, 1))])
