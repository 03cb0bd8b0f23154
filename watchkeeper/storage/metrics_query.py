"""Reads of the metric tables: statistics per period for many series at once, and the series list.

The API's GetMetricStatistics and ListMetrics use these, and so does the alarm
evaluator, which asks for many series in one round trip (`fetch_statistics`).
Every statement is rendered once and runs unchanged on ClickHouse 18.16 and on chdb.
"""

from __future__ import annotations

from collections.abc import Collection, Iterator, Sequence
from dataclasses import dataclass, field
from enum import Enum
from functools import cached_property
from typing import Any, Literal

from watchkeeper.config.settings import RetentionSettings
from watchkeeper.events import Dimensions, series_fingerprint
from watchkeeper.statistics import ExtendedStatistic, finish_trimmed
from watchkeeper.storage.engine import Engine
from watchkeeper.storage.sql import in_list, literal, quote

DAY = 86_400
# CloudWatch keeps sub-minute (high-resolution) data for three hours, then one-minute data.
HIGH_RESOLUTION_HOURS = 3
# Longest fingerprint IN list one statement carries: ClickHouse refuses statements over max_query_size
# (256 KiB by default), and an alarm evaluator asks for 10,000 series (~21 characters each) at once.
MAX_FINGERPRINT_LIST_CHARS = 192 * 1024
_FINGERPRINT_CHARS = 22  # the widest UInt64 (20 digits) and its ", "


@dataclass(frozen=True)
class SeriesKey:
    """One metric series: namespace, name and its exact (sorted) dimension set."""

    namespace: str
    metric_name: str
    dimensions: Dimensions = ()

    @cached_property
    def fingerprint(self) -> int:
        # Cached: an alarm evaluator asks for the same keys' fingerprints several times a cycle.
        return series_fingerprint(self.namespace, self.metric_name, self.dimensions)

    def __hash__(self) -> int:
        # The cached fingerprint, not the dataclass' hash of every dimension pair: an alarm cycle hashes
        # its 10,000 keys several times. Equal keys have equal fingerprints, so this agrees with ==.
        return hash(self.fingerprint)


@dataclass(frozen=True)
class Datapoint:
    """The statistics of one period of one series, for one unit (CloudWatch keeps units apart).

    percentiles maps the requested percentile (0..100) to its value; a percentile
    is absent when it cannot be computed exactly, as CloudWatch does: when the
    period holds a negative value, or a statistic set with several distinct values.
    trimmed maps the requested trimmed statistics (TM/TC/TS/WM/PR, see fetch_trimmed)
    to their values, absent on the same terms.
    """

    timestamp: int
    sample_count: float
    sum: float
    minimum: float
    maximum: float
    unit: str
    percentiles: dict[float, float] = field(default_factory=dict)
    trimmed: dict[ExtendedStatistic, float] = field(default_factory=dict)

    @property
    def average(self) -> float:
        return self.sum / self.sample_count


class Tier(Enum):
    """Where data of a given age lives: raw samples, then CloudWatch's 5-minute and 1-hour rollups."""

    RAW = ("metric_samples", 1)
    FIVE_MINUTES = ("metric_samples_5m", 300)
    ONE_HOUR = ("metric_samples_1h", 3600)

    def __init__(self, table: str, resolution: int) -> None:
        self.table = table
        self.resolution = resolution


def tier_for(start: int, now: int, retention: RetentionSettings) -> Tier:
    """The finest tier that still holds data starting at start (raw data expires first)."""
    age = now - start
    if age <= retention.metrics_days * DAY:
        return Tier.RAW
    if age <= retention.metrics_5m_days * DAY:
        return Tier.FIVE_MINUTES
    return Tier.ONE_HOUR


def resolution_at(start: int, now: int, retention: RetentionSettings) -> int:
    """The finest period (seconds) data starting at start is still kept at."""
    if now - start > HIGH_RESOLUTION_HOURS * 3600:
        return max(60, tier_for(start, now, retention).resolution)
    return 1


