"""What every host-metrics input shares: its config base, measurement selection and datum building.

An input turns probe readings into Observations (a dimension set and values keyed by
the short measurement name, e.g. "usage_idle"); `to_datums` then applies the user's
measurement selection, renames and units the way the CloudWatch agent does, so no
input repeats that logic.
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import Collection, Iterable, Mapping
from dataclasses import dataclass
from typing import Any, ClassVar, Generic, Literal, TypeVar

from pydantic import Field, field_validator

from agent.host import HostProbe
from agent.inputs._counters import CounterDeltas
from watchkeeper.config import Strict
from watchkeeper.events import MetricDatum, normalise_dimensions

# The units CloudWatch accepts (PutMetricData's StandardUnit).
Unit = Literal[
    "Seconds", "Microseconds", "Milliseconds", "Bytes", "Kilobytes", "Megabytes", "Gigabytes", "Terabytes",
    "Bits", "Kilobits", "Megabits", "Gigabits", "Terabits", "Percent", "Count", "Bytes/Second",
    "Kilobytes/Second", "Megabytes/Second", "Gigabytes/Second", "Terabytes/Second", "Bits/Second",
    "Kilobits/Second", "Megabits/Second", "Gigabits/Second", "Terabits/Second", "Count/Second", "None",
]

AWS_PLACEHOLDER = "${aws:"


class MeasurementObject(Strict):
    """The object form of a measurement: {"name": "cpu_usage_idle", "rename": "CPU_IDLE", "unit": "Percent"}."""

    name: str = Field(description="Short (usage_idle) or full (cpu_usage_idle) measurement name.")
    rename: str | None = Field(default=None, min_length=1, max_length=255,
                               description="The metric name to publish instead of section_measurement.")
    unit: Unit | None = Field(default=None, description="Overrides the measurement's default unit.")


class InputConfig(Strict):
    """Keys every metrics_collected section shares. Subclasses set SECTION and MEASUREMENTS."""

    SECTION: ClassVar[str]
    # Short measurement name -> default CloudWatch unit; also the list of allowed measurements.
    MEASUREMENTS: ClassVar[dict[str, str]]

    measurement: list[str | MeasurementObject] = Field(
        min_length=1,
        description='Measurements to publish: short ("usage_idle"), full ("cpu_usage_idle") or '
        '{"name", "rename", "unit"} objects.',
    )
    metrics_collection_interval: int | None = Field(
        default=None, ge=1, description="Seconds between samples; overrides agent.metrics_collection_interval."
    )
    append_dimensions: dict[str, str] = Field(
        default_factory=dict,
        description="Extra dimensions for this section only. ${aws:...} values are dropped with a warning.",
    )

    @field_validator("measurement")
    @classmethod
    def _known_measurements(cls, value: list[str | MeasurementObject]) -> list[str | MeasurementObject]:
        unknown = [name for name in (_name_of(item) for item in value) if cls.short_name(name) is None]
        if unknown:
            allowed = ", ".join(sorted(cls.MEASUREMENTS))
            raise ValueError(f"unknown {cls.SECTION} measurement(s) {', '.join(unknown)}; allowed: {allowed} "
                             f"(optionally prefixed with {cls.SECTION}_)")
        return value

    @classmethod
    def short_name(cls, name: str) -> str | None:
        """The short measurement name for a short or full (section_measurement) name, or None if unknown."""
        if name in cls.MEASUREMENTS:
            return name
        prefix = cls.SECTION + "_"
        if name.startswith(prefix) and name[len(prefix):] in cls.MEASUREMENTS:
            return name[len(prefix):]
        return None

    def plan(self) -> list[Published]:
        """What to publish for each selected measurement, in the order the user listed them."""
        plans = []
        for item in self.measurement:
            short = self.short_name(_name_of(item))
            assert short is not None  # the validator refused unknown names
            rename = item.rename if isinstance(item, MeasurementObject) else None
            unit = item.unit if isinstance(item, MeasurementObject) and item.unit else self.MEASUREMENTS[short]
            plans.append(Published(short, rename or f"{self.SECTION}_{short}", unit))
        return plans


def _name_of(item: str | MeasurementObject) -> str:
    return item.name if isinstance(item, MeasurementObject) else item


@dataclass(frozen=True, slots=True)
class Published:
    """One selected measurement: the value key an input produces, the metric name and unit it ships as."""

    field: str
    metric_name: str
    unit: str


@dataclass(frozen=True, slots=True)
class Observation:
    """One reading of one resource (a core, a mount, a NIC...): its dimensions and its values."""

    dimensions: Mapping[str, str]
    values: Mapping[str, float]


@dataclass(frozen=True, slots=True)
class CycleContext:
    """What every datum of one collection cycle shares."""

    namespace: str
    timestamp: float
    dimensions: Mapping[str, str]
    storage_resolution: int


C = TypeVar("C", bound=InputConfig)


class MetricInput(ABC, Generic[C]):
    """A configured input. Stateful inputs (counters) keep their previous reading between cycles."""

    def __init__(self, config: C) -> None:
        self.config = config
        self.published = config.plan()

    @abstractmethod
    def observe(self, probe: HostProbe) -> list[Observation]:
        """Read the probe; counter inputs return nothing for a series until it is primed."""

    def reset(self) -> None:
        """Forget every counter baseline (the host rebooted): the next reading primes again."""

    def collect(self, probe: HostProbe, context: CycleContext) -> list[MetricDatum]:
        return to_datums(self.observe(probe), self.published, context, self.config.append_dimensions)


class CounterInput(MetricInput[C]):
    """An input over cumulative counters: `self.counters` turns its readings into per-interval deltas."""

    # The fields whose decrease means a reset (None: any field).
    RESET_FIELDS: ClassVar[Collection[str] | None] = None

    def __init__(self, config: C) -> None:
        super().__init__(config)
        self.counters = CounterDeltas(self.RESET_FIELDS)

    def reset(self) -> None:
        self.counters.reset()


def static_dimensions(dimensions: Mapping[str, str]) -> dict[str, str]:
    """append_dimensions without the ${aws:...} values, which need EC2 metadata that is not here."""
    return {name: value for name, value in dimensions.items() if AWS_PLACEHOLDER not in value}


def to_datums(
    observations: Iterable[Observation],
    published: list[Published],
    context: CycleContext,
    section_dimensions: Mapping[str, str],
) -> list[MetricDatum]:
    shared = {**context.dimensions, **static_dimensions(section_dimensions)}
    datums = []
    for observation in observations:
        dimensions = normalise_dimensions({**shared, **observation.dimensions})
        for plan in published:
            value = observation.values.get(plan.field)
            if value is None:
                continue
            datums.append(MetricDatum.single(context.namespace, plan.metric_name, dimensions, context.timestamp,
                                             float(value), plan.unit, context.storage_resolution))
    return datums


@dataclass(frozen=True)
class InputSpec:
    """How the registry knows an input: its metrics_collected key, config model, class and a sample."""

    name: str
    config: type[InputConfig]
    build: type[MetricInput[Any]]
    sample: dict[str, Any]
