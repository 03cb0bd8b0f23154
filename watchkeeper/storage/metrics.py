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
    """An id per distinct value (namespace, name or dimension set), in first-seen order."""

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


# metric_series.last_seen answers "recently active" (ListMetrics: the last 3 hours), so a
# collector rewrites a series it already wrote only when its newest sample is this much later.
SERIES_REFRESH_S = 600
_NEVER = -(2**40)


class SeriesCatalog:
    """The series a writer has seen: fingerprints and, when it remembers, the last_seen it wrote.

    Fingerprints are a pure function of (namespace, name, dimensions) and a fleet's series
    repeat every interval, so each is hashed once, not once per datapoint. A series is
    named by the ids of its namespace, name and dimension set packed into one integer;
    sorted arrays of those keys turn every per-datapoint lookup into one vectorised search.
    Everything is dropped together when a part nears the bits of its id (re-hashing then
    is cheaper than LRU bookkeeping per row).
    """

    BITS = 21

    def __init__(self, remember: bool) -> None:
        self.remember = remember
        self.clear()

    def clear(self) -> None:
        self.namespaces = _Interned[str]()
        self.names = _Interned[str]()
        self.dimensions = _Interned[Dimensions]()
        self.keys: Indexes = np.empty(0, dtype=np.intp)
        self.fingerprints: npt.NDArray[np.uint64] = np.empty(0, dtype=np.uint64)
        self.written: npt.NDArray[np.int64] = np.empty(0, dtype=np.int64)

    def make_room(self) -> None:
        """Start afresh when any part passed half its id space (one call adds far less than the other half)."""
        if max(len(self.namespaces.values), len(self.names.values), len(self.dimensions.values),
               len(self.keys)) >= 1 << (self.BITS - 1):
            self.clear()

    def keys_of(self, rows: BlockRows) -> Indexes:
        """Each row's series key: namespace, name and dimension ids packed into one int."""
        parts = (self.namespaces.ids_of(rows.namespaces)[rows.namespace_index],
                 self.names.ids_of(rows.names)[rows.name_index],
                 self.dimensions.ids_of(rows.dimension_sets)[rows.dimension_index])
        if any(len(part) and part.max() >> self.BITS for part in parts):
            raise WireError(f"more than {1 << (self.BITS - 1):,} distinct names in one batch; "
                            "allowed: fewer (split the batch)")
        packed: Indexes = (parts[0] << (2 * self.BITS)) | (parts[1] << self.BITS) | parts[2]
        return packed

    def positions(self, keys: Indexes) -> Indexes:
        """Each key's place in the catalog, adding (and fingerprinting) the keys not seen before."""
        places: Indexes = np.searchsorted(self.keys, keys)
        known = places < len(self.keys)
        known[known] = self.keys[places[known]] == keys[known]
        if not known.all():
            self._add(np.unique(keys[~known]))
            places = np.searchsorted(self.keys, keys)
        return places

    def _add(self, keys: Indexes) -> None:
        mask = (1 << self.BITS) - 1
        fingerprints = [series_fingerprint(self.namespaces.values[key >> (2 * self.BITS)],
                                           self.names.values[(key >> self.BITS) & mask],
                                           self.dimensions.values[key & mask]) for key in keys.tolist()]
        order = np.argsort(all_keys := np.concatenate([self.keys, keys]), kind="stable")
        self.keys = all_keys[order]
        self.fingerprints = np.concatenate([self.fingerprints, np.array(fingerprints, dtype=np.uint64)])[order]
        self.written = np.concatenate([self.written, np.full(len(keys), _NEVER, dtype=np.int64)])[order]

    def due(self, places: Indexes, ts: npt.NDArray[np.uint32]) -> Indexes:
        """Rows to write to metric_series: each series' latest row, unless remembered as written recently."""
        order = np.lexsort((ts, places))
        ordered = places[order]
        latest: Indexes = order[np.append(ordered[1:] != ordered[:-1], True)]
        if self.remember:
            latest_ts = ts[latest].astype(np.int64)
            latest = latest[latest_ts >= self.written[places[latest]] + SERIES_REFRESH_S]
            self.written[places[latest]] = ts[latest]
        return latest

    def dimensions_at(self, place: int) -> Dimensions:
        return self.dimensions.values[int(self.keys[place]) & ((1 << self.BITS) - 1)]


