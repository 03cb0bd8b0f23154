"""Metric rows: from envelopes' items to columns of metric_samples and metric_series.

This is the metrics writer of the collector (collector/writers.py registers
`to_rows`) and the storage path of PutMetricData (`write_metrics`). Items of
both shapes are accepted (events.py): column blocks, checked list by list
(storage/metric_block.py), and datapoint items, checked field by field. Every
item is checked before any row is built, so one bad item rejects its whole
batch with a message naming the item and the field, never a KeyError.

Samples come out as numpy arrays (strings as object arrays), which the engines
insert without a Python object per value.
"""

from __future__ import annotations

import contextvars
import math
from collections.abc import Iterable
from typing import Any, Generic, TypeGuard, TypeVar

import numpy as np
import numpy.typing as npt

from watchkeeper.errors import WireError
from watchkeeper.events import Dimensions, MetricDatum, event_id, is_metric_block, metric_block, series_fingerprint
from watchkeeper.storage.engine import Columns, Engine
from watchkeeper.storage.metric_block import MAX_TS, RESOLUTIONS, BlockRows, Indexes, block_rows, describe
from watchkeeper.wire import Envelope

SAMPLES_TABLE = "metric_samples"
SERIES_TABLE = "metric_series"

SAMPLE_COLUMNS = ("namespace", "metric_name", "fingerprint", "ts", "count", "sum", "min", "max", "unit",
                  "resolution", "event_id")
SERIES_COLUMNS = ("namespace", "metric_name", "fingerprint", "dim_names", "dim_values", "last_seen")

_Value = TypeVar("_Value", str, Dimensions)
_NUMBER_FIELDS = (("c", "count"), ("s", "sum"), ("lo", "minimum"), ("hi", "maximum"))


def _is_number(value: Any) -> TypeGuard[float]:
    return isinstance(value, (int, float)) and not isinstance(value, bool) and math.isfinite(value)


def _item_problems(item: Any) -> list[str]:
    """Every problem of one metric item, as 'field: found X; allowed Y'."""
    if not isinstance(item, dict):
        return [f"found {describe(item)}; allowed: an object"]
    problems = [f"field {key!r}: found {describe(item.get(key))}; allowed: a non-empty string"
                for key in ("ns", "n") if not isinstance(item.get(key), str) or not item.get(key)]
    dimensions = item.get("d")
    if not isinstance(dimensions, list) or not all(
        isinstance(pair, list) and len(pair) == 2 and all(isinstance(part, str) for part in pair)
        for pair in dimensions
    ):
        problems.append(f"field 'd': found {describe(dimensions)}; allowed: a list of [name, value] strings")
    timestamp = item.get("t")
    if not _is_number(timestamp) or not 0 <= timestamp <= MAX_TS:
        problems.append(f"field 't': found {describe(timestamp)}; allowed: epoch seconds 0..{MAX_TS}")
    problems.extend(f"field {key!r} ({meaning}): found {describe(item.get(key))}; allowed: a finite number"
                    for key, meaning in _NUMBER_FIELDS if not _is_number(item.get(key)))
    if "u" in item and not isinstance(item["u"], str):
        problems.append(f"field 'u': found {describe(item['u'])}; allowed: a unit name string")
    if "r" in item and item["r"] not in RESOLUTIONS:
        problems.append(f"field 'r': found {describe(item['r'])}; allowed: " + " or ".join(map(str, RESOLUTIONS)))
    return problems


def validated_datum(item: Any, index: int) -> MetricDatum:
    """The item as a MetricDatum, or WireError naming the item and every bad field."""
    problems = _item_problems(item)
    if problems:
        raise WireError(f"metric item {index}: " + "; ".join(problems))
    return MetricDatum.from_item(item)


class _Interned(Generic[_Value]):
    """A process-wide id per distinct value (namespace, name or dimension set)."""

    def __init__(self) -> None:
        self.ids: dict[_Value, int] = {}
        self.values: list[_Value] = []

    def ids_of(self, table: list[_Value]) -> Indexes:
        out = []
        for value in table:
            known = self.ids.get(value)
            if known is None:
                known = self.ids[value] = len(self.values)
                self.values.append(value)
            out.append(known)
        return np.array(out, dtype=np.intp)


