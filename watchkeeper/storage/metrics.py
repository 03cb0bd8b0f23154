"""Metric rows: from envelopes' items to columns, and the series bookkeeping."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from watchkeeper.events import MetricDatum, event_id, series_fingerprint
from watchkeeper.storage.engine import Columns, Engine

SAMPLE_COLUMNS = ("namespace", "metric_name", "fingerprint", "ts", "count", "sum", "min", "max", "unit",
                  "resolution", "event_id")


def sample_columns(batches: Iterable[tuple[str, list[dict[str, Any]]]]) -> tuple[Columns, Columns]:
    """(samples, series) columns for batches of (batch_id, items).

    Event ids derive from (batch_id, index), so a redelivered batch yields the
    same rows and the ReplacingMergeTree folds them into one.
    """
    samples: dict[str, list[Any]] = {name: [] for name in SAMPLE_COLUMNS}
    series: dict[int, tuple[str, str, list[str], list[str], int]] = {}
    for batch_id, items in batches:
        for index, item in enumerate(items):
            datum = MetricDatum.from_item(item)
            fingerprint = series_fingerprint(datum.namespace, datum.name, datum.dimensions)
            ts = int(datum.timestamp)
            samples["namespace"].append(datum.namespace)
            samples["metric_name"].append(datum.name)
            samples["fingerprint"].append(fingerprint)
            samples["ts"].append(ts)
            samples["count"].append(datum.count)
            samples["sum"].append(datum.sum)
            samples["min"].append(datum.minimum)
            samples["max"].append(datum.maximum)
            samples["unit"].append(datum.unit)
            samples["resolution"].append(datum.storage_resolution)
            samples["event_id"].append(event_id(batch_id, index))
            known = series.get(fingerprint)
            if known is None or known[4] < ts:
                series[fingerprint] = (datum.namespace, datum.name, [k for k, _ in datum.dimensions],
                                       [v for _, v in datum.dimensions], ts)
    series_columns: Columns = {
        "namespace": [s[0] for s in series.values()],
        "metric_name": [s[1] for s in series.values()],
        "fingerprint": list(series),
        "dim_names": [s[2] for s in series.values()],
        "dim_values": [s[3] for s in series.values()],
        "last_seen": [s[4] for s in series.values()],
    }
    return samples, series_columns


def write_metrics(engine: Engine, batches: Iterable[tuple[str, list[dict[str, Any]]]]) -> int:
    """Insert the samples of these batches (and their series); return the number of samples.

    Series go in after samples: a crash in between leaves samples whose series
    row appears with the redelivery, never a series with no samples.
    """
    samples, series = sample_columns(batches)
    if not samples["ts"]:
        return 0
    engine.insert("metric_samples", samples)
    engine.insert("metric_series", series)
    return len(samples["ts"])
