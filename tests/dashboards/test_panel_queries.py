"""Every panel, annotation and variable query of every dashboard, expanded as the plugin would, run on both engines.

The data comes from the pipeline's own writers (pipeline_data.py). For each of a
1-hour, 3-day and 30-day range (raw, 5-minute and 1-hour tiers) the result must
have what the panel's format needs and must not be empty, since data exists for
every panel.
"""

from __future__ import annotations

import pytest

from dashboards.catalog import dashboards
from dashboards.macros import QueryContext, Selection, expand
from dashboards.model import Format
from dashboards.runner import Result, Target, context_for, resolve_variables, run_sql, targets, variable_queries
from tests.dashboards.pipeline_data import HOSTS, NOW, write_metric_data
from watchkeeper.storage.engine import Engine

DAY = 86_400
RANGES = {"1h": 3600, "3d": 3 * DAY, "30d": 30 * DAY}
EXPECTED_TIER = {"1h": ("metric_samples", "60"), "3d": ("metric_samples_5m", "300"),
                 "30d": ("metric_samples_1h", "3600")}
ALL_TARGETS = [target for dashboard in dashboards() for target in targets(dashboard)]
BY_UID = {dashboard["uid"]: dashboard for dashboard in dashboards()}


def _context(engine: Engine, uid: str, span: int) -> QueryContext:
    return resolve_variables(engine, BY_UID[uid], context_for(NOW - span, NOW + 60))


def assert_shape(target: Target, result: Result) -> None:
    columns = result.columns
    where = f"{target.dashboard} / {target.title}: columns {[(c.name, c.type) for c in columns]}"
    if target.panel_type == "annotation":
        assert columns[0].is_time and columns[0].name == "time", where
        assert any(c.name == "text" and c.is_text for c in columns), where
    elif target.format == Format.TIME_SERIES:
        assert columns[0].is_time, where
        assert any(c.is_number for c in columns[1:]), where
        assert all(c.is_number or c.is_text for c in columns[1:]), where
    elif target.format == Format.LOGS:
        assert any(c.is_time for c in columns), where
        assert any(c.name == "body" and c.is_text for c in columns), where
    else:
        assert target.format == Format.TABLE and columns, where
    assert result.rows, f"{where}: no rows although the pipeline wrote data for it"


@pytest.mark.parametrize("range_name", list(RANGES))
@pytest.mark.parametrize("target", ALL_TARGETS, ids=[f"{t.dashboard}:{t.title}" for t in ALL_TARGETS])
def test_every_panel_query_runs_with_the_shape_its_format_needs(filled_engine: Engine, target: Target,
                                                                 range_name: str) -> None:
    ctx = _context(filled_engine, target.dashboard, RANGES[range_name])
    assert_shape(target, run_sql(filled_engine, expand(target.raw_sql, ctx)))


@pytest.mark.parametrize("uid", list(BY_UID))
def test_every_variable_query_returns_options(filled_engine: Engine, uid: str) -> None:
    ctx = context_for(NOW - 3600, NOW + 60)
    for name, sql in variable_queries(BY_UID[uid]):
        result = run_sql(filled_engine, expand(sql, ctx))
        assert len(result.columns) == 1 and result.rows, f"{uid} variable {name}: {result.columns}, {result.rows}"


@pytest.mark.parametrize("range_name", list(RANGES))
def test_time_range_picks_the_storage_tier(filled_engine: Engine, range_name: str) -> None:
    ctx = _context(filled_engine, "watchkeeper-host-overview", RANGES[range_name])
    picked = (ctx.variables["metrics_table"].values[0], ctx.variables["metrics_step"].values[0])
    assert picked == EXPECTED_TIER[range_name]


def test_host_variable_lists_the_hosts_and_filters_the_panels(filled_engine: Engine) -> None:
    model = BY_UID["watchkeeper-host-overview"]
    [(_, host_sql)] = [(n, q) for n, q in variable_queries(model) if n == "host"]
    options = run_sql(filled_engine, expand(host_sql, context_for(NOW - 3600, NOW)))
    assert [row[0] for row in options.rows] == sorted(HOSTS)
    ctx = _context(filled_engine, "watchkeeper-host-overview", 3600)
    assert ctx.variables["host"].values == ("db-1",)  # Grafana opens on the first option (no All)
    swap = next(t for t in targets(model) if t.title == "Swap used")
    two_hosts = QueryContext(ctx.from_ms, ctx.to_ms, ctx.interval_ms,
                             {**ctx.variables, "host": Selection(("db-1", "web-2"), multi=True)})
    assert set(run_sql(filled_engine, expand(swap.raw_sql, two_hosts)).values("series")) == {"db-1", "web-2"}
    assert set(run_sql(filled_engine, expand(swap.raw_sql, ctx)).values("series")) == {"db-1"}