class _SeriesKeys:
    """Fingerprints by series, computed once per process rather than once per datapoint.

    A series is named by the ids of its namespace, name and dimension set packed into
    one integer, so a lookup per datapoint is a dict get on an int. Everything is
    dropped together when any part outgrows its bits (a rare re-hash is cheaper than
    LRU bookkeeping per row).
    """

    BITS = 21

    def __init__(self) -> None:
        self.clear()

    def clear(self) -> None:
        self.namespaces = _Interned[str]()
        self.names = _Interned[str]()
        self.dimensions = _Interned[Dimensions]()
        self.fingerprints: dict[int, int] = {}

    def keys(self, rows: BlockRows) -> Indexes:
        """Each row's series key (namespace, name and dimension ids packed into one int)."""
        if max(len(self.namespaces.values), len(self.names.values), len(self.dimensions.values),
               len(self.fingerprints)) + len(rows) >= 1 << self.BITS:
            self.clear()
        namespace = self.namespaces.ids_of(rows.namespaces)[rows.namespace_index]
        name = self.names.ids_of(rows.names)[rows.name_index]
        dimensions = self.dimensions.ids_of(rows.dimension_sets)[rows.dimension_index]
        packed: Indexes = (namespace << (2 * self.BITS)) | (name << self.BITS) | dimensions
        return packed

    def fingerprints_of(self, keys: list[int]) -> npt.NDArray[np.uint64]:
        found = list(map(self.fingerprints.get, keys))
        if None in found:
            mask = (1 << self.BITS) - 1
            for row, fingerprint in enumerate(found):
                if fingerprint is None:
                    key = keys[row]
                    found[row] = self.fingerprints[key] = series_fingerprint(
                        self.namespaces.values[key >> (2 * self.BITS)], self.names.values[(key >> self.BITS) & mask],
                        self.dimensions.values[key & mask])
        return np.array(found, dtype=np.uint64)

    def dimensions_of(self, key: int) -> Dimensions:
        return self.dimensions.values[key & ((1 << self.BITS) - 1)]


_series_keys = _SeriesKeys()

# metric_series.last_seen answers "recently active" (ListMetrics: the last 3 hours), so a
# collector rewrites a series it already wrote only when its newest sample is this much later.
SERIES_REFRESH_S = 600
_SERIES_MEMORY_MAX = 1 << 21
_NEVER = -(2**40)


class SeriesMemory:
    """The last_seen a collector already wrote per series fingerprint, for one destination."""

    def __init__(self) -> None:
        self.written: dict[int, int] = {}


# Set by a collector for the conversions it runs (collector/loop.py), so the memory belongs
# to that collector and its database; unset (PutMetricData, tests), every series row is written.
_series_memory: contextvars.ContextVar[SeriesMemory | None] = contextvars.ContextVar("series_memory", default=None)


def remember_series() -> None:
    """From now on, conversions in the current context write each series once per SERIES_REFRESH_S."""
    _series_memory.set(SeriesMemory())


_OBJECT_COLUMNS = ("namespace", "metric_name", "unit")
_NUMBER_COLUMNS = ("key", "ts", "count", "sum", "min", "max", "resolution", "event_id")


