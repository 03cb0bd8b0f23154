"""cpu: cpu_usage_* (percent of the interval, from cpu_times deltas) and cpu_time_* (seconds in the interval)."""

from __future__ import annotations

from dataclasses import asdict
from typing import Literal

from pydantic import Field

from agent.host import CpuTimes, HostProbe
from agent.inputs._base import InputConfig, CounterInput, InputSpec, Observation

_STATES = ("user", "nice", "system", "idle", "iowait", "irq", "softirq", "steal", "guest", "guest_nice")


class CpuConfig(InputConfig):
    """metrics_collected.cpu"""

    SECTION = "cpu"
    MEASUREMENTS = {
        **{f"usage_{state}": "Percent" for state in (*_STATES, "active")},
        # The CloudWatch agent documents cpu_time_* without a unit.
        **{f"time_{state}": "None" for state in (*_STATES, "active")},
    }

    resources: list[Literal["*"]] = Field(
        default_factory=list, description='["*"] also publishes every core (cpu=cpu0, cpu1...).'
    )
    totalcpu: bool = Field(default=True, description="Publish all cores together (cpu=cpu-total).")


def _reading(times: CpuTimes) -> dict[str, float]:
    values = asdict(times)
    # Guest time is already inside user and nice, so the total leaves it out (as Telegraf does).
    values["total"] = sum(values[state] for state in _STATES if not state.startswith("guest"))
    values["active"] = values["total"] - values["idle"]
    return values


class CpuInput(CounterInput[CpuConfig]):
    RESET_FIELDS = ("total",)

    def observe(self, probe: HostProbe) -> list[Observation]:
        readings = {}
        if self.config.totalcpu:
            readings["cpu-total"] = _reading(probe.cpu_times())
        if self.config.resources:
            readings.update({f"cpu{n}": _reading(times) for n, times in enumerate(probe.cpu_times_percpu())})
        observations = []
        for cpu, delta in self.counters.deltas(readings).items():
            total = delta["total"]
            if total <= 0:
                continue  # no CPU time passed: a percentage would be meaningless
            values = {f"time_{name}": delta[name] for name in (*_STATES, "active")}
            values.update({f"usage_{name}": 100.0 * delta[name] / total for name in (*_STATES, "active")})
            observations.append(Observation({"cpu": cpu}, values))
        return observations


SPEC = InputSpec(
    name="cpu",
    config=CpuConfig,
    build=CpuInput,
    sample={"measurement": ["usage_idle", "usage_iowait", "usage_user", "usage_system"],
            "resources": ["*"], "totalcpu": True, "metrics_collection_interval": 10},
)
