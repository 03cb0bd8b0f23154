"""The metric alarm evaluator: a pure function of (definition, datapoints, current state, now).

It follows CloudWatch's documented algorithm:

1. Periods are aligned to multiples of Period since the epoch. The period that
   contains `now` is still filling and is not evaluated; the newest evaluated
   period is the one before it.
2. CloudWatch looks at more periods than N (the evaluation range): N = 3 gives
   the documented 5. We use N + max(N // 3, 2), which gives that.
3. Missing data, in this order:
   a. at least N real datapoints in the range: the newest N are evaluated and
      TreatMissingData does not apply;
   b. otherwise breaching / notBreaching fill as few gaps as needed (the newest
      ones) to get N, keeping every real datapoint;
   c. missing / ignore evaluate the real datapoints alone. With none at all,
      missing gives INSUFFICIENT_DATA and ignore keeps the state.
4. M out of N: ALARM when at least M evaluated datapoints breach, else OK.
5. Premature alarm: with missing (ignore: the state is kept instead) the alarm
   goes to ALARM when the oldest datapoint of the range is breaching, is at
   least M periods old, and every newer one is breaching or missing, even when
   fewer than M datapoints exist.
6. Percentiles with EvaluateLowSampleCountPercentile = ignore: while an
   evaluated datapoint has fewer samples than 10/(1-p) (p >= 0.5) or 10/p
   (p < 0.5), the state is kept.

Fetching the data and acting on transitions belong to the caller.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any, NamedTuple

from alarms import reason
from alarms.model import PutMetricAlarm, StateValue
from alarms.reason import Point
from watchkeeper.statistics import parse_extended_statistic

INITIAL_REASON = "Unchecked: Initial alarm creation"


class PeriodValue(NamedTuple):
    """The alarm's statistic for one period, and how many samples it came from.

    A NamedTuple: a cycle builds one per period of each of 10,000 alarms, five times faster than a
    frozen dataclass (whose __init__ goes through object.__setattr__)."""

    value: float
    sample_count: float = 1.0


@dataclass(frozen=True, slots=True)
class AlarmState:
    """An alarm's current state as stored (what DescribeAlarms shows)."""

    value: StateValue = "INSUFFICIENT_DATA"
    reason: str = INITIAL_REASON
    reason_data: str | None = None


Explain = Callable[[], tuple[str, str | None]]


class Evaluation:
    """The outcome of one evaluation. The caller records reason/reason_data when `transition` is true.

    The reason text and data are rendered when first read: a cycle evaluates thousands of alarms
    and needs them only for the few that transition.
    """

    __slots__ = ("state", "transition", "_explain", "_explained")

    def __init__(self, state: StateValue, transition: bool, explain: Explain) -> None:
        self.state = state
        self.transition = transition
        self._explain = explain
        self._explained: tuple[str, str | None] | None = None

    @classmethod
    def stated(cls, state: StateValue, transition: bool, reason: str, reason_data: str | None) -> Evaluation:
        """An outcome whose reason is already rendered."""
        return cls(state, transition, lambda: (reason, reason_data))

    def _explanation(self) -> tuple[str, str | None]:
        if self._explained is None:
            self._explained = self._explain()
        return self._explained

    @property
    def reason(self) -> str:
        return self._explanation()[0]

    @property
    def reason_data(self) -> str | None:
        return self._explanation()[1]

    def as_output(self) -> dict[str, Any]:
        return {"StateValue": self.state, "StateReason": self.reason, "StateReasonData": self.reason_data}


