"""The event model: what agents produce and the collector stores.

Items travel as plain dicts inside an envelope (see wire.py) so that one Kafka
record carries thousands of them cheaply. This module holds the typed view of
the metric item and the helpers every producer and consumer share.

Metrics travel in two item shapes (docs/collector.md, "Metric items"):
- a datapoint item (`MetricDatum.to_item`), one dict per datapoint: what agents
  before the column block sent, still accepted;
- a column block (`metric_block`), one dict holding parallel lists for many
  datapoints: what agents and PutMetricData send now, because the collector
  then checks and converts whole lists instead of one dict per datapoint. A
  block of single samples (host metrics always are) carries one value list
  instead of the four of a statistic set.
"""

from __future__ import annotations

import hashlib
import struct
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from enum import StrEnum
from typing import Any, TypeVar


class Kind(StrEnum):
    """Each kind of event has its own topic and its own tables."""

    METRICS = "metrics"
    LOGS = "logs"
    AUDIT = "audit"


Dimensions = tuple[tuple[str, str], ...]
_Key = TypeVar("_Key", str, Dimensions)


def normalise_dimensions(dimensions: dict[str, str] | Dimensions | list[Any]) -> Dimensions:
    """Sorted (name, value) pairs: CloudWatch treats a dimension set as unordered."""
    pairs: Iterable[tuple[Any, Any]]
    if isinstance(dimensions, dict):
        pairs = dimensions.items()
    else:
        pairs = ((d["Name"], d["Value"]) if isinstance(d, dict) else (d[0], d[1]) for d in dimensions)
    return tuple(sorted((str(k), str(v)) for k, v in pairs))


def series_fingerprint(namespace: str, metric_name: str, dimensions: Dimensions) -> int:
    """A stable 63-bit id of one metric series (namespace, name and exact dimension set).

    CloudWatch matches dimensions exactly, so the fingerprint covers the whole set;
    63 bits keep it a positive Int64 for every client.
    """
    digest = hashlib.blake2b(digest_size=8)
    digest.update(namespace.encode())
    digest.update(b"\x00")
    digest.update(metric_name.encode())
    for name, value in dimensions:
        digest.update(b"\x00")
        digest.update(name.encode())
        digest.update(b"\x01")
        digest.update(value.encode())
    return int.from_bytes(digest.digest(), "big") >> 1


def event_id(batch_id: str, index: int) -> int:
    """The identity of the index-th item of a batch: equal on every redelivery of that batch."""
    digest = hashlib.blake2b(batch_id.encode() + struct.pack(">Q", index), digest_size=8)
    return int.from_bytes(digest.digest(), "big") >> 1


@dataclass(frozen=True, slots=True)
class MetricDatum:
    """One aggregated observation of a series at one timestamp (a CloudWatch statistic set).

    A single value v is count=1, sum=min=max=v. Keeping the statistic set lets
    PutMetricData's StatisticValues and Values/Counts travel unchanged.
    """

    namespace: str
    name: str
    dimensions: Dimensions
    timestamp: float
    count: float
    sum: float
    minimum: float
    maximum: float
    unit: str = "None"
    storage_resolution: int = 60

    @classmethod
    def single(
        cls,
        namespace: str,
        name: str,
        dimensions: Dimensions,
        timestamp: float,
        value: float,
        unit: str = "None",
        storage_resolution: int = 60,
    ) -> MetricDatum:
        return cls(namespace, name, dimensions, timestamp, 1.0, value, value, value, unit, storage_resolution)

    def to_item(self) -> dict[str, Any]:
        return {
            "ns": self.namespace,
            "n": self.name,
            "d": [list(pair) for pair in self.dimensions],
            "t": self.timestamp,
            "c": self.count,
            "s": self.sum,
            "lo": self.minimum,
            "hi": self.maximum,
            "u": self.unit,
            "r": self.storage_resolution,
        }

    @classmethod
    def from_item(cls, item: dict[str, Any]) -> MetricDatum:
        return cls(
            namespace=str(item["ns"]),
            name=str(item["n"]),
            dimensions=tuple((str(k), str(v)) for k, v in item["d"]),
            timestamp=float(item["t"]),
            count=float(item["c"]),
            sum=float(item["s"]),
            minimum=float(item["lo"]),
            maximum=float(item["hi"]),
            unit=str(item.get("u", "None")),
            storage_resolution=int(item.get("r", 60)),
        )


