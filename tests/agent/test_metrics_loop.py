"""The metrics loop: aligned boundaries, per-input intervals, skipped ticks, reboots, roll-ups, the real host."""

from __future__ import annotations

import copy
import json
import queue
from pathlib import Path
from typing import Any

import psutil
import pytest

from agent.cwagent_config import AgentConfig
from agent.host import PsutilProbe, RecordedProbe
from agent.metrics_loop import MetricsLoop
from watchkeeper.config import validate
from watchkeeper.events import Kind, MetricDatum, datums_of
from watchkeeper.wire import Envelope

RECORDED = Path(__file__).parent / "recorded"


class ManualClock:
    """Time that moves only when the test says so."""

    def __init__(self, now: float) -> None:
        self.now = now

    def time(self) -> float:
        return self.now

    def monotonic(self) -> float:
        return self.now


def agent_config(metrics: dict[str, Any], agent: dict[str, Any] | None = None) -> AgentConfig:
    return validate(AgentConfig, {"agent": agent or {}, "metrics": metrics}, "test.json")


CPU_AND_MEM = {
    "metrics_collected": {
        "cpu": {"measurement": ["usage_idle"], "metrics_collection_interval": 10},
        "mem": {"measurement": ["used_percent"]},
    },
    "append_dimensions": {"team": "ops", "InstanceId": "${aws:InstanceId}"},
}


def datums(envelope: Envelope | None) -> list[MetricDatum]:
    assert envelope is not None
    return datums_of(envelope.items)


def make_loop(config: AgentConfig, probe: Any, clock: ManualClock) -> tuple[MetricsLoop, list[Envelope]]:
    shipped: list[Envelope] = []
    return MetricsLoop(config, probe, shipped.append, clock, agent_id="agent-7", host="web-1"), shipped


def test_boundaries_intervals_resolution_and_one_envelope_per_cycle() -> None:
    clock = ManualClock(1005.0)
    probe = RecordedProbe.load(RECORDED / "synthetic.json")
    loop, shipped = make_loop(agent_config(CPU_AND_MEM), probe, clock)
    assert loop.next_due() == 1010.0  # cpu every 10 s; mem every 60 s (the agent default), first at 1020
    clock.now = 1010.4
    assert loop.run_due() is None  # cpu primes; nothing to ship
    assert loop.next_due() == 1020.0
    probe.advance()
    clock.now = 1020.7
    envelope = loop.run_due()
    assert shipped == [envelope]
    assert envelope is not None and envelope.kind is Kind.METRICS
    assert (envelope.agent_id, envelope.host) == ("agent-7", "web-1")
    by_name = {d.name: d for d in datums(envelope)}
    assert set(by_name) == {"cpu_usage_idle", "mem_used_percent"}
    assert by_name["cpu_usage_idle"].timestamp == by_name["mem_used_percent"].timestamp == 1020.0
    assert by_name["cpu_usage_idle"].storage_resolution == 1 and by_name["mem_used_percent"].storage_resolution == 60
    assert by_name["cpu_usage_idle"].sum == pytest.approx(50.0)
    assert by_name["mem_used_percent"].dimensions == (("host", "web-1"), ("team", "ops"))
    assert by_name["cpu_usage_idle"].namespace == "CWAgent"
    clock.now = 1021.0
    assert loop.run_due() is None and len(shipped) == 1  # nothing due between boundaries
    assert loop.stats.missed_ticks == 0


def test_slow_cycle_skips_missed_ticks_without_a_burst() -> None:
    clock = ManualClock(1000.0)
    probe = RecordedProbe.load(RECORDED / "synthetic.json")
    loop, shipped = make_loop(agent_config(CPU_AND_MEM), probe, clock)
    loop.run_due()
    probe.advance()
    clock.now = 1055.2  # the boundaries 1010..1040 passed while the loop was stalled
    cpu = [d for d in datums(loop.run_due()) if d.name == "cpu_usage_idle"]
    assert [d.timestamp for d in cpu] == [1050.0]
    assert loop.stats.missed_ticks == 4
    assert loop.next_due() == 1060.0


def test_wall_clock_stepping_back_realigns_instead_of_stalling() -> None:
    clock = ManualClock(1000.0)
    loop, _ = make_loop(agent_config(CPU_AND_MEM), RecordedProbe.load(RECORDED / "synthetic.json"), clock)
    loop.run_due()
    clock.now = 500.0
    loop.run_due()
    assert loop.next_due() == 510.0