# Writers share one catalog that writes every series row (PutMetricData, tests). A collector
# gives its conversions a catalog of their own that remembers (collector/loop.py), so what it
# remembers belongs to that collector and its database.
_shared_catalog = SeriesCatalog(remember=False)
_catalog: contextvars.ContextVar[SeriesCatalog] = contextvars.ContextVar("series_catalog", default=_shared_catalog)


def remember_series() -> None:
    """From now on, conversions in the current context write each series once per SERIES_REFRESH_S."""
    _catalog.set(SeriesCatalog(remember=True))


_OBJECT_COLUMNS = ("namespace", "metric_name", "unit")
_NUMBER_COLUMNS = ("key", "ts", "count", "sum", "min", "max", "resolution", "event_id")


class _Samples:
    """Rows of every item of a call, gathered as arrays and joined once."""

    def __init__(self) -> None:
        self.catalog = _catalog.get()
        self.catalog.make_room()
        self.chunks: dict[str, list[np.ndarray[Any, Any]]] = {name: [] for name in _OBJECT_COLUMNS + _NUMBER_COLUMNS}

    def add(self, rows: BlockRows, event_ids: npt.NDArray[np.uint64]) -> None:
        for name, values in (
            ("namespace", _encoded(rows.namespaces)[rows.namespace_index]),
            ("metric_name", _encoded(rows.names)[rows.name_index]),
            ("unit", _encoded(rows.units)[rows.unit_index]),
            ("key", self.catalog.keys_of(rows)), ("ts", rows.timestamp.astype(np.uint32)), ("count", rows.count),
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

    def rows(self) -> int:
        return sum(len(chunk) for chunk in self.chunks["ts"])

    def columns(self) -> dict[str, Columns]:
        joined = {name: np.concatenate(chunks) for name, chunks in self.chunks.items()}
        places = self.catalog.positions(joined.pop("key"))
        fingerprints = self.catalog.fingerprints[places]
        samples = {name: joined[name] for name in SAMPLE_COLUMNS if name != "fingerprint"}
        samples["fingerprint"] = fingerprints
        due = self.catalog.due(places, joined["ts"])
        dimensions = [self.catalog.dimensions_at(place) for place in places[due].tolist()]
        series = {
            "namespace": [name.decode() for name in joined["namespace"][due].tolist()],
            "metric_name": [name.decode() for name in joined["metric_name"][due].tolist()],
            "fingerprint": fingerprints[due].tolist(),
            "dim_names": [[name for name, _ in pairs] for pairs in dimensions],
            "dim_values": [[value for _, value in pairs] for pairs in dimensions],
            "last_seen": joined["ts"][due].tolist(),
        }
        return {SAMPLES_TABLE: samples, SERIES_TABLE: series}


def _encoded(strings: list[str]) -> npt.NDArray[np.object_]:
    """A block's distinct strings as UTF-8 bytes, encoded once: the samples' String columns go to the
    driver as bytes (strings_as_bytes), which spares it encoding every row (~0.3 s per 1M rows)."""
    return np.array([string.encode() for string in strings], dtype=object)


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
    if not samples.rows():
        return {}
    return samples.columns()


def to_rows(envelope: Envelope) -> dict[str, Columns]:
    """The collector's metrics writer: one envelope -> rows per table (WireError if an item is invalid)."""
    return metric_rows([(envelope.batch_id, envelope.items)])


def write_metrics(engine: Engine, batches: Iterable[tuple[str, list[Any]]], version: int = 0) -> int:
    """Insert the samples of these batches (and their series); return the number of samples.

    A nonzero version marks recomputed datapoints: they replace stored ones of the same identity.

    Series go in after samples: a crash in between leaves samples whose series
    row appears with the redelivery, never a series with no samples.
    """
    tables = metric_rows(batches)
    if not tables:
        return 0
    samples = dict(tables[SAMPLES_TABLE])
    if version:
        samples["version"] = np.full(len(samples["ts"]), version, dtype=np.uint64)
    engine.insert(SAMPLES_TABLE, samples)
    engine.insert(SERIES_TABLE, tables[SERIES_TABLE])
    return len(samples["ts"])
