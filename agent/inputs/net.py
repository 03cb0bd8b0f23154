"""net: per network interface, bytes, packets, errors and drops of the interval (dimension interface)."""

from __future__ import annotations

from fnmatch import fnmatchcase

from pydantic import Field

from agent.host import HostProbe
from agent.inputs._base import InputConfig, CounterInput, InputSpec, Observation

# net_* name -> the NicCounters counter it is the per-interval delta of.
_COUNTERS = {"bytes_sent": "bytes_sent", "bytes_recv": "bytes_recv", "packets_sent": "packets_sent",
             "packets_recv": "packets_recv", "err_in": "errin", "err_out": "errout", "drop_in": "dropin",
             "drop_out": "dropout"}


class NetConfig(InputConfig):
    """metrics_collected.net"""

    SECTION = "net"
    MEASUREMENTS = {name: "Bytes" if name.startswith("bytes") else "Count" for name in _COUNTERS}

    resources: list[str] = Field(
        default_factory=lambda: ["*"],
        description='Interfaces (shell patterns such as "eth*"), or ["*"] for every interface but loopback.',
    )


class NetInput(CounterInput[NetConfig]):
    def _wanted(self, name: str, loopback: bool) -> bool:
        if "*" in self.config.resources:
            return not loopback  # as Telegraf: loopback only when named
        return any(fnmatchcase(name, pattern) for pattern in self.config.resources)

    def observe(self, probe: HostProbe) -> list[Observation]:
        readings = {
            name: {metric: float(getattr(nic, counter)) for metric, counter in _COUNTERS.items()}
            for name, nic in probe.net_io_counters().items()
            if self._wanted(name, nic.loopback)
        }
        return [Observation({"interface": name}, delta) for name, delta in self.counters.deltas(readings).items()]


SPEC = InputSpec(
    name="net",
    config=NetConfig,
    build=NetInput,
    sample={"measurement": ["bytes_sent", "bytes_recv", "drop_in", "drop_out"], "resources": ["*"]},
)
