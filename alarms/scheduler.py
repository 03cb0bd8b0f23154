"""The evaluation cycle: which alarms are due, their data in few queries, evaluation, and commit.

Every 10 s (a cycle): alarms with Period < 60 are due every cycle, the others
once a minute. Due metric alarms are grouped by (period, unit) and each group's
series come from one fetch_statistics call, whatever the number of alarms;
composite alarms follow, children before parents, reading the states this very
cycle produced. Only the holder of the evaluator lease evaluates, so two
evaluators never both send (see store.Lease for the race window). The clock is
injected: tests call `run_cycle(now)` directly.
"""

from __future__ import annotations

import itertools
import logging
import threading
from collections import defaultdict
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from typing import NamedTuple

from alarms.composite import ChildState, Node, evaluate_composite, parse_rule, referenced
from alarms.evaluate import AlarmState, PeriodValue, evaluate, evaluation_range, newest_complete_period
from alarms.mathexpr import evaluate_metrics
from alarms.model import PutMetricAlarm, StateValue
from alarms.notify.message import alarm_arn
from alarms.pending import DeferredActions, hold_at_transition
from alarms.series_values import SeriesValues, columns_for, percentile_of
from alarms.store import AlarmStore, Lease, StoredDefinition, StoredState
from alarms.transitions import StateChange, Transitions, initial_state
from watchkeeper.config.settings import RetentionSettings
from watchkeeper.errors import ConfigError, WatchkeeperError
from watchkeeper.events import normalise_dimensions
from watchkeeper.storage.engine import Engine
from watchkeeper.storage.metrics_query import Datapoint, SeriesKey, Tier, fetch_period_columns, fetch_trimmed
from watchkeeper.storage.metrics_query import statements_for, tier_for
from watchkeeper.statistics import ExtendedStatistic, parse_extended_statistic

log = logging.getLogger(__name__)

CYCLE_SECONDS = 10
STANDARD_SECONDS = 60
Clock = Callable[[], float]


@dataclass(frozen=True, slots=True)
class SeriesNeed:
    """One series at one statistic that an alarm reads, over its last `periods` periods."""

    key: SeriesKey
    period: int
    statistic: str
    unit: str | None
    periods: int


# Per need, its value per period start.
NeedValues = dict[SeriesNeed, dict[int, PeriodValue]]


class _Parsed(NamedTuple):
    definition: StoredDefinition
    model: PutMetricAlarm
    needs: list[tuple[str, SeriesNeed]]


@dataclass
class CycleReport:
    leading: bool
    evaluated: int = 0
    transitions: int = 0
    metric_queries: int = 0
    errors: list[str] = field(default_factory=list)


