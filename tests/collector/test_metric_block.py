"""Column blocks of metrics: the shape agents send, checked list by list, stored like datapoint items."""

from __future__ import annotations

import contextvars
from typing import Any

import pytest

from watchkeeper.errors import WireError
from watchkeeper.events import BLOCK_VERSION, VALUE_BLOCK_VERSION, MetricDatum, datums_of, metric_block
from watchkeeper.storage.engine import Columns, Engine
from watchkeeper.storage.metrics import SERIES_REFRESH_S, metric_rows, remember_series, write_metrics

BASE = 1_800_000_000


def fleet(ts: int, hosts: int = 3) -> list[MetricDatum]:
    return [MetricDatum("CWAgent", name, (("cpu", "cpu0"), ("host", f"h{host}")), float(ts), 2.0, 3.0 + host,
                        1.0, 2.0 + host, "Percent", 1)
            for host in range(hosts) for name in ("cpu_usage_idle", "cpu_usage_user")]


def singles(ts: int, hosts: int = 3) -> list[MetricDatum]:
    """Host metrics as agents take them: one sample per series."""
    return [MetricDatum.single("CWAgent", name, (("host", f"h{host}"),), float(ts), 10.0 * host + len(name), "Percent")
            for host in range(hosts) for name in ("mem_used", "swap_used_percent")]


def as_lists(columns: Columns) -> dict[str, list[Any]]:
    return {name: list(values) for name, values in columns.items()}


def without_event_ids(tables: dict[str, Columns]) -> dict[str, list[Any]]:
    return {name: values for name, values in as_lists(tables["metric_samples"]).items() if name != "event_id"}


def statistic_form(block: dict[str, Any]) -> dict[str, Any]:
    """A value block as agents before the value form sent the same samples: five lists, count 1."""
    values = block.pop("v")
    return {**block, "cols": BLOCK_VERSION, "c": [1.0] * len(values), "s": values, "lo": values, "hi": values}


def test_a_block_carries_every_datapoint_unchanged() -> None:
    datums = fleet(BASE) + [MetricDatum.single("App", "latency", (), BASE + 5.5, 7.25, "Milliseconds", 60)]
    assert datums_of([metric_block(datums)]) == datums


def test_a_block_stores_the_same_samples_as_datapoint_items() -> None:
    datums = fleet(BASE)
    from_block = as_lists(metric_rows([("b1", [metric_block(datums)])])["metric_samples"])
    from_items = as_lists(metric_rows([("b1", [d.to_item() for d in datums])])["metric_samples"])
    assert {k: v for k, v in from_block.items() if k != "event_id"} == \
        {k: v for k, v in from_items.items() if k != "event_id"}


def test_single_samples_travel_as_one_value_list_and_come_back_unchanged() -> None:
    block = metric_block(singles(BASE))
    assert block["cols"] == VALUE_BLOCK_VERSION and {"c", "s", "lo", "hi"}.isdisjoint(block)
    assert block["v"] == [datum.sum for datum in singles(BASE)]
    assert datums_of([block]) == singles(BASE)
    # One aggregated datapoint among them and the block keeps the statistic lists.
    assert metric_block(singles(BASE) + fleet(BASE)[:1])["cols"] == BLOCK_VERSION


def test_a_value_block_stores_the_same_samples_as_both_older_shapes() -> None:
    from_values = without_event_ids(metric_rows([("b1", [metric_block(singles(BASE))])]))
    from_statistics = without_event_ids(metric_rows([("b1", [statistic_form(metric_block(singles(BASE)))])]))
    from_items = without_event_ids(metric_rows([("b1", [d.to_item() for d in singles(BASE)])]))
    assert from_values == from_statistics == from_items
    assert from_values["count"] == [1.0] * 6
    assert from_values["sum"] == from_values["min"] == from_values["max"] == [d.sum for d in singles(BASE)]


def test_event_ids_are_unique_in_a_batch_and_the_same_on_redelivery() -> None:
    items = [metric_block(fleet(BASE)), metric_block(fleet(BASE))]
    first = list(metric_rows([("batch-1", items)])["metric_samples"]["event_id"])
    assert len(set(first)) == 2 * len(fleet(BASE))
    assert list(metric_rows([("batch-1", items)])["metric_samples"]["event_id"]) == first
    assert set(metric_rows([("batch-2", items)])["metric_samples"]["event_id"]).isdisjoint(first)


