"""Metric rows: from envelopes' items to columns of metric_samples and metric_series.

This is the metrics writer of the collector (collector/writers.py registers
`to_rows`) and the storage path of PutMetricData (`write_metrics`). Items are
validated field by field before any row is built, so one bad item rejects its
whole batch with a message naming the item and the field, never a KeyError.
"""

from __future__ import annotations

import math
from collections.abc import Iterable
from typing import Any, TypeGuard

from watchkeeper.errors import WireError
from watchkeeper.events import MetricDatum, event_id, series_fingerprint
from watchkeeper.storage.engine import Columns, Engine
from watchkeeper.wire import Envelope

SAMPLES_TABLE = "metric_samples"
SERIES_TABLE = "metric_series"

SAMPLE_COLUMNS = ("namespace", "metric_name", "fingerprint", "ts", "count", "sum", "min", "max", "unit",
                  "resolution", "event_id")
SERIES_COLUMNS = ("namespace", "metric_name", "fingerprint", "dim_names", "dim_values", "last_seen")

# DateTime is UInt32 seconds on every ClickHouse version we render for.
_MAX_TS = 2**32 - 1
_NUMBER_FIELDS = (("c", "count"), ("s", "sum"), ("lo", "minimum"), ("hi", "maximum"))


def _describe(value: Any) -> str:
    text = repr(value)
    return f"{text if len(text) <= 40 else text[:37] + '...'} ({type(value).__name__})"


def _is_number(value: Any) -> TypeGuard[float]:
    return isinstance(value, (int, float)) and not isinstance(value, bool) and math.isfinite(value)


def _item_problems(item: Any) -> list[str]:
    """Every problem of one metric item, as 'field: found X; allowed Y'."""
    if not isinstance(item, dict):
        return [f"found {_describe(item)}; allowed: an object"]
    problems = [f"field {key!r}: found {_describe(item.get(key))}; allowed: a non-empty string"
                for key in ("ns", "n") if not isinstance(item.get(key), str) or not item.get(key)]
    dimensions = item.get("d")
    if not isinstance(dimensions, list) or not all(
        isinstance(pair, list) and len(pair) == 2 and all(isinstance(part, str) for part in pair)
        for pair in dimensions
    ):
        problems.append(f"field 'd': found {_describe(dimensions)}; allowed: a list of [name, value] strings")
    timestamp = item.get("t")
    if not _is_number(timestamp) or not 0 <= timestamp <= _MAX_TS:
        problems.append(f"field 't': found {_describe(timestamp)}; allowed: epoch seconds 0..{_MAX_TS}")
    problems.extend(f"field {key!r} ({meaning}): found {_describe(item.get(key))}; allowed: a finite number"
                    for key, meaning in _NUMBER_FIELDS if not _is_number(item.get(key)))
    if "u" in item and not isinstance(item["u"], str):
        problems.append(f"field 'u': found {_describe(item['u'])}; allowed: a unit name string")
    if "r" in item and item["r"] not in (1, 60):
        problems.append(f"field 'r': found {_describe(item['r'])}; allowed: 1 or 60")
    return problems


def validated_datum(item: Any, index: int) -> MetricDatum:
    """The item as a MetricDatum, or WireError naming the item and every bad field."""
    problems = _item_problems(item)
    if problems:
        raise WireError(f"metric item {index}: " + "; ".join(problems))
    return MetricDatum.from_item(item)


def metric_rows(batches: Iterable[tuple[str, list[Any]]]) -> dict[str, Columns]:
    """Columns of metric_samples and metric_series for batches of (batch_id, items).

    Event ids derive from (batch_id, index), so a redelivered batch yields the
    same rows and the ReplacingMergeTree folds them into one. A series appears
    once per call, with the latest timestamp seen (its ReplacingMergeTree version).
    """
    samples: dict[str, list[Any]] = {name: [] for name in SAMPLE_COLUMNS}
    series: dict[int, tuple[str, str, list[str], list[str], int]] = {}
    for batch_id, items in batches:
        for index, item in enumerate(items):
            datum = validated_datum(item, index)
            fingerprint = series_fingerprint(datum.namespace, datum.name, datum.dimensions)
            ts = int(datum.timestamp)
            for name, value in zip(SAMPLE_COLUMNS, (
                datum.namespace, datum.name, fingerprint, ts, datum.count, datum.sum, datum.minimum,
                datum.maximum, datum.unit, datum.storage_resolution, event_id(batch_id, index),
            ), strict=True):
                samples[name].append(value)
            known = series.get(fingerprint)
            if known is None or known[4] < ts:
                series[fingerprint] = (datum.namespace, datum.name, [k for k, _ in datum.dimensions],
                                       [v for _, v in datum.dimensions], ts)
    if not samples["ts"]:
        return {}
    series_columns: Columns = {
        "namespace": [s[0] for s in series.values()],
        "metric_name": [s[1] for s in series.values()],
        "fingerprint": list(series),
        "dim_names": [s[2] for s in series.values()],
        "dim_values": [s[3] for s in series.values()],
        "last_seen": [s[4] for s in series.values()],
    }
    return {SAMPLES_TABLE: samples, SERIES_TABLE: series_columns}


def to_rows(envelope: Envelope) -> dict[str, Columns]:
    """The collector's metrics writer: one envelope -> rows per table (WireError if an item is invalid)."""
    return metric_rows([(envelope.batch_id, envelope.items)])


def write_metrics(engine: Engine, batches: Iterable[tuple[str, list[Any]]]) -> int:
    """Insert the samples of these batches (and their series); return the number of samples.

    Series go in after samples: a crash in between leaves samples whose series
    row appears with the redelivery, never a series with no samples.
    """
    tables = metric_rows(batches)
    if not tables:
        return 0
    engine.insert(SAMPLES_TABLE, tables[SAMPLES_TABLE])
    engine.insert(SERIES_TABLE, tables[SERIES_TABLE])
    return len(tables[SAMPLES_TABLE]["ts"])
