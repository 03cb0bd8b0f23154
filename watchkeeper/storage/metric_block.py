"""Column blocks of metrics (`events.metric_block`) checked and converted a whole list at a time.

A block carries thousands of datapoints as parallel lists. Checking it list by
list (the set of element types, then one vectorised range check) costs a few
C-level passes per list instead of a dict, a dozen isinstance calls and an
object per datapoint, which is what lets one collector keep up with a fleet.
A bad block is refused whole, with the field, the first bad row, what was found
and what is allowed.
"""

from __future__ import annotations

import itertools
import math
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import numpy as np
import numpy.typing as npt

from watchkeeper.errors import WireError
from watchkeeper.events import BLOCK_VERSION, VALUE_BLOCK_VERSION, Dimensions

# DateTime is UInt32 seconds on every ClickHouse version we render for.
MAX_TS = 2**32 - 1
RESOLUTIONS = (1, 60)

# Lists with one entry per datapoint, per layout version, and the tables the index lists point into.
_INDEX_FIELDS = ("nsi", "ni", "di", "ui", "t", "r")
_ROW_FIELDS = {BLOCK_VERSION: (*_INDEX_FIELDS, "c", "s", "lo", "hi"), VALUE_BLOCK_VERSION: (*_INDEX_FIELDS, "v")}
_TABLES = ("ns", "n", "d", "u")

Floats = npt.NDArray[np.float64]
Indexes = npt.NDArray[np.intp]


@dataclass(frozen=True, slots=True)
class BlockRows:
    """One block's datapoints, checked: each string field as its table plus a row -> table index array."""

    namespaces: list[str]
    namespace_index: Indexes
    names: list[str]
    name_index: Indexes
    dimension_sets: list[Dimensions]
    dimension_index: Indexes
    units: list[str]
    unit_index: Indexes
    timestamp: Floats
    count: Floats
    sum: Floats
    minimum: Floats
    maximum: Floats
    resolution: npt.NDArray[np.uint16]

    def __len__(self) -> int:
        return len(self.timestamp)


def describe(value: Any) -> str:
    """A value as an error message shows it: short repr and its JSON-ish type."""
    text = repr(value)
    return f"{text if len(text) <= 40 else text[:37] + '...'} ({type(value).__name__})"


def block_rows(block: dict[str, Any], where: str) -> BlockRows:
    """The block's rows, or WireError naming `where`, the field, the first bad row, found and allowed."""
    version = block.get("cols")
    row_fields = _ROW_FIELDS.get(version) if type(version) is int else None
    if row_fields is None:
        raise WireError(f"{where}: field 'cols': found {describe(version)}; allowed: "
                        f"{' or '.join(map(str, _ROW_FIELDS))} (the column block layouts this collector reads)")
    problems = [f"field {name!r}: found {describe(block.get(name))}; allowed: a list"
                for name in (*row_fields, *_TABLES) if not isinstance(block.get(name), list)]
    if not problems:
        lengths = {name: len(block[name]) for name in row_fields}
        if len(set(lengths.values())) > 1:
            problems.append("lists of unequal length: " + ", ".join(f"{k}={v}" for k, v in lengths.items())
                            + "; allowed: one entry per datapoint in each")
    if problems:
        raise WireError(f"{where}: " + "; ".join(problems))
    check = _Checker(block, where)
    namespaces, names, units = check.strings("ns", non_empty=True), check.strings("n", non_empty=True), \
        check.strings("u", non_empty=False)
    sets = check.dimension_sets()
    if version == VALUE_BLOCK_VERSION:
        # Single samples: count 1 and the value as sum, minimum and maximum (arrays shared, never written to).
        value = check.numbers("v", "value")
        count, total, minimum, maximum = np.ones(len(value)), value, value, value
    else:
        count, total = check.numbers("c", "count"), check.numbers("s", "sum")
        minimum, maximum = check.numbers("lo", "minimum"), check.numbers("hi", "maximum")
    return BlockRows(
        namespaces=namespaces, namespace_index=check.indexes("nsi", "ns", len(namespaces)),
        names=names, name_index=check.indexes("ni", "n", len(names)),
        dimension_sets=sets, dimension_index=check.indexes("di", "d", len(sets)),
        units=units, unit_index=check.indexes("ui", "u", len(units)),
        timestamp=check.numbers("t", "epoch seconds", 0, MAX_TS),
        count=count, sum=total, minimum=minimum, maximum=maximum,
        resolution=check.resolutions("r"),
    )


