"""The event model: what agents produce and the collector stores.

Items travel as plain dicts inside an envelope (see wire.py) so that one Kafka
record carries thousands of them cheaply. This module holds the typed view of
the metric item and the helpers every producer and consumer share.
"""

from __future__ import annotations

import hashlib
import struct
from collections.abc import Iterable
from dataclasses import dataclass
from enum import StrEnum
from typing import Any


class Kind(StrEnum):
    """Each kind of event has its own topic and its own tables."""

    METRICS = "metrics"
    LOGS = "logs"
    AUDIT = "audit"


Dimensions = tuple[tuple[str, str], ...]


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