# The "cols" value of a column block: its layout version. A collector refuses a block whose
# version it does not know (naming both), so the layout can change without guessing.
# Version 1 carries statistic sets ("c", "s", "lo", "hi"); version 2 carries single samples
# ("v": count 1, sum = minimum = maximum = v), a quarter of the numbers to write and parse.
BLOCK_VERSION = 1
VALUE_BLOCK_VERSION = 2


def is_single(datum: MetricDatum) -> bool:
    """One sample: what `MetricDatum.single` makes, so a value block carries it without loss."""
    return datum.count == 1 and datum.sum == datum.minimum == datum.maximum


def metric_block(datums: Sequence[MetricDatum]) -> dict[str, Any]:
    """Datums as one column block: row i of every per-row list is datapoint i.

    Namespaces, names, dimension sets and units are listed once each and rows point at
    them by index ("nsi", "ni", "di", "ui"): a block repeats a handful of them
    thousands of times, and small integers cost the collector almost nothing to read.
    When every datum is a single sample the block is a value block (one "v" list);
    otherwise it carries the four statistic lists.
    """
    namespaces, namespace_index = _dictionary([datum.namespace for datum in datums])
    names, name_index = _dictionary([datum.name for datum in datums])
    dimension_sets, dimension_index = _dictionary([datum.dimensions for datum in datums])
    units, unit_index = _dictionary([datum.unit for datum in datums])
    block: dict[str, Any] = {
        "ns": namespaces, "nsi": namespace_index,
        "n": names, "ni": name_index,
        "d": [[list(pair) for pair in dimensions] for dimensions in dimension_sets], "di": dimension_index,
        "u": units, "ui": unit_index,
        "t": [datum.timestamp for datum in datums],
        "r": [datum.storage_resolution for datum in datums],
    }
    if all(map(is_single, datums)):
        return {"cols": VALUE_BLOCK_VERSION, **block, "v": [datum.sum for datum in datums]}
    return {"cols": BLOCK_VERSION, **block,
            "c": [datum.count for datum in datums],
            "s": [datum.sum for datum in datums],
            "lo": [datum.minimum for datum in datums],
            "hi": [datum.maximum for datum in datums]}


def _dictionary(values: list[_Key]) -> tuple[list[_Key], list[int]]:
    """The distinct values in first-seen order, and each value's position among them."""
    positions: dict[_Key, int] = {}
    index = [positions.setdefault(value, len(positions)) for value in values]
    return list(positions), index


def is_metric_block(item: Any) -> bool:
    """A column block (any version), as opposed to a datapoint item."""
    return isinstance(item, dict) and "cols" in item


def datums_of(items: Iterable[dict[str, Any]]) -> list[MetricDatum]:
    """Every datapoint of well-formed items of either shape, in order (readers of envelopes, tests)."""
    datums: list[MetricDatum] = []
    for item in items:
        if not is_metric_block(item):
            datums.append(MetricDatum.from_item(item))
            continue
        dimension_sets = [tuple((str(k), str(v)) for k, v in pairs) for pairs in item["d"]]
        statistics = zip(item["c"], item["s"], item["lo"], item["hi"], strict=True) if "v" not in item \
            else ((1.0, value, value, value) for value in item["v"])
        datums += [MetricDatum(namespace, name, dimensions, timestamp, count, total, low, high, unit, resolution)
                   for namespace, name, dimensions, timestamp, (count, total, low, high), unit, resolution in zip(
                       (item["ns"][i] for i in item["nsi"]), (item["n"][i] for i in item["ni"]),
                       (dimension_sets[i] for i in item["di"]), item["t"], statistics,
                       (item["u"][i] for i in item["ui"]), item["r"], strict=True)]
    return datums
