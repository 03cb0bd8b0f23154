"""mem: memory gauges in bytes, and used/available as a percent of the total."""

from __future__ import annotations

from agent.host import HostProbe
from agent.inputs._base import InputConfig, InputSpec, MetricInput, Observation


class MemConfig(InputConfig):
    """metrics_collected.mem"""

    SECTION = "mem"
    MEASUREMENTS = {
        **{name: "Bytes" for name in ("active", "available", "buffered", "cached", "free", "inactive", "total",
                                      "used")},
        "available_percent": "Percent",
        "used_percent": "Percent",
    }


def percent(part: float, whole: float) -> float:
    return 100.0 * part / whole if whole else 0.0


class MemInput(MetricInput[MemConfig]):
    def observe(self, probe: HostProbe) -> list[Observation]:
        mem = probe.virtual_memory()
        return [Observation({}, {
            "active": mem.active, "available": mem.available, "buffered": mem.buffers, "cached": mem.cached,
            "free": mem.free, "inactive": mem.inactive, "total": mem.total, "used": mem.used,
            "available_percent": percent(mem.available, mem.total),
            "used_percent": percent(mem.used, mem.total),
        })]


SPEC = InputSpec(
    name="mem",
    config=MemConfig,
    build=MemInput,
    sample={"measurement": ["mem_used_percent", "mem_available"]},
)
