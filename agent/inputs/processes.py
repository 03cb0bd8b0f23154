"""processes: how many processes are in each state, in total, and how many threads they have."""

from __future__ import annotations

from agent.host import HostProbe
from agent.inputs._base import InputConfig, InputSpec, MetricInput, Observation

# psutil status -> the CloudWatch agent's (Telegraf's) processes_* measurement.
_STATUS = {"running": "running", "sleeping": "sleeping", "disk-sleep": "blocked", "stopped": "stopped",
           "tracing-stop": "stopped", "zombie": "zombies", "dead": "dead", "idle": "idle", "waiting": "wait",
           "paging": "paging", "parked": "idle", "wake-kill": "sleeping", "waking": "running", "locked": "blocked"}
_MEASURED = ("blocked", "dead", "idle", "paging", "running", "sleeping", "stopped", "wait", "zombies")


class ProcessesConfig(InputConfig):
    """metrics_collected.processes"""

    SECTION = "processes"
    MEASUREMENTS = {name: "Count" for name in (*_MEASURED, "total", "total_threads")}


class ProcessesInput(MetricInput[ProcessesConfig]):
    def observe(self, probe: HostProbe) -> list[Observation]:
        counts = probe.process_counts()
        values: dict[str, float] = dict.fromkeys(_MEASURED, 0)
        for status, count in counts.statuses.items():
            if status in _STATUS:
                values[_STATUS[status]] += count
        values["total"] = sum(counts.statuses.values())
        values["total_threads"] = counts.total_threads
        return [Observation({}, values)]


SPEC = InputSpec(
    name="processes",
    config=ProcessesConfig,
    build=ProcessesInput,
    sample={"measurement": ["running", "sleeping", "blocked", "zombies", "total"]},
)