def _number_within(value: Any, low: float, high: float) -> bool:
    if type(value) not in (int, float):
        return False
    try:
        return math.isfinite(value) and low <= value <= high
    except OverflowError:  # an integer beyond float range
        return False


class _Checker:
    """Checks one block's lists; each check raises WireError on the first bad row it finds."""

    def __init__(self, block: dict[str, Any], where: str) -> None:
        self._block = block
        self._where = where

    def _fail(self, name: str, allowed: str, good: Callable[[Any], bool]) -> WireError:
        values = self._block[name]
        row = next(index for index, value in enumerate(values) if not good(value))
        return WireError(f"{self._where}: field {name!r} row {row}: found {describe(values[row])}; "
                         f"allowed: {allowed}")

    def strings(self, name: str, non_empty: bool) -> list[str]:
        values: list[str] = self._block[name]
        if not set(map(type, values)) <= {str} or (non_empty and not all(values)):
            raise self._fail(name, "a non-empty string" if non_empty else "a string",
                             lambda v: isinstance(v, str) and (bool(v) or not non_empty))
        return values

    def numbers(self, name: str, meaning: str, low: float = -np.inf, high: float = np.inf) -> Floats:
        values = self._block[name]
        bounded = np.isfinite(low)
        allowed = f"{meaning} {low:.0f}..{high:.0f}" if bounded else f"a finite number ({meaning})"
        if set(map(type, values)) <= {int, float}:
            try:
                array = np.array(values, dtype=np.float64)
            except OverflowError:
                array = np.full(1, np.inf)  # an integer beyond float range: found by the row search below
            if np.isfinite(array).all() and (not bounded or (array.min(initial=low) >= low
                                                             and array.max(initial=high) <= high)):
                return array
        raise self._fail(name, allowed, lambda v: _number_within(v, low, high))

    def indexes(self, name: str, table: str, count: int) -> Indexes:
        values = self._block[name]
        if set(map(type, values)) <= {int}:
            array = np.array(values, dtype=np.intp)
            if not len(array) or (array.min() >= 0 and array.max() < count):
                return array
        raise self._fail(name, f"an index into {table!r} (0..{count - 1})",
                         lambda v: type(v) is int and 0 <= v < count)

    def resolutions(self, name: str) -> npt.NDArray[np.uint16]:
        values = self._block[name]
        if not set(map(type, values)) <= {int} or not set(values) <= set(RESOLUTIONS):
            raise self._fail(name, " or ".join(map(str, RESOLUTIONS)), lambda v: type(v) is int and v in RESOLUTIONS)
        return np.array(values, dtype=np.uint16)

    def dimension_sets(self) -> list[Dimensions]:
        sets = self._block["d"]
        pairs = list(itertools.chain.from_iterable(sets)) if set(map(type, sets)) <= {list} else None
        if pairs is None or not set(map(type, pairs)) <= {list} or not set(map(len, pairs)) <= {2} \
                or not set(map(type, itertools.chain.from_iterable(pairs))) <= {str}:
            raise self._fail("d", "a list of [name, value] strings", lambda pairs: isinstance(pairs, list) and all(
                isinstance(pair, list) and len(pair) == 2 and all(isinstance(part, str) for part in pair)
                for pair in pairs))
        return [tuple(map(tuple, pairs)) for pairs in sets]