def _fingerprint_chunks(series: Sequence[SeriesKey]) -> list[list[int]]:
    """The series' distinct fingerprints, sorted, in as few equal runs as keep each IN list under
    MAX_FINGERPRINT_LIST_CHARS."""
    fingerprints = sorted({key.fingerprint for key in series})
    runs = -(-len(fingerprints) * _FINGERPRINT_CHARS // MAX_FINGERPRINT_LIST_CHARS)
    size = -(-len(fingerprints) // runs) if runs else 0
    return [fingerprints[i:i + size] for i in range(0, len(fingerprints), size)] if size else []


def statements_for(series: Sequence[SeriesKey]) -> int:
    """How many statements fetch_statistics sends for these series."""
    return len(_fingerprint_chunks(series))


def _chunk_conditions(series: Sequence[SeriesKey], start: int, end: int,
                      unit: str | None) -> Iterator[tuple[list[int], str]]:
    """Per run of fingerprints (_fingerprint_chunks), the WHERE conditions selecting its samples of [start, end)."""
    unit_filter = f" AND unit = {quote(unit)}" if unit is not None else ""
    namespaces = in_list(sorted({key.namespace for key in series}))
    names = in_list(sorted({key.metric_name for key in series}))
    for fingerprints in _fingerprint_chunks(series):
        # IN a subquery over one array literal, not IN a tuple: 18.16 analyses a 5,000-element tuple
        # (and checks the primary key against it) several times slower than it builds a set from an array.
        yield fingerprints, (f"namespace IN {namespaces} AND metric_name IN {names} "
                             f"AND fingerprint IN (SELECT arrayJoin({literal(fingerprints)})) "
                             f"AND ts >= toDateTime({start}) AND ts < toDateTime({end}){unit_filter}")


def _samples(tier: Tier, conditions: str, with_unit: bool = True) -> str:
    """The tier's samples matching conditions, each stored sample once, as (fingerprint, ts, unit, count, sum,
    min, max); without the unit when with_unit is false (its argMax is a fifth of the fold's cost on 18.16,
    and a reader that neither groups nor checks by unit does not need it).

    A batch delivered twice leaves rows with the same sort key (down to event_id) until a merge folds
    them; grouping by that key and taking each column of the highest version folds them exactly as
    FINAL would (a recomputed metric-filter datapoint outranks the one it replaces), at a third of
    FINAL's cost. A rollup tier's bucket rolled up again leaves two rows of the same (fingerprint, ts)
    (event_id is 0 there) until a merge; the newer rollup has the higher version (maintenance.roll_up),
    so the same fold keeps it, as FINAL would, without FINAL's merge of 30 days of partitions.
    """
    unit = "argMax(unit, version) AS u, " if with_unit else ""
    return (f"(SELECT fingerprint, ts, {unit}argMax(count, version) AS c, "
            "argMax(sum, version) AS s, argMax(min, version) AS lo, argMax(max, version) AS hi "
            f"FROM {tier.table} WHERE {conditions} GROUP BY fingerprint, ts, event_id)")


# Whether a period's values are known exactly (percentiles and trimmed statistics exist): no negative value
# and no statistic set of distinct values, as CloudWatch.
_EXACT = "min(lo) >= 0 AND countIf(c > 1 AND lo != hi) = 0"


def _weighted_quantiles(percentiles: Sequence[float]) -> str:
    """The percentiles (0..100) of a period's stored samples: a sample of a statistic set stands for
    sample_count values of mean sum/count, so each is weighted by its count (fractions 0..1 in ClickHouse)."""
    return f"quantilesExactWeighted({', '.join(literal(p / 100) for p in percentiles)})(s / c, toUInt64(round(c)))"


def _bucket(start: int, period: int) -> str:
    """The start of a sample's period-wide bucket, buckets aligned to start."""
    return f"{start} + intDiv(toUInt32(ts) - {start}, {period}) * {period} AS bucket"


def fetch_statistics(
    engine: Engine,
    series: Sequence[SeriesKey],
    start: int,
    end: int,
    period: int,
    percentiles: Sequence[float] = (),
    unit: str | None = None,
    tier: Tier = Tier.RAW,
) -> dict[int, list[Datapoint]]:
    """Statistics of [start, end) in period-wide buckets aligned to start, per series fingerprint.

    One query serves every series (one per run of fingerprints when thousands would
    exceed max_query_size: see statements_for). All five basic statistics come from
    the same aggregation, so they are always computed; percentiles only when asked
    (they cost most of such a query: ask for them only for the series that need them).
    Duplicate deliveries are folded (see _samples). Buckets with no data are absent;
    the lists are in time order.
    """
    percentile_columns = f", {_weighted_quantiles(percentiles)}, {_EXACT}" if percentiles else ""
    result: dict[int, list[Datapoint]] = {}
    for fingerprints, conditions in _chunk_conditions(series, start, end, unit):
        result.update((fingerprint, []) for fingerprint in fingerprints)
        columns = engine.query_columns(
            f"SELECT fingerprint, {_bucket(start, period)}, u, sum(c), sum(s), min(lo), max(hi){percentile_columns} "
            f"FROM {_samples(tier, conditions)} "
            "GROUP BY fingerprint, bucket, u ORDER BY fingerprint, bucket, u"
        )
        if not columns:
            continue
        if percentiles:
            exact = columns[8]
            values = [dict(zip(percentiles, map(float, found), strict=True)) if ok else {}
                      for found, ok in zip(columns[7], exact, strict=True)]
        else:
            values = [{} for _ in columns[0]]
        for fingerprint, bucket, unit_of, count, total, low, high, found in zip(
                *columns[:7], values, strict=True):
            result[int(fingerprint)].append(Datapoint(
                timestamp=int(bucket), unit=str(unit_of), sample_count=float(count), sum=float(total),
                minimum=float(low), maximum=float(high), percentiles=found,
            ))
    return result


# The statistic columns fetch_period_columns can add to the count, and their aggregate.
StatisticColumn = Literal["sums", "minimums", "maximums"]
_STATISTIC_COLUMNS: dict[StatisticColumn, str] = {"sums": "sum(s)", "minimums": "min(lo)", "maximums": "max(hi)"}


@dataclass(frozen=True, slots=True)
class PeriodColumns:
    """fetch_period_columns' result, column by column: one row per (series, period), ordered by fingerprint
    then period. A statistic column not asked for is None; a percentile is None where it is not exact."""

    fingerprints: list[int]
    buckets: list[int]
    counts: list[float]
    sums: list[float] | None = None
    minimums: list[float] | None = None
    maximums: list[float] | None = None
    percentiles: dict[float, list[float | None]] = field(default_factory=dict)


def fetch_period_columns(
    engine: Engine,
    series: Sequence[SeriesKey],
    start: int,
    end: int,
    period: int,
    statistics: Collection[StatisticColumn] = ("sums", "minimums", "maximums"),
    percentiles: Sequence[float] = (),
    unit: str | None = None,
    tier: Tier = Tier.RAW,
) -> PeriodColumns:
    """fetch_statistics for a reader of thousands of series that wants columns, not a Datapoint per row
    (the alarm evaluator): the periods of every unit as one (with unit None), and only the statistics
    asked for (the count always).

    Units are summed in ClickHouse: a period's count, sum, minimum and maximum over all units are those of
    its samples; a percentile exists only when the period holds one unit (per-unit values do not merge),
    as for fetch_statistics' rows merged by unit.
    """
    chosen = [name for name in _STATISTIC_COLUMNS if name in statistics]
    wanted = ["sum(c)"] + [_STATISTIC_COLUMNS[name] for name in chosen]
    if percentiles:
        wanted += [_weighted_quantiles(percentiles), f"{_EXACT} AND uniqExact(u) = 1"]
    found: list[list[Any]] = [[] for _ in range(2 + len(wanted))]
    for _, conditions in _chunk_conditions(series, start, end, unit):
        columns = engine.query_columns(
            f"SELECT fingerprint, {_bucket(start, period)}, {', '.join(wanted)} "
            f"FROM {_samples(tier, conditions, with_unit=bool(percentiles))} "
            "GROUP BY fingerprint, bucket ORDER BY fingerprint, bucket")
        for into, column in zip(found, columns):  # an empty result has no columns
            into.extend(column)
    fingerprints, buckets, counts, *rest = found
    # float(): chdb's JSON gives whole-number Float64 values as ints, which would show in reason data.
    read = {name: list(map(float, column)) for name, column in zip(chosen, rest)}
    out = PeriodColumns(list(map(int, fingerprints)), list(map(int, buckets)), list(map(float, counts)),
                        read.get("sums"), read.get("minimums"), read.get("maximums"))
    if percentiles:
        values, exact = rest[-2], rest[-1]
        for index, percentile in enumerate(percentiles):
            out.percentiles[percentile] = [float(found[index]) if ok else None
                                           for found, ok in zip(values, exact, strict=True)]
    return out


def _trimmed_columns(statistics: Sequence[ExtendedStatistic]) -> tuple[str, list[str]]:
    """The bound percentiles' quantilesExactWeighted column (or '') and, per statistic, the two array
    expressions trimmed_parts computes in Python: (weight inside, sum). vs/ws are a period's values and
    their weights; q holds the bound percentiles' values in `levels` order."""
    levels = sorted({p for s in statistics for p in s.bound_percentiles})
    quantiles = f", {_weighted_quantiles(levels)} AS q" if levels else ""

    def bound(value: float | None, percent: bool) -> str | None:
        return None if value is None else f"q[{levels.index(value) + 1}]" if percent else literal(value)

    parts = []
    for statistic in statistics:
        low, high = bound(statistic.lower, statistic.percent), bound(statistic.upper, statistic.percent)
        if statistic.kind == "wm":
            clamped = "v" if low is None else f"greatest(v, {low})"
            clamped = clamped if high is None else f"least({clamped}, {high})"
            parts += ["arraySum(ws)", f"arraySum(arrayMap((v, w) -> {clamped} * w, vs, ws))"]
            continue
        inside = " AND ".join([f"v > {low}"] * (low is not None) + [f"v <= {high}"] * (high is not None)) or "1"
        parts += [f"arraySum(arrayMap((v, w) -> if({inside}, w, 0), vs, ws))",
                  f"arraySum(arrayMap((v, w) -> if({inside}, v * w, 0), vs, ws))"]
    return quantiles, parts


def fetch_trimmed(
    engine: Engine,
    series: Sequence[SeriesKey],
    start: int,
    end: int,
    period: int,
    statistics: Sequence[ExtendedStatistic],
    unit: str | None = None,
    tier: Tier = Tier.RAW,
) -> dict[int, list[Datapoint]]:
    """fetch_statistics for the trimmed statistics (Datapoint.trimmed): TM, TC, TS, WM and PR.

    Computed from the same data as the percentiles: each stored sample is sum/count weighted by count,
    a period with a negative value or a statistic set of distinct values has none (see
    watchkeeper.statistics). Percent bounds are the nearest-rank percentiles of the period's values
    (quantilesExactWeighted, as pNN); a value is inside when lower < value <= upper. One statement per run
    of fingerprints (statements_for): the period's values are gathered into arrays and every requested
    statistic is summed over them, on ClickHouse 18.16 and chdb alike.
    """
    quantiles, parts = _trimmed_columns(statistics)
    result: dict[int, list[Datapoint]] = {}
    for fingerprints, conditions in _chunk_conditions(series, start, end, unit):
        result.update((fingerprint, []) for fingerprint in fingerprints)
        columns = engine.query_columns(
            # q is selected although unread: 18.16 prunes a subquery column only a lambda reads.
            f"SELECT fingerprint, bucket, u, n, total, low, high, exact, {', '.join(parts)}"
            f"{', q' if quantiles else ''} FROM ("
            f"SELECT fingerprint, {_bucket(start, period)}, u, sum(c) AS n, sum(s) AS total, min(lo) AS low, "
            f"max(hi) AS high, {_EXACT} AS exact, groupArray(s / c) AS vs, groupArray(c) AS ws{quantiles} "
            f"FROM {_samples(tier, conditions)} GROUP BY fingerprint, bucket, u"
            ") ORDER BY fingerprint, bucket, u"
        )
        if not columns:
            continue
        for row, (fingerprint, bucket, unit_of, count, total, low, high, exact) in enumerate(zip(*columns[:8])):
            found: dict[ExtendedStatistic, float] = {}
            for index, statistic in enumerate(statistics) if exact else ():
                value = finish_trimmed(statistic.kind, float(columns[8 + 2 * index][row]),
                                       float(columns[9 + 2 * index][row]), float(count))
                if value is not None:
                    found[statistic] = value
            result[int(fingerprint)].append(Datapoint(
                timestamp=int(bucket), unit=str(unit_of), sample_count=float(count), sum=float(total),
                minimum=float(low), maximum=float(high), trimmed=found,
            ))
    return result


@dataclass(frozen=True)
class DimensionFilter:
    """ListMetrics' filter: the series has dimension name (with this value, when value is given)."""

    name: str
    value: str | None = None


def list_series(
    engine: Engine,
    namespace: str | None = None,
    metric_name: str | None = None,
    dimensions: Sequence[DimensionFilter] = (),
    active_since: int | None = None,
    offset: int = 0,
    limit: int = 500,
) -> list[SeriesKey]:
    """Series matching every filter, in a stable order (namespace, name, fingerprint), one page."""
    conditions = ["1"]
    if namespace is not None:
        conditions.append(f"namespace = {quote(namespace)}")
    if metric_name is not None:
        conditions.append(f"metric_name = {quote(metric_name)}")
    for wanted in dimensions:
        if wanted.value is None:
            conditions.append(f"has(dim_names, {quote(wanted.name)})")
        else:
            conditions.append(f"arrayExists((n, v) -> n = {quote(wanted.name)} AND v = {quote(wanted.value)}, "
                              "dim_names, dim_values)")
    if active_since is not None:
        conditions.append(f"last_seen >= toDateTime({active_since})")
    rows = engine.query(
        "SELECT namespace, metric_name, dim_names, dim_values FROM metric_series FINAL "
        f"WHERE {' AND '.join(conditions)} ORDER BY namespace, metric_name, fingerprint "
        f"LIMIT {int(offset)}, {int(limit)}"
    )
    return [SeriesKey(str(ns), str(name), tuple(zip(map(str, keys), map(str, values), strict=True)))
            for ns, name, keys, values in rows]