@pytest.mark.parametrize(("field", "value", "message"), [
    ("cols", 3, "metric item 0: field 'cols': found 3 (int); allowed: 1 or 2"),
    ("cols", True, "metric item 0: field 'cols': found True (bool); allowed: 1 or 2"),
    ("t", [BASE, "x", BASE, BASE, BASE, BASE], "metric item 0: field 't' row 1: found 'x' (str); allowed: epoch"),
    ("t", [BASE, -1, BASE, BASE, BASE, BASE], "metric item 0: field 't' row 1: found -1 (int); allowed: epoch"),
    ("s", [1.0, 2.0, True, 1.0, 1.0, 1.0], "metric item 0: field 's' row 2: found True (bool); allowed: a finite"),
    ("c", [1.0] * 5 + [10**400], "metric item 0: field 'c' row 5: found 1000"),
    ("di", [0, 0, 0, 0, 0, 3], "metric item 0: field 'di' row 5: found 3 (int); allowed: an index into 'd'"),
    ("r", [1, 1, 5, 1, 1, 1], "metric item 0: field 'r' row 2: found 5 (int); allowed: 1 or 60"),
    ("n", ["cpu", ""], "metric item 0: field 'n' row 1: found '' (str); allowed: a non-empty string"),
    ("d", [[["host", 1]]], "metric item 0: field 'd' row 0: found [['host', 1]] (list); allowed: a list of [name"),
    ("hi", [1.0], "metric item 0: lists of unequal length"),
    ("lo", None, "metric item 0: field 'lo': found None (NoneType); allowed: a list"),
])
def test_an_invalid_block_names_the_field_the_row_and_what_is_allowed(field: str, value: object,
                                                                        message: str) -> None:
    block = metric_block(fleet(BASE))
    block[field] = value
    with pytest.raises(WireError) as raised:
        metric_rows([("b", [block])])
    assert str(raised.value).startswith(message)


@pytest.mark.parametrize(("value", "message"), [
    ([1.0, float("nan"), 1.0, 1.0, 1.0, 1.0], "metric item 0: field 'v' row 1: found nan (float); allowed: a finite"),
    ([1.0, 1.0, "7", 1.0, 1.0, 1.0], "metric item 0: field 'v' row 2: found '7' (str); allowed: a finite"),
    ([1.0], "metric item 0: lists of unequal length"),
    (None, "metric item 0: field 'v': found None (NoneType); allowed: a list"),
])
def test_an_invalid_value_block_names_the_row_and_what_is_allowed(value: object, message: str) -> None:
    block = metric_block(singles(BASE))
    block["v"] = value
    with pytest.raises(WireError) as raised:
        metric_rows([("b", [block])])
    assert str(raised.value).startswith(message)


def test_a_collector_writes_a_series_again_only_after_the_refresh_interval() -> None:
    context = contextvars.copy_context()
    context.run(remember_series)

    def series_rows(ts: int) -> int:
        tables = context.run(metric_rows, [(f"b{ts}", [metric_block(fleet(ts))])])
        assert len(tables["metric_samples"]["ts"]) == len(fleet(ts))
        return len(tables["metric_series"]["fingerprint"])

    assert series_rows(BASE) == len(fleet(BASE))
    assert series_rows(BASE + 10) == 0
    assert series_rows(BASE + SERIES_REFRESH_S) == len(fleet(BASE))
    # Outside a collector's context every call writes its series (PutMetricData).
    assert len(metric_rows([("b", [metric_block(fleet(BASE + 10))])])["metric_series"]["fingerprint"]) == 6


def test_blocks_are_stored_and_counted_once_when_redelivered(engine: Engine) -> None:
    batch = ("batch-1", [metric_block(fleet(BASE, hosts=50))])
    assert write_metrics(engine, [batch]) == 100
    write_metrics(engine, [batch])
    assert engine.query("SELECT count(), sum(sum), sum(count) FROM metric_samples FINAL") == \
        [(100, sum(3.0 + host for host in range(50)) * 2, 200.0)]
    assert engine.query("SELECT count() FROM (SELECT DISTINCT fingerprint FROM metric_series)") == [(100,)]
    assert engine.query("SELECT dim_names, dim_values FROM metric_series FINAL "
                        "WHERE metric_name = 'cpu_usage_user' ORDER BY dim_values LIMIT 1") == \
        [(["cpu", "host"], ["cpu0", "h0"])]
