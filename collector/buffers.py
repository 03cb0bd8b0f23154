"""Rows waiting for their insert, per table, sealed into fixed batches when due.

ClickHouse wants few, large inserts (thousands of rows, about one per second
per table), so rows accumulate per table until max_rows or max_age. A sealed
batch never changes again: when an insert fails, exactly the same rows are
retried, and the records it covers are settled only when it succeeds.

A buffer keeps each record's column chunks as they came and joins them once, at
sealing: numpy chunks (the metrics writer's) into one array, lists into one list.
"""

from __future__ import annotations

import itertools
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from collector.ledger import Pending
from watchkeeper.storage.engine import Column, Columns


@dataclass(frozen=True)
class Batch:
    """One insert: a table, its columns, and the records whose rows it carries."""

    table: str
    columns: Columns
    rows: int
    covers: tuple[Pending, ...]

    def settle(self) -> None:
        for pending in self.covers:
            pending.settle(self.table)


def _joined(chunks: list[Column]) -> Column:
    if all(isinstance(chunk, np.ndarray) for chunk in chunks):
        return np.concatenate(chunks)
    return list(itertools.chain.from_iterable(chunks))


@dataclass
class _Filling:
    chunks: dict[str, list[Column]]
    opened_at: float
    rows: int = 0
    covers: list[Pending] = field(default_factory=list)


class TableBuffers:
    def __init__(self, max_rows: int, max_age_s: float) -> None:
        self._max_rows = max_rows
        self._max_age_s = max_age_s
        self._filling: dict[str, _Filling] = {}

    def add(self, table: str, columns: Columns, pending: Pending, now: float) -> None:
        """Append one record's rows for table (columns of equal length, the table's column set)."""
        filling = self._filling.get(table)
        if filling is None:
            filling = self._filling[table] = _Filling({name: [] for name in columns}, now)
        if filling.chunks.keys() != columns.keys():
            raise RuntimeError(f"writer for {table} changed its columns: {sorted(filling.chunks)} "
                               f"then {sorted(columns)}")
        for name, values in columns.items():
            filling.chunks[name].append(values)
        filling.rows += len(next(iter(columns.values())))
        filling.covers.append(pending)

    def seal_due(self, now: float) -> list[Batch]:
        """Seal the tables that reached max_rows or whose oldest row waited max_age_s."""
        due = [table for table, filling in self._filling.items()
               if filling.rows >= self._max_rows or now - filling.opened_at >= self._max_age_s]
        return [self._seal(table) for table in due]

    def seal_all(self) -> list[Batch]:
        return [self._seal(table) for table in list(self._filling)]

    def next_due_in(self, now: float) -> float | None:
        """Seconds until the oldest buffer is due, or None when nothing waits."""
        if not self._filling:
            return None
        oldest = min(filling.opened_at for filling in self._filling.values())
        return max(0.0, oldest + self._max_age_s - now)

    def rows(self) -> int:
        return sum(filling.rows for filling in self._filling.values())

    def _seal(self, table: str) -> Batch:
        filling = self._filling.pop(table)
        columns = {name: _joined(chunks) for name, chunks in filling.chunks.items()}
        return Batch(table, columns, filling.rows, tuple(filling.covers))
