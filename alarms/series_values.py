"""Per-period values of many series from one columnar metric read, without an object per row.

The evaluation cycle reads thousands of series in one statement (fetch_period_columns). Each alarm
needs one series at one statistic: here the rows of every series are located once (they arrive
ordered by fingerprint), a statistic's column is derived once per read (Average: sum / count),
and each alarm takes its series' slice of that column.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence

from alarms.evaluate import PeriodValue
from watchkeeper.statistics import parse_extended_statistic
from watchkeeper.storage.metrics_query import PeriodColumns, StatisticColumn

# The columns each basic statistic is computed from, besides the count every one reads.
_BASIC_COLUMNS: dict[str, tuple[StatisticColumn, ...]] = {
    "SampleCount": (), "Sum": ("sums",), "Average": ("sums",), "Minimum": ("minimums",), "Maximum": ("maximums",)}


def percentile_of(statistic: str) -> float | None:
    """The percentile (0..100) a pNN statistic names; None for any other statistic."""
    parsed = parse_extended_statistic(statistic)
    return parsed.percentile if parsed is not None and parsed.kind == "p" else None


def columns_for(statistics: Iterable[str]) -> set[StatisticColumn]:
    """The statistic columns a read must fetch for these statistics (percentiles are asked apart)."""
    return {column for statistic in statistics for column in _BASIC_COLUMNS.get(statistic, ())}


class SeriesValues:
    """One read's columns, answering per-period values of one series at one statistic."""

    def __init__(self, columns: PeriodColumns) -> None:
        self._columns = columns
        self._derived: dict[str, Sequence[float | None]] = {}
        # A fingerprint's rows are contiguous, in period order: its first and last row, found by two dict
        # builds at C speed (a later row overwrites an earlier one) instead of a Python loop over the rows.
        fingerprints = columns.fingerprints
        rows = range(len(fingerprints))
        self._first = dict(zip(reversed(fingerprints), reversed(rows)))
        self._last = dict(zip(fingerprints, rows))

    def values(self, fingerprint: int, statistic: str) -> dict[int, PeriodValue]:
        """The series' value per period start; periods without data, or whose statistic does not exist
        (a percentile that is not exact, an Average of no samples), are absent."""
        first = self._first.get(fingerprint)
        if first is None:
            return {}
        end = self._last[fingerprint] + 1
        column = self._column(statistic)
        return {start: PeriodValue(value, count) for start, value, count in zip(
            self._columns.buckets[first:end], column[first:end], self._columns.counts[first:end])
            if value is not None}

    def _column(self, statistic: str) -> Sequence[float | None]:
        found = self._derived.get(statistic)
        if found is None:
            found = self._derived[statistic] = self._derive(statistic)
        return found

    def _derive(self, statistic: str) -> Sequence[float | None]:
        columns = self._columns
        percentile = percentile_of(statistic)
        if percentile is not None:
            return columns.percentiles[percentile]
        if statistic == "SampleCount":
            return columns.counts
        named = {"Sum": columns.sums, "Average": columns.sums, "Minimum": columns.minimums,
                 "Maximum": columns.maximums}
        column = named.get(statistic)
        if column is None:  # a caller's bug: its read did not ask for columns_for(statistic)
            raise LookupError(f"the read holds no column for statistic {statistic!r}")
        if statistic == "Average":
            return [total / count if count else None for total, count in zip(column, columns.counts, strict=True)]
        return column
