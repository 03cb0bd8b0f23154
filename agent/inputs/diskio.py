"""diskio: per block device, the operations, bytes and milliseconds of the interval (dimension name)."""

from __future__ import annotations

from fnmatch import fnmatchcase

from pydantic import Field

from agent.host import HostProbe
from agent.inputs._base import InputConfig, CounterInput, InputSpec, Observation

# diskio_* name -> the DiskIo counter it is the per-interval delta of.
_COUNTERS = {"reads": "read_count", "writes": "write_count", "read_bytes": "read_bytes",
             "write_bytes": "write_bytes", "read_time": "read_time", "write_time": "write_time",
             "io_time": "busy_time"}


class DiskIoConfig(InputConfig):
    """metrics_collected.diskio"""

    SECTION = "diskio"
    MEASUREMENTS = {"reads": "Count", "writes": "Count", "read_bytes": "Bytes", "write_bytes": "Bytes",
                    "read_time": "Milliseconds", "write_time": "Milliseconds", "io_time": "Milliseconds",
                    "iops_in_progress": "Count"}

    resources: list[str] = Field(
        default_factory=lambda: ["*"], description='Devices (shell patterns such as "nvme*"), or ["*"] for all.'
    )


class DiskIoInput(CounterInput[DiskIoConfig]):
    def observe(self, probe: HostProbe) -> list[Observation]:
        readings = {}
        in_progress = {}
        for name, io in probe.disk_io_counters().items():
            if any(fnmatchcase(name, pattern) for pattern in self.config.resources):
                readings[name] = {metric: float(getattr(io, counter)) for metric, counter in _COUNTERS.items()}
                in_progress[name] = io.in_progress
        return [
            Observation({"name": name}, {**delta, "iops_in_progress": in_progress[name]})
            for name, delta in self.counters.deltas(readings).items()
        ]


SPEC = InputSpec(
    name="diskio",
    config=DiskIoConfig,
    build=DiskIoInput,
    sample={"measurement": ["reads", "writes", "read_bytes", "write_bytes", "io_time"], "resources": ["*"]},
)