def test_fleet_table_has_every_host_with_its_latest_values(filled_engine: Engine) -> None:
    from tests.dashboards.pipeline_data import MINUTES, _value

    ctx = _context(filled_engine, "watchkeeper-host-overview", 30 * DAY)
    fleet = next(t for t in targets(BY_UID["watchkeeper-host-overview"]) if t.title.startswith("Fleet"))
    result = run_sql(filled_engine, expand(fleet.raw_sql, ctx))
    assert result.values("host") == sorted(HOSTS)
    ctx_1h = _context(filled_engine, "watchkeeper-host-overview", 3600)
    latest = run_sql(filled_engine, expand(fleet.raw_sql, ctx_1h))
    expected = round(_value("swap_used_percent", HOSTS.index("web-1"), MINUTES - 1), 1)
    assert dict(zip(latest.values("host"), latest.values("swap_pct"), strict=True))["web-1"] == pytest.approx(expected)


def test_raw_panel_values_are_the_written_values(filled_engine: Engine) -> None:
    """Swap used for db-1 over the last hour, one-minute buckets: exactly what pipeline_data wrote."""
    from tests.dashboards.pipeline_data import MINUTES, _value

    ctx = _context(filled_engine, "watchkeeper-host-overview", 3600)
    ctx = QueryContext(ctx.from_ms, ctx.to_ms, 60_000, {**ctx.variables, "host": Selection(("db-1",), multi=True)})
    swap = next(t for t in targets(BY_UID["watchkeeper-host-overview"]) if t.title == "Swap used")
    result = run_sql(filled_engine, expand(swap.raw_sql, ctx))
    written = {NOW - (MINUTES - 1 - minute) * 60: _value("swap_used_percent", HOSTS.index("db-1"), minute)
               for minute in range(MINUTES)}
    expected = {ts: value for ts, value in written.items() if ctx.from_ms // 1000 <= ts <= ctx.to_ms // 1000}
    got = dict(zip(result.values("time"), result.values("value"), strict=True))
    assert len(expected) == 61 and got == pytest.approx(expected)


def test_bucket_means_over_the_five_minute_tier(filled_engine: Engine) -> None:
    """Over 3 days the panel reads metric_samples_5m: each point is the mean of its five written minutes."""
    from tests.dashboards.pipeline_data import MINUTES, _value

    ctx = _context(filled_engine, "watchkeeper-host-overview", 3 * DAY)
    ctx = QueryContext(ctx.from_ms, ctx.to_ms, ctx.interval_ms,
                       {**ctx.variables, "host": Selection(("web-2",), multi=True)})
    swap = next(t for t in targets(BY_UID["watchkeeper-host-overview"]) if t.title == "Swap used")
    result = run_sql(filled_engine, expand(swap.raw_sql, ctx))
    buckets: dict[int, list[float]] = {}
    for minute in range(MINUTES):
        ts = NOW - (MINUTES - 1 - minute) * 60
        buckets.setdefault(ts // 300 * 300, []).append(_value("swap_used_percent", HOSTS.index("web-2"), minute))
    assert dict(zip(result.values("time"), result.values("value"), strict=True)) == pytest.approx(
        {ts: sum(values) / len(values) for ts, values in buckets.items()})


def test_a_redelivered_batch_is_not_counted_twice(filled_engine: Engine) -> None:
    """Samples are read FINAL: writing the same batches again leaves every panel value unchanged."""
    ctx = _context(filled_engine, "watchkeeper-host-overview", 3600)
    fleet = next(t for t in targets(BY_UID["watchkeeper-host-overview"]) if t.title.startswith("Fleet"))
    before = run_sql(filled_engine, expand(fleet.raw_sql, ctx)).rows
    write_metric_data(filled_engine)
    assert run_sql(filled_engine, expand(fleet.raw_sql, ctx)).rows == before