def evaluation_range(evaluation_periods: int) -> int:
    """How many periods CloudWatch fetches for N evaluation periods (N = 3 -> 5, as documented)."""
    return evaluation_periods + max(evaluation_periods // 3, 2)


def newest_complete_period(now: float, period: int) -> int:
    """Start of the newest period that has ended at `now` (the current one is still filling)."""
    return int(now // period) * period - period


def breaches(value: float, operator: str, threshold: float) -> bool:
    if operator == "GreaterThanThreshold":
        return value > threshold
    if operator == "GreaterThanOrEqualToThreshold":
        return value >= threshold
    if operator == "LessThanThreshold":
        return value < threshold
    return value <= threshold


def low_sample_threshold(percentile: float) -> float | None:
    """Samples needed for a percentile to count as significant; None for p0/p100 (min, max)."""
    fraction = percentile / 100.0
    if fraction <= 0 or fraction >= 1:
        return None
    # Rounded so that p90 needs exactly 100 samples, not 100.00000000000001.
    return round(10 / (1 - fraction) if fraction >= 0.5 else 10 / fraction, 9)


def evaluate(alarm: PutMetricAlarm, datapoints: Mapping[int, PeriodValue], state: AlarmState,
             now: float) -> Evaluation:
    """Evaluate `alarm` as of `now` from its per-period values (keyed by period start, epoch seconds)."""
    period = alarm.period
    n = alarm.EvaluationPeriods
    m = alarm.datapoints_to_alarm
    threshold = alarm.Threshold if alarm.Threshold is not None else 0.0
    newest = newest_complete_period(now, period)
    starts = [newest - i * period for i in range(evaluation_range(n))]  # newest first
    real = [Point(t, datapoints[t].value, datapoints[t].sample_count,
                  breaches(datapoints[t].value, alarm.ComparisonOperator, threshold))
            for t in starts if t in datapoints]

    def keep() -> Evaluation:
        return Evaluation.stated(state.value, False, state.reason, state.reason_data)

    def decide(new_state: StateValue, text: Callable[[], str], evaluated: tuple[Point, ...]) -> Evaluation:
        def explain() -> tuple[str, str | None]:
            data = reason.reason_data(
                now=now, start=starts[-1], period=period, statistic=alarm.statistic_name, unit=alarm.Unit,
                recent=[p.value for p in reversed(real) if p.value is not None], evaluated=evaluated,
                threshold=threshold)
            return text(), json.dumps(data, separators=(",", ":"))

        return Evaluation(new_state, new_state != state.value, explain)

    if _low_sample_count(alarm, real[:n]):
        return keep()
    treat = alarm.TreatMissingData
    if len(real) >= n:
        evaluated = tuple(real[:n])
    elif treat in ("breaching", "notBreaching"):
        gaps = [t for t in starts if t not in datapoints][: n - len(real)]
        filled = [Point(t, None, None, treat == "breaching") for t in gaps]
        evaluated = tuple(sorted(real + filled, key=lambda p: -p.timestamp))
        if not real:
            outcome: StateValue = "ALARM" if treat == "breaching" else "OK"
            return decide(outcome, lambda: reason.all_missing(n, treat), evaluated)
    elif not real:
        if treat == "ignore":
            return keep()
        return decide("INSUFFICIENT_DATA", lambda: reason.insufficient_data(n), ())
    else:
        evaluated = tuple(real)
        if _premature_alarm(real, starts, m) and sum(p.breaching for p in real) < m:
            if treat == "ignore":
                return keep()
            return decide("ALARM", lambda: reason.threshold_crossed(
                evaluated, operator=alarm.ComparisonOperator, threshold=threshold, new_state="ALARM",
                old_state=state.value, minimum=m, treat_missing=treat), evaluated)
        if sum(p.breaching for p in real) < m and all(p.breaching for p in real):
            # Too few breaching points to alarm and no non-breaching one to say OK: the guide's
            # "- - - - X" row is INSUFFICIENT_DATA under missing and keeps the state under ignore.
            if treat == "ignore":
                return keep()
            return decide("INSUFFICIENT_DATA", lambda: reason.insufficient_data(n - len(real)), evaluated)
    breaching = sum(p.breaching for p in evaluated)
    new_state: StateValue = "ALARM" if breaching >= m else "OK"
    minimum = m if new_state == "ALARM" else n - m + 1
    return decide(new_state, lambda: reason.threshold_crossed(
        evaluated, operator=alarm.ComparisonOperator, threshold=threshold, new_state=new_state,
        old_state=state.value, minimum=minimum, treat_missing=treat), evaluated)


def _premature_alarm(real: list[Point], starts: list[int], m: int) -> bool:
    """The oldest datapoint of the range breaches, is >= M periods old, and all newer ones breach."""
    oldest = real[-1]
    age = starts.index(oldest.timestamp) + 1
    return age >= m and all(p.breaching for p in real)


def _low_sample_count(alarm: PutMetricAlarm, evaluated: list[Point]) -> bool:
    if alarm.EvaluateLowSampleCountPercentile != "ignore" or alarm.ExtendedStatistic is None:
        return False
    parsed = parse_extended_statistic(alarm.ExtendedStatistic)
    needed = low_sample_threshold(parsed.percentile) if parsed is not None and parsed.kind == "p" else None
    return needed is not None and any((p.sample_count or 0) < needed for p in evaluated)