def test_boot_time_change_reprimes_even_when_counters_grew() -> None:
    snapshots = json.loads((RECORDED / "synthetic.json").read_text())["snapshots"]
    rebooted = copy.deepcopy(snapshots[2])
    rebooted["boot_time"] = 9000.0  # a reboot whose counters happen to be higher than before it
    probe = RecordedProbe([snapshots[0], snapshots[1], rebooted, snapshots[2]])
    config = agent_config({"metrics_collected": {"net": {"measurement": ["bytes_sent"]}}},
                          {"metrics_collection_interval": 10})
    clock = ManualClock(1000.0)
    loop, _ = make_loop(config, probe, clock)
    loop.run_due()
    for now in (1010.0, 1020.0):
        probe.advance()
        clock.now = now
        envelope = loop.run_due()
    assert envelope is None and loop.stats.resets == 1


def test_rollups_omit_hostname_and_namespace() -> None:
    config = agent_config({"namespace": "Fleet", "aggregation_dimensions": [["path"], [], ["InstanceId"]],
                           "metrics_collected": {"disk": {"measurement": ["used_percent"], "resources": ["/"]}}},
                          {"omit_hostname": True})
    clock = ManualClock(1200.0)
    loop, _ = make_loop(config, RecordedProbe.load(RECORDED / "synthetic.json"), clock)
    shipped = datums(loop.run_due())
    got = {d.dimensions: d.sum for d in shipped}
    assert got == {(("device", "nvme0n1p1"), ("fstype", "ext4"), ("path", "/")): 50.0,
                   (("path", "/"),): 50.0, (): 50.0}
    assert {d.namespace for d in shipped} == {"Fleet"}


def test_failing_submit_is_counted_and_the_loop_goes_on() -> None:
    def refuse(envelope: Envelope) -> None:
        raise OSError("spool disk full")

    clock = ManualClock(1200.0)
    config = agent_config({"metrics_collected": {"mem": {"measurement": ["used_percent"]}}})
    loop = MetricsLoop(config, RecordedProbe.load(RECORDED / "synthetic.json"), refuse, clock,
                       agent_id="a", host="h")
    assert loop.run_due() is None
    clock.now = 1260.0
    assert loop.run_due() is None
    assert loop.stats.submit_errors == 2 and loop.stats.cycles == 2


def test_real_host_cycle_is_consistent_with_psutil() -> None:
    config = agent_config({"metrics_collected": {
        "cpu": {"measurement": ["usage_idle", "time_idle", *(f"time_{s}" for s in
                                                             ("user", "nice", "system", "iowait", "irq",
                                                              "softirq", "steal"))]},
        "mem": {"measurement": ["used_percent"]}}}, {"metrics_collection_interval": 1})
    clock = ManualClock(100.0)
    loop, _ = make_loop(config, PsutilProbe(), clock)
    outer_before = psutil.cpu_times()
    loop.run_due()
    psutil.cpu_percent(interval=0.3)  # let CPU time pass between the two samples
    clock.now = 101.0
    got = {d.name: d.sum for d in datums(loop.run_due())}
    outer_after = psutil.cpu_times()
    memory = psutil.virtual_memory()
    # The agent's interval lies inside [outer_before, outer_after]: its idle time cannot exceed psutil's.
    assert 0 <= got["cpu_time_idle"] <= outer_after.idle - outer_before.idle + 1e-6
    busy_and_idle = sum(v for k, v in got.items() if k.startswith("cpu_time_"))
    assert got["cpu_usage_idle"] == pytest.approx(100 * got["cpu_time_idle"] / busy_and_idle)
    assert got["mem_used_percent"] == pytest.approx(100 * memory.used / memory.total, abs=2.0)


def test_thread_collects_on_schedule_and_stops() -> None:
    config = agent_config({"metrics_collected": {"mem": {"measurement": ["used_percent"]}}},
                          {"metrics_collection_interval": 1})
    shipped: queue.Queue[Envelope] = queue.Queue()
    loop = MetricsLoop(config, PsutilProbe(), shipped.put, agent_id="a", host="h")
    loop.start()
    try:
        first = datums(shipped.get(timeout=30))
        second = datums(shipped.get(timeout=30))
    finally:
        loop.stop(timeout=30)
    assert first[0].timestamp == int(first[0].timestamp) and second[0].timestamp > first[0].timestamp
    assert first[0].storage_resolution == 1
    assert not loop.running()