def _needs(alarm: PutMetricAlarm) -> list[tuple[str, SeriesNeed]]:
    """(query id, need) per series the alarm reads; the id is '' for a single-metric alarm."""
    span = evaluation_range(alarm.EvaluationPeriods)
    if alarm.Metrics is None:
        assert alarm.Namespace and alarm.MetricName and alarm.Period and alarm.statistic_name
        key = SeriesKey(alarm.Namespace, alarm.MetricName,
                        normalise_dimensions([(d.Name, d.Value) for d in alarm.Dimensions]))
        return [("", SeriesNeed(key, alarm.Period, alarm.statistic_name, alarm.Unit, span))]
    out = []
    for query in alarm.Metrics:
        if query.MetricStat is not None:
            stat = query.MetricStat
            metric = stat.Metric
            key = SeriesKey(metric.Namespace or "", metric.MetricName,
                            normalise_dimensions([(d.Name, d.Value) for d in metric.Dimensions]))
            # Twice the range in the alarm's period, so DIFF/RATE/FILL see history before the oldest period.
            periods = -(-2 * span * alarm.period // stat.Period)
            out.append((query.Id, SeriesNeed(key, stat.Period, stat.Stat, stat.Unit, periods)))
    return out


def _trimmed(statistic: str) -> ExtendedStatistic | None:
    """The parsed TM/TC/TS/WM/PR statistic, None for the basic statistics and percentiles."""
    parsed = parse_extended_statistic(statistic)
    return parsed if parsed is not None and parsed.kind != "p" else None


def _merged(rows: list[Datapoint]) -> Datapoint:
    """One period's per-unit rows as one (an alarm that names no unit reads every unit's samples);
    a trimmed statistic cannot be merged from per-unit values, so a merged row has none."""
    if len(rows) == 1:
        return rows[0]
    return Datapoint(rows[0].timestamp, sum(p.sample_count for p in rows), sum(p.sum for p in rows),
                     min(p.minimum for p in rows), max(p.maximum for p in rows), "")


def trimmed_period_values(points: Iterable[Datapoint], statistic: ExtendedStatistic) -> dict[int, PeriodValue]:
    """Per-period values of a trimmed statistic from fetch_trimmed's datapoints of one series (time order)."""
    out = {}
    for start, rows in itertools.groupby(points, key=_timestamp):
        point = _merged(list(rows))
        value = point.trimmed.get(statistic)
        if value is not None:
            out[start] = PeriodValue(value, point.sample_count)
    return out


def _timestamp(point: Datapoint) -> int:
    return point.timestamp


class MetricReader:
    """Per-period values of every need of a cycle, in a few statements per (period, unit).

    The basic statistics and percentiles come back column by column (fetch_period_columns, see
    series_values); percentiles cost most of a read, so only the series an ExtendedStatistic reads
    get them, in their own statement. Trimmed statistics read the period's values in a third one.
    """

    def __init__(self, engine: Engine, retention: RetentionSettings) -> None:
        self._engine = engine
        self._retention = retention

    def read(self, needs: Iterable[SeriesNeed], now: float) -> tuple[NeedValues, int]:
        """The values of every need, and how many statements that took."""
        groups: dict[tuple[int, str | None], list[SeriesNeed]] = defaultdict(list)
        for need in needs:
            groups[(need.period, need.unit)].append(need)
        out: NeedValues = {}
        statements = 0
        for (period, unit), members in groups.items():
            newest = newest_complete_period(now, period)
            start = newest - (max(m.periods for m in members) - 1) * period
            window = _Window(start, newest + period, period, unit, tier_for(start, int(now), self._retention))
            trimmed = [m for m in members if _trimmed(m.statistic) is not None]
            by_column = [m for m in members if _trimmed(m.statistic) is None]
            percentile_keys = {m.key for m in by_column if percentile_of(m.statistic) is not None}
            for readers in ([m for m in by_column if m.key not in percentile_keys],
                            [m for m in by_column if m.key in percentile_keys]):
                statements += self._read_columns(readers, window, out)
            statements += self._read_trimmed(trimmed, window, out)
        return out, statements

    def _read_columns(self, readers: list[SeriesNeed], window: _Window, out: NeedValues) -> int:
        """Basic statistics and percentiles of the readers' series, as few columns as they use."""
        if not readers:
            return 0
        keys = list({m.key: None for m in readers})
        percentiles = sorted({p for m in readers if (p := percentile_of(m.statistic)) is not None})
        found = SeriesValues(fetch_period_columns(
            self._engine, keys, window.start, window.end, window.period, columns_for(m.statistic for m in readers),
            percentiles, window.unit, window.tier))
        for member in readers:
            out[member] = found.values(member.key.fingerprint, member.statistic)
        return statements_for(keys)

    def _read_trimmed(self, readers: list[SeriesNeed], window: _Window, out: NeedValues) -> int:
        if not readers:
            return 0
        keys = list({m.key: None for m in readers})
        statistics = {m: parsed for m in readers if (parsed := _trimmed(m.statistic)) is not None}
        found = fetch_trimmed(self._engine, keys, window.start, window.end, window.period,
                              list(dict.fromkeys(statistics.values())), unit=window.unit, tier=window.tier)
        for member, statistic in statistics.items():
            out[member] = trimmed_period_values(found.get(member.key.fingerprint, []), statistic)
        return statements_for(keys)


class _Window(NamedTuple):
    """What one (period, unit) group of a cycle reads: [start, end) in period-wide buckets, from tier."""

    start: int
    end: int
    period: int
    unit: str | None
    tier: Tier


def metric_datapoints(alarm: PutMetricAlarm, values: Mapping[str, dict[int, PeriodValue]],
                      now: float) -> dict[int, PeriodValue]:
    """The alarm's per-period values: its one series, or the result of its metric math."""
    if alarm.Metrics is None:
        return values[""]
    period = alarm.period
    newest = newest_complete_period(now, period)
    starts = [newest - i * period for i in reversed(range(2 * evaluation_range(alarm.EvaluationPeriods)))]
    aligned = {name: tuple(series[t].value if t in series else None for t in starts)
               for name, series in values.items()}
    result = evaluate_metrics(alarm.Metrics, starts, period, aligned, alarm.AlarmName)
    returned = alarm.returned_query
    counts = values.get(returned.Id, {}) if returned is not None else {}
    return {t: PeriodValue(v, counts[t].sample_count if t in counts else 1.0)
            for t, v in zip(starts, result, strict=True) if v is not None}


def composite_order(rules: Mapping[str, Node]) -> list[str]:
    """Composite alarms with every composite child before its parents; members of a cycle are left out."""
    ordered: list[str] = []
    state: dict[str, str] = {}

    def visit(name: str) -> bool:
        if state.get(name) == "done":
            return True
        if state.get(name) == "visiting":
            return False
        state[name] = "visiting"
        acyclic = all(visit(child) for child in sorted(referenced(rules[name])) if child in rules)
        state[name] = "done" if acyclic else "cyclic"
        if acyclic:
            ordered.append(name)
        return acyclic

    for name in sorted(rules):
        if name not in state:
            visit(name)
    return ordered


class Scheduler:
    def __init__(self, store: AlarmStore, reader: MetricReader, transitions: Transitions, lease: Lease,
                 clock: Clock, region: str, account_id: str) -> None:
        self._store = store
        self._reader = reader
        self._transitions = transitions
        self._lease = lease
        self._clock = clock
        self._region = region
        self._account_id = account_id
        self._last_cycle: float | None = None
        self._models: dict[str, _Parsed] = {}
        self._leading = False
        self._deferred = DeferredActions(store, transitions)
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None

    def _parsed(self, definition: StoredDefinition) -> _Parsed:
        """The validated alarm and its needs, kept while the store hands out the same definition."""
        cached = self._models.get(definition.name)
        if cached is not None and cached.definition is definition:
            return cached
        alarm = definition.metric()
        return _Parsed(definition, alarm, _needs(alarm))

    def _due(self, alarm: PutMetricAlarm, now: float) -> bool:
        if alarm.period < STANDARD_SECONDS or self._last_cycle is None:
            return True
        return int(now // STANDARD_SECONDS) > int(self._last_cycle // STANDARD_SECONDS)

    def run_cycle(self, now: float | None = None) -> CycleReport:
        """One cycle as of `now` (default: the clock); does nothing unless this evaluator holds the lease."""
        now = self._clock() if now is None else now
        if not self._lease.hold(now):
            self._leading = False
            self._deferred.follow()
            return CycleReport(leading=False)
        report = CycleReport(leading=True)
        if not self._leading:
            # Newly leading: finish what a previous leader (or this process before a restart) left undone,
            # except actions deferred by a wait period: they are released when their wait ends.
            self._transitions.resume(self._deferred.lead())
            self._leading = True
        definitions = self._store.definitions()
        # Every state, unfiltered: an IN list of 10,000 alarm names exceeds ClickHouse's max_query_size (256 KiB).
        states = {name: state for name, state in self._store.states().items() if name in definitions}
        for name in definitions.keys() - states.keys():
            states[name] = initial_state(name, int(now * 1000))
        changes = self._evaluate_metric_alarms(definitions, states, now, report)
        changes += self._evaluate_composites(definitions, states, now, report)
        self._last_cycle = now
        rows = self._transitions.commit(changes)
        self._deferred.defer(changes, rows)
        states.update((row.name, row) for row in rows)
        self._deferred.release(definitions, states, now)
        report.transitions = sum(c.value != c.old.value for c in changes)
        return report

    def _evaluate_metric_alarms(self, definitions: Mapping[str, StoredDefinition], states: dict[str, StoredState],
                                now: float, report: CycleReport) -> list[StateChange]:
        self._models = {d.name: self._parsed(d) for d in definitions.values() if d.kind == "metric"}
        due = [alarm for alarm in self._models.values() if self._due(alarm.model, now)]
        values, report.metric_queries = self._reader.read((n for a in due for _, n in a.needs), now)
        changes = []
        for definition, alarm, needs in due:
            state = states[definition.name]
            try:
                datapoints = metric_datapoints(alarm, {qid: values[need] for qid, need in needs}, now)
            except ConfigError as error:
                report.errors.append(str(error))
                continue
            result = evaluate(alarm, datapoints, AlarmState(state.value, state.reason, state.reason_data or None), now)
            report.evaluated += 1
            if result.transition:
                changes.append(StateChange(definition, state, result.state, result.reason, result.reason_data or ""))
                states[definition.name] = _moved(state, result.state, now)
        return changes

    def _evaluate_composites(self, definitions: Mapping[str, StoredDefinition], states: dict[str, StoredState],
                             now: float, report: CycleReport) -> list[StateChange]:
        composites = {name: d.composite() for name, d in definitions.items() if d.kind == "composite"}
        rules = {name: parse_rule(alarm.AlarmRule, name) for name, alarm in composites.items()}
        changes = []
        for name in composite_order(rules):
            alarm = composites[name]
            children = {child: ChildState(states[child].value, states[child].transitioned_ms / 1000,
                                          alarm_arn(self._region, self._account_id, child))
                        for child in referenced(rules[name]) if child in states}
            state = states[name]
            result = evaluate_composite(alarm.AlarmRule, rules[name], children, AlarmState(state.value), now)
            report.evaluated += 1
            if result.transition:
                held_by, deferred = hold_at_transition(alarm, states, result.state, now)
                changes.append(StateChange(definitions[name], state, result.state, result.reason,
                                           result.reason_data or "", held_by, deferred))
                states[name] = _moved(state, result.state, now)
        return changes

    def start(self) -> None:
        self._thread = threading.Thread(target=self._loop, name="alarm-scheduler", daemon=True)
        self._thread.start()

    def stop(self) -> None:
        self._stop.set()
        if self._thread is not None:
            self._thread.join()

    def _loop(self) -> None:
        while not self._stop.wait(CYCLE_SECONDS - self._clock() % CYCLE_SECONDS):
            try:
                report = self.run_cycle()
            except WatchkeeperError as error:  # ClickHouse away: try again next cycle, state is unchanged
                log.warning("alarm evaluation cycle failed: %s", error)
                continue
            except Exception:  # a bug in one cycle must not stop paging for good; it is logged loudly
                log.exception("alarm evaluation cycle crashed")
                continue
            for problem in report.errors:
                log.warning("alarm evaluation: %s", problem)


def _moved(state: StoredState, value: StateValue, now: float) -> StoredState:
    """The state as the rest of this cycle sees it (composites read their children's new states)."""
    now_ms = int(now * 1000)
    return StoredState(state.name, value, state.value, state.reason, state.reason_data, now_ms,
                       now_ms, state.transition_id)
