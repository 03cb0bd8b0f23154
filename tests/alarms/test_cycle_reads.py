"""The cycle's metric reads (MetricReader: columnar reads sliced per alarm) give, for every statistic,
period and unit, exactly the period values a straightforward computation over the stored samples gives
(watchkeeper.statistics.aggregate, which the dry run uses). Both engines."""

from __future__ import annotations

import itertools
from dataclasses import dataclass

import pytest

from alarms.evaluate import newest_complete_period
from alarms.scheduler import MetricReader, SeriesNeed
from watchkeeper.config.settings import RetentionSettings
from watchkeeper.events import MetricDatum
from watchkeeper.statistics import Observation, aggregate, parse_extended_statistic
from watchkeeper.storage.engine import Engine
from watchkeeper.storage.metrics import write_metrics
from watchkeeper.storage.metrics_query import SeriesKey

BASE = 1_800_000_000  # a multiple of 300; the reads are "now" = 15 minutes later, all in the raw tier
NOW = BASE + 15 * 60 + 7
STATISTICS = ("SampleCount", "Sum", "Average", "Minimum", "Maximum", "p50", "p90", "p99.9")


@dataclass(frozen=True)
class Sample:
    host: str
    datum: MetricDatum

    def observation(self) -> Observation:
        d = self.datum
        single = d.count == 1 and d.minimum == d.maximum
        return Observation.of_values([(d.minimum, 1.0)]) if single else Observation(d.count, d.sum, d.minimum,
                                                                                        d.maximum)


def _fleet(namespace: str) -> list[Sample]:
    """Series that exercise every branch: several samples a period, two units in some periods, statistic
    sets of equal and of distinct values, a negative value, gaps."""
    samples = []

    def add(host: str, second: int, count: float, total: float, low: float, high: float, unit: str) -> None:
        samples.append(Sample(host, MetricDatum(namespace, "m", (("host", host),), BASE + second, count, total, low,
                                                high, unit)))

    for minute, j in itertools.product(range(15), range(3)):
        value = (minute * 7 + j * 5) % 13 + 0.25 * j
        add("steady", minute * 60 + 10 * j, 1, value, value, value, "Percent")
        if 5 <= minute < 10:  # a second unit in these periods: read apart by unit, merged without one
            add("two-units", minute * 60 + 10 * j, 1, value * 2, value * 2, value * 2, "Count")
        add("two-units", minute * 60 + 10 * j + 1, 1, value, value, value, "Percent")
    for minute in range(15):
        if minute % 7 == 1:
            add("sets", minute * 60 + 5, 4, 40, 5, 15, "Percent")  # distinct values: no percentile
        else:
            add("sets", minute * 60 + 5, 3, 21, 7, 7, "Percent")  # equal values: percentiles exist
        add("sets", minute * 60 + 20, 1, minute - 3.5, minute - 3.5, minute - 3.5, "Percent")  # negative early
    for minute in (2, 11):
        add("gappy", minute * 60 + 30, 1, 42.5, 42.5, 42.5, "Percent")
    return samples


def _expected(samples: list[Sample], need: SeriesNeed) -> dict[tuple[int, str], float]:
    """Per period start: its value and sample count, straight from the samples."""
    host = dict(need.key.dimensions)["host"]
    percentile = (parsed := parse_extended_statistic(need.statistic)) is not None and parsed.kind == "p"
    newest = newest_complete_period(NOW, need.period)
    out = {}
    for start in (newest - i * need.period for i in range(need.periods)):
        inside = [s.datum for s in samples if s.host == host and start <= s.datum.timestamp < start + need.period
                  and need.unit in (None, s.datum.unit)]
        if not inside or (percentile and len({d.unit for d in inside}) > 1):  # per-unit percentiles do not merge
            continue
        value = aggregate([Sample(host, d).observation() for d in inside], need.statistic)
        if value is not None:
            out[(start, "value")] = value
            out[(start, "count")] = sum(d.count for d in inside)
    return out


@pytest.mark.parametrize("period", [60, 300])
def test_period_values_match_the_straightforward_computation(engine: Engine, unique_name: str, period: int) -> None:
    samples = _fleet(unique_name)
    items = [s.datum.to_item() for s in samples]
    write_metrics(engine, [("batch-1", items)])
    write_metrics(engine, [("batch-1", items)])  # redelivered: counted once
    hosts = sorted({s.host for s in samples})
    needs = [SeriesNeed(SeriesKey(unique_name, "m", (("host", host),)), period, statistic, unit, 15 * 60 // period)
             for host, statistic, unit in itertools.product(hosts, STATISTICS, (None, "Percent", "Count"))]

    found, _ = MetricReader(engine, RetentionSettings()).read(needs, NOW)

    for need in needs:
        expected = _expected(samples, need)
        got = {(start, field): getattr(v, "value" if field == "value" else "sample_count")
               for start, v in found[need].items() for field in ("value", "count")}
        assert got.keys() == expected.keys(), need
        assert got == pytest.approx(expected, rel=1e-12), need
    # The data reaches every branch: percentiles absent for sets of distinct values, negatives and two units.
    p50 = {host: found[SeriesNeed(SeriesKey(unique_name, "m", (("host", host),)), period, "p50", None,
                                  15 * 60 // period)] for host in hosts}
    assert 0 < len(p50["sets"]) < 15 * 60 // period and 0 < len(p50["two-units"]) < 15 * 60 // period
    assert len(p50["gappy"]) == 2 and len(p50["steady"]) == 15 * 60 // period
