"""PutMetricAlarm and PutCompositeAlarm requests: AWS's field names and constraints.

`load_metric_alarm` / `load_composite_alarm` validate a request (from JSON, a
GitOps file or the API) and raise one ConfigError listing every problem, each
naming the alarm and the field. Field-level problems are found by pydantic;
the rules that tie several fields together (Statistic xor ExtendedStatistic,
MetricName xor Metrics, Period x EvaluationPeriods...) are checked once the
fields themselves are valid, and also reported all at once.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Annotated, Any, Literal, TypeVar

from pydantic import Field, field_validator
from pydantic_core import PydanticCustomError

from watchkeeper.config import Strict, validate
from watchkeeper.errors import ConfigError, Problem
from watchkeeper.statistics import BASIC_STATISTICS, parse_extended_statistic

StateValue = Literal["OK", "ALARM", "INSUFFICIENT_DATA"]
STATE_VALUES: tuple[StateValue, ...] = ("OK", "ALARM", "INSUFFICIENT_DATA")
ComparisonOperator = Literal[
    "GreaterThanOrEqualToThreshold", "GreaterThanThreshold", "LessThanThreshold", "LessThanOrEqualToThreshold"
]
STATIC_OPERATORS = ("GreaterThanOrEqualToThreshold", "GreaterThanThreshold", "LessThanThreshold",
                    "LessThanOrEqualToThreshold")
ANOMALY_OPERATORS = ("LessThanLowerOrGreaterThanUpperThreshold", "LessThanLowerThreshold",
                     "GreaterThanUpperThreshold")
TreatMissingData = Literal["missing", "ignore", "breaching", "notBreaching"]
UnitName = Literal[
    "Seconds", "Microseconds", "Milliseconds", "Bytes", "Kilobytes", "Megabytes", "Gigabytes", "Terabytes",
    "Bits", "Kilobits", "Megabits", "Gigabits", "Terabits", "Percent", "Count", "Bytes/Second",
    "Kilobytes/Second", "Megabytes/Second", "Gigabytes/Second", "Terabytes/Second", "Bits/Second",
    "Kilobits/Second", "Megabits/Second", "Gigabits/Second", "Terabits/Second", "Count/Second", "None",
]
Action = Annotated[str, Field(min_length=1, max_length=1024)]
Actions = Annotated[list[Action], Field(max_length=5, description="Up to 5 action URIs.")]
AlarmName = Annotated[str, Field(min_length=1, max_length=255)]
SECONDS_PER_DAY = 86_400


def _check_period(value: int) -> int:
    if value in (10, 20, 30) or (value >= 60 and value % 60 == 0):
        return value
    raise PydanticCustomError("period", "allowed 10, 20, 30 or a multiple of 60")


class Dimension(Strict):
    Name: str = Field(min_length=1, max_length=255)
    Value: str = Field(min_length=1, max_length=1024)


class Tag(Strict):
    Key: str = Field(min_length=1, max_length=128)
    Value: str = Field(max_length=256)


class MetricSpec(Strict):
    """Metric: the series a MetricStat reads."""

    Namespace: str | None = Field(default=None, min_length=1, max_length=255, pattern=r"^[^:].*$")
    MetricName: str = Field(min_length=1, max_length=255)
    Dimensions: list[Dimension] = Field(default_factory=list, max_length=30)


class MetricStatSpec(Strict):
    """MetricStat: a metric, period and statistic."""

    Metric: MetricSpec
    Period: int = Field(description="10, 20, 30 or a multiple of 60.")
    Stat: str = Field(description="A statistic or extended statistic, e.g. Average or p99.")
    Unit: UnitName | None = None

    @field_validator("Period")
    @classmethod
    def _period(cls, value: int) -> int:
        return _check_period(value)

    @field_validator("Stat")
    @classmethod
    def _known_stat(cls, value: str) -> str:
        if value in BASIC_STATISTICS or parse_extended_statistic(value) is not None:
            return value
        raise PydanticCustomError("stat", "allowed SampleCount, Average, Sum, Minimum, Maximum or "
                                          "pNN.NN/tmNN/TM(a%:b%)/PR(a:b)/...")


class MetricDataQuery(Strict):
    """One entry of Metrics: a metric (MetricStat) or an expression over the other ids."""

    Id: str = Field(min_length=1, max_length=255, pattern=r"^[a-z][a-zA-Z0-9_]*$")
    MetricStat: MetricStatSpec | None = None
    Expression: str | None = Field(default=None, min_length=1, max_length=2048)
    Label: str | None = None
    ReturnData: bool = True
    Period: int | None = Field(default=None, description="For expressions: the period of the result.")
    AccountId: str | None = None


class AlarmBase(Strict):
    """The fields metric and composite alarms share."""

    AlarmName: AlarmName
    AlarmDescription: str | None = Field(default=None, max_length=1024)
    ActionsEnabled: bool = True
    OKActions: Actions = Field(default_factory=list)
    AlarmActions: Actions = Field(default_factory=list)
    InsufficientDataActions: Actions = Field(default_factory=list)
    Tags: list[Tag] = Field(default_factory=list, max_length=50)


class PutMetricAlarm(AlarmBase):
    """A metric alarm, exactly as PutMetricAlarm takes it."""

    MetricName: str | None = Field(default=None, min_length=1, max_length=255)
    Namespace: str | None = Field(default=None, min_length=1, max_length=255, pattern=r"^[^:].*$")
    Statistic: Literal["SampleCount", "Average", "Sum", "Minimum", "Maximum"] | None = None
    ExtendedStatistic: str | None = Field(
        default=None, description="p0.0..p100, tmNN, tcNN, tsNN, wmNN, TM(a%:b%), TM(a:b), IQM, PR(a:b).")
    Dimensions: list[Dimension] = Field(default_factory=list, max_length=30)
    Period: int | None = Field(default=None, description="10, 20, 30 or a multiple of 60 seconds.")
    Unit: UnitName | None = None
    EvaluationPeriods: int = Field(ge=1, description="N: how many recent periods are evaluated.")
    DatapointsToAlarm: int | None = Field(default=None, ge=1, description="M (1..N), defaults to N.")
    Threshold: float | None = None
    ComparisonOperator: str = Field(description="The statistic is the left operand.")
    TreatMissingData: TreatMissingData = "missing"
    EvaluateLowSampleCountPercentile: Literal["evaluate", "ignore"] | None = None
    Metrics: list[MetricDataQuery] | None = Field(default=None, min_length=1, max_length=10)
    ThresholdMetricId: str | None = None

    @field_validator("Period")
    @classmethod
    def _period(cls, value: int | None) -> int | None:
        return None if value is None else _check_period(value)

    @field_validator("ExtendedStatistic")
    @classmethod
    def _extended(cls, value: str | None) -> str | None:
        if value is None or parse_extended_statistic(value) is not None:
            return value
        raise PydanticCustomError("extended", "allowed p0.0..p100 (up to 10 decimals), tmNN, tcNN, tsNN, wmNN, "
                                               "TM/TC/TS/WM(a%:b%) with percent bounds, TM/TC/TS/WM(a:b) "
                                               "with absolute bounds, IQM or PR(a:b)")

    @field_validator("ComparisonOperator")
    @classmethod
    def _operator(cls, value: str) -> str:
        if value in STATIC_OPERATORS:
            return value
        if value in ANOMALY_OPERATORS:
            raise PydanticCustomError("anomaly", "anomaly-detection bands are not supported yet; allowed "
                                                 + ", ".join(STATIC_OPERATORS))
        raise PydanticCustomError("operator", "allowed " + ", ".join(STATIC_OPERATORS))

    @property
    def datapoints_to_alarm(self) -> int:
        return self.DatapointsToAlarm or self.EvaluationPeriods

    @property
    def statistic_name(self) -> str | None:
        """The statistic the alarm watches (Statistic or ExtendedStatistic); None for metric math."""
        return self.Statistic or self.ExtendedStatistic

    @property
    def returned_query(self) -> MetricDataQuery | None:
        return next((q for q in self.Metrics or [] if q.ReturnData), None)

    @property
    def period(self) -> int:
        """The evaluation period: Period, or that of the metric math result."""
        if self.Period is not None:
            return self.Period
        returned = self.returned_query
        periods = [q.MetricStat.Period for q in self.Metrics or [] if q.MetricStat is not None]
        if returned is not None and returned.MetricStat is not None:
            return returned.MetricStat.Period
        if returned is not None and returned.Period is not None:
            return returned.Period
        return min(periods) if periods else 60


class PutCompositeAlarm(AlarmBase):
    """A composite alarm, exactly as PutCompositeAlarm takes it."""

    AlarmRule: str = Field(min_length=1, max_length=10240)
    ActionsSuppressor: str | None = Field(default=None, min_length=1, max_length=1600)
    ActionsSuppressorWaitPeriod: int | None = Field(default=None, ge=0)
    ActionsSuppressorExtensionPeriod: int | None = Field(default=None, ge=0)


A = TypeVar("A", bound=AlarmBase)


def _source(source: str, data: Any) -> str:
    name = data.get("AlarmName") if isinstance(data, dict) else None
    return f"{source} (alarm {name})" if isinstance(name, str) and name else source


def _load(model: type[A], rules: Callable[[A], list[tuple[str, str]]], data: Any, source: str) -> A:
    """Field problems first (all of them), then the rules between fields (all of them)."""
    where = _source(source, data)
    alarm = validate(model, data, where)
    problems = [Problem(where, path, message) for path, message in rules(alarm)]
    if problems:
        raise ConfigError(problems)
    return alarm


def load_metric_alarm(data: Any, source: str) -> PutMetricAlarm:
    """Validate a PutMetricAlarm request; ConfigError lists every problem with alarm and field."""
    return _load(PutMetricAlarm, _metric_alarm_rules, data, source)


def load_composite_alarm(data: Any, source: str) -> PutCompositeAlarm:
    """Validate a PutCompositeAlarm request (alarms.composite.load_composite also parses the rule)."""
    return _load(PutCompositeAlarm, _composite_rules, data, source)


def _metric_alarm_rules(alarm: PutMetricAlarm) -> list[tuple[str, str]]:
    """The rules between fields, as (field, message) pairs."""
    problems: list[tuple[str, str]] = []
    n = alarm.EvaluationPeriods
    if alarm.DatapointsToAlarm is not None and alarm.DatapointsToAlarm > n:
        problems.append(("DatapointsToAlarm", f"found {alarm.DatapointsToAlarm}; allowed 1..EvaluationPeriods ({n})"))
    if alarm.Threshold is None and alarm.ThresholdMetricId is None:
        problems.append(("Threshold", "required key is missing"))
    if alarm.ThresholdMetricId is not None:
        problems.append(("ThresholdMetricId", "anomaly-detection bands are not supported yet"))
    if alarm.Metrics is None:
        problems.extend(_single_metric_rules(alarm))
    else:
        problems.extend(_metric_math_rules(alarm))
    period = alarm.period
    limit = SECONDS_PER_DAY if period < 3600 else 7 * SECONDS_PER_DAY
    if period * n > limit:
        problems.append(("EvaluationPeriods", f"found Period x EvaluationPeriods = {period} x {n} = {period * n} s; "
                                              f"allowed at most {limit} s ({'1 day' if limit == SECONDS_PER_DAY else '7 days'})"))
    if alarm.EvaluateLowSampleCountPercentile is not None and not _is_percentile(alarm.ExtendedStatistic):
        problems.append(("EvaluateLowSampleCountPercentile", "applies only with a percentile ExtendedStatistic (pNN)"))
    return problems


def _is_percentile(statistic: str | None) -> bool:
    parsed = parse_extended_statistic(statistic) if statistic else None
    return parsed is not None and parsed.kind == "p"


def _single_metric_rules(alarm: PutMetricAlarm) -> list[tuple[str, str]]:
    problems: list[tuple[str, str]] = []
    for key in ("MetricName", "Namespace", "Period"):
        if getattr(alarm, key) is None:
            problems.append((key, "required key is missing (give MetricName, Namespace and Period, or Metrics)"))
    if (alarm.Statistic is None) == (alarm.ExtendedStatistic is None):
        found = "both" if alarm.Statistic is not None else "neither"
        problems.append(("Statistic", f"found {found} of Statistic and ExtendedStatistic; allowed exactly one"))
    return problems


def _metric_math_rules(alarm: PutMetricAlarm) -> list[tuple[str, str]]:
    problems: list[tuple[str, str]] = []
    for key in ("MetricName", "Namespace", "Statistic", "ExtendedStatistic", "Period", "Unit"):
        if getattr(alarm, key) is not None:
            problems.append((key, "found together with Metrics; allowed either Metrics or the single-metric fields"))
    if alarm.Dimensions:
        problems.append(("Dimensions", "found together with Metrics; put dimensions in Metrics[].MetricStat"))
    queries = alarm.Metrics or []
    returned = [q.Id for q in queries if q.ReturnData]
    if len(returned) != 1:
        problems.append(("Metrics", f"found ReturnData=true on {len(returned)} entries {returned}; allowed exactly one"))
    ids = [q.Id for q in queries]
    for index, query in enumerate(queries):
        if (query.MetricStat is None) == (query.Expression is None):
            problems.append((f"Metrics[{index}]", "allowed exactly one of MetricStat and Expression"))
        if ids.count(query.Id) > 1:
            problems.append((f"Metrics[{index}].Id", f"found {query.Id!r} more than once; ids must be unique"))
        if query.Period is not None and query.Expression is None:
            problems.append((f"Metrics[{index}].Period", "allowed only on expressions; use MetricStat.Period"))
    return problems


def _composite_rules(alarm: PutCompositeAlarm) -> list[tuple[str, str]]:
    problems: list[tuple[str, str]] = []
    if alarm.ActionsSuppressor is None:
        for key in ("ActionsSuppressorWaitPeriod", "ActionsSuppressorExtensionPeriod"):
            if getattr(alarm, key) is not None:
                problems.append((key, "allowed only together with ActionsSuppressor"))
    else:
        for key in ("ActionsSuppressorWaitPeriod", "ActionsSuppressorExtensionPeriod"):
            if getattr(alarm, key) is None:
                problems.append((key, "required key is missing (ActionsSuppressor is set)"))
    return problems