class _Samples:
    """Rows of every item of a call, gathered as arrays and joined once."""

    def __init__(self) -> None:
        self.chunks: dict[str, list[np.ndarray[Any, Any]]] = {name: [] for name in _OBJECT_COLUMNS + _NUMBER_COLUMNS}

    def add(self, rows: BlockRows, event_ids: npt.NDArray[np.uint64]) -> None:
        for name, values in (
            ("namespace", np.array(rows.namespaces, dtype=object)[rows.namespace_index]),
            ("metric_name", np.array(rows.names, dtype=object)[rows.name_index]),
            ("unit", np.array(rows.units, dtype=object)[rows.unit_index]),
            ("key", _series_keys.keys(rows)), ("ts", rows.timestamp.astype(np.uint32)), ("count", rows.count),
            ("sum", rows.sum), ("min", rows.minimum), ("max", rows.maximum), ("resolution", rows.resolution),
            ("event_id", event_ids),
        ):
            self.chunks[name].append(values)

    def add_block(self, rows: BlockRows, first_event_id: int) -> None:
        # One hash per block, then the row index: unique within the block, the same on redelivery.
        self.add(rows, np.uint64(first_event_id) ^ np.arange(len(rows), dtype=np.uint64))

    def add_datums(self, datums: list[MetricDatum], event_ids: list[int]) -> None:
        """Datapoint items (old agents) take the block path: one way to build rows."""
        self.add(block_rows(metric_block(datums), "metric items"), np.array(event_ids, dtype=np.uint64))

    def columns(self) -> dict[str, Columns]:
        joined = {name: np.concatenate(chunks) for name, chunks in self.chunks.items()}
        keys = joined.pop("key").tolist()
        fingerprints = _series_keys.fingerprints_of(keys)
        samples = {name: joined[name] for name in SAMPLE_COLUMNS if name != "fingerprint"}
        samples["fingerprint"] = fingerprints
        return {SAMPLES_TABLE: samples, SERIES_TABLE: self._series(joined, keys, fingerprints)}

    @staticmethod
    def _series(joined: dict[str, np.ndarray[Any, Any]], keys: list[int],
                fingerprints: npt.NDArray[np.uint64]) -> Columns:
        """One row per series due to be written, carrying the latest timestamp seen (its version)."""
        ts = joined["ts"]
        order = np.lexsort((ts, fingerprints))
        ordered = fingerprints[order]
        latest = order[np.append(ordered[1:] != ordered[:-1], True)]  # the last row of each fingerprint
        memory = _series_memory.get()
        if memory is not None:
            written = np.fromiter(map(memory.written.get, fingerprints[latest].tolist(), [_NEVER] * len(latest)),
                                  dtype=np.int64, count=len(latest))
            latest = latest[ts[latest].astype(np.int64) >= written + SERIES_REFRESH_S]
            if len(memory.written) + len(latest) > _SERIES_MEMORY_MAX:
                memory.written.clear()
            memory.written.update(zip(fingerprints[latest].tolist(), ts[latest].tolist(), strict=True))
        dimensions = [_series_keys.dimensions_of(keys[row]) for row in latest.tolist()]
        return {
            "namespace": joined["namespace"][latest].tolist(),
            "metric_name": joined["metric_name"][latest].tolist(),
            "fingerprint": fingerprints[latest].tolist(),
            "dim_names": [[name for name, _ in pairs] for pairs in dimensions],
            "dim_values": [[value for _, value in pairs] for pairs in dimensions],
            "last_seen": ts[latest].tolist(),
        }


def metric_rows(batches: Iterable[tuple[str, list[Any]]]) -> dict[str, Columns]:
    """Columns of metric_samples and metric_series for batches of (batch_id, items).

    Event ids derive from (batch_id, item index, row in a block), so a redelivered
    batch yields the same rows and the ReplacingMergeTree folds them into one. A
    series appears once per call, with the latest timestamp seen (its ReplacingMergeTree
    version); in a collector, only when new to it or SERIES_REFRESH_S later than written.
    """
    samples = _Samples()
    for batch_id, items in batches:
        datums: list[MetricDatum] = []
        datum_ids: list[int] = []
        for index, item in enumerate(items):
            if is_metric_block(item):
                samples.add_block(block_rows(item, f"metric item {index}"), event_id(batch_id, index))
            else:
                datums.append(validated_datum(item, index))
                datum_ids.append(event_id(batch_id, index))
        if datums:
            samples.add_datums(datums, datum_ids)
    if not any(len(chunk) for chunk in samples.chunks["ts"]):
        return {}
    return samples.columns()


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
