"""swap: swap space free and used in bytes, used as a percent of the total."""

from __future__ import annotations

from agent.host import HostProbe
from agent.inputs._base import InputConfig, InputSpec, MetricInput, Observation
from agent.inputs.mem import percent


class SwapConfig(InputConfig):
    """metrics_collected.swap"""

    SECTION = "swap"
    MEASUREMENTS = {"free": "Bytes", "used": "Bytes", "used_percent": "Percent"}


class SwapInput(MetricInput[SwapConfig]):
    def observe(self, probe: HostProbe) -> list[Observation]:
        swap = probe.swap_memory()
        return [Observation({}, {"free": swap.free, "used": swap.used,
                                 "used_percent": percent(swap.used, swap.total)})]


SPEC = InputSpec(name="swap", config=SwapConfig, build=SwapInput, sample={"measurement": ["swap_used_percent"]})
