"""Each host-metrics input against recorded data: exact values, names, units and dimensions."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from agent.host import RecordedProbe
from agent.inputs import INPUTS
from agent.inputs._base import CycleContext, MetricInput
from watchkeeper.config import validate
from watchkeeper.errors import ConfigError

RECORDED = Path(__file__).parent / "recorded"
CONTEXT = CycleContext(namespace="CWAgent", timestamp=1020.0, dimensions={"host": "web-1"}, storage_resolution=60)


def synthetic() -> RecordedProbe:
    return RecordedProbe.load(RECORDED / "synthetic.json")


def build(name: str, section: dict[str, Any]) -> MetricInput[Any]:
    spec = INPUTS[name]
    return spec.build(validate(spec.config, section, f"metrics_collected.{name}"))


def values(input_: MetricInput[Any], probe: RecordedProbe) -> dict[tuple[str, tuple[tuple[str, str], ...]], float]:
    """One collection: {(metric name, dimensions without host): value}."""
    out = {}
    for datum in input_.collect(probe, CONTEXT):
        assert datum.namespace == "CWAgent" and datum.timestamp == 1020.0 and datum.count == 1
        assert ("host", "web-1") in datum.dimensions
        out[(datum.name, tuple(d for d in datum.dimensions if d[0] != "host"))] = datum.sum
    return out


def units(input_: MetricInput[Any], probe: RecordedProbe) -> dict[str, str]:
    return {datum.name: datum.unit for datum in input_.collect(probe, CONTEXT)}


def test_cpu_first_sample_primes_then_percent_of_interval_per_core_and_total() -> None:
    probe = synthetic()
    cpu = build("cpu", {"measurement": ["usage_idle", "usage_user", "cpu_usage_iowait", "usage_active", "time_idle"],
                        "resources": ["*"]})
    assert cpu.collect(probe, CONTEXT) == []
    probe.advance()
    got = values(cpu, probe)
    total = (("cpu", "cpu-total"),)
    assert got[("cpu_usage_idle", total)] == pytest.approx(50.0)
    assert got[("cpu_usage_user", total)] == pytest.approx(30.0)
    assert got[("cpu_usage_iowait", total)] == pytest.approx(5.0)
    assert got[("cpu_usage_active", total)] == pytest.approx(50.0)
    assert got[("cpu_time_idle", total)] == pytest.approx(50.0)
    assert got[("cpu_usage_user", (("cpu", "cpu0"),))] == pytest.approx(40.0)
    assert got[("cpu_usage_iowait", (("cpu", "cpu0"),))] == pytest.approx(10.0)
    # cpu1's iowait went back by 1 s (a kernel quirk, not a reset): clamped to 0, the rest still published.
    assert got[("cpu_usage_iowait", (("cpu", "cpu1"),))] == 0.0
    assert got[("cpu_usage_idle", (("cpu", "cpu1"),))] == pytest.approx(82.0)
    assert len(got) == 15
    probe.advance()
    assert units(cpu, probe) == {"cpu_usage_idle": "Percent", "cpu_usage_user": "Percent",
                                 "cpu_usage_iowait": "Percent", "cpu_usage_active": "Percent",
                                 "cpu_time_idle": "None"}


def test_cpu_without_total_publishes_cores_only() -> None:
    probe = synthetic()
    cpu = build("cpu", {"measurement": ["usage_idle"], "resources": ["*"], "totalcpu": False})
    cpu.collect(probe, CONTEXT)
    probe.advance()
    assert sorted(values(cpu, probe)) == [("cpu_usage_idle", (("cpu", "cpu0"),)),
                                          ("cpu_usage_idle", (("cpu", "cpu1"),))]


def test_cpu_reboot_counters_going_backwards_reprime_instead_of_negative() -> None:
    probe = synthetic()
    cpu = build("cpu", {"measurement": ["time_idle"]})
    for _ in range(3):
        cpu.collect(probe, CONTEXT)
        probe.advance()
    assert cpu.collect(probe, CONTEXT) == []  # s3: after the reboot every counter is smaller
    probe.advance()
    assert values(cpu, probe) == {("cpu_time_idle", (("cpu", "cpu-total"),)): pytest.approx(70.0)}


def test_mem_bytes_and_percents_with_short_and_full_names() -> None:
    mem = build("mem", {"measurement": ["mem_used_percent", "available_percent", "buffered", "used", "total"]})
    got = values(mem, synthetic())
    assert got == {("mem_used_percent", ()): 25.0, ("mem_available_percent", ()): 50.0,
                   ("mem_buffered", ()): 268435456, ("mem_used", ()): 2147483648, ("mem_total", ()): 8589934592}
    assert set(units(mem, synthetic()).values()) == {"Percent", "Bytes"}


def test_swap() -> None:
    swap = build("swap", {"measurement": ["swap_used_percent", "free", "used"]})
    assert values(swap, synthetic()) == {("swap_used_percent", ()): 25.0, ("swap_free", ()): 1610612736,
                                         ("swap_used", ()): 536870912}


def test_disk_per_mount_skips_pseudo_filesystems_and_duplicates() -> None:
    disk = build("disk", {"measurement": ["used_percent", "inodes_used", "free"]})
    got = values(disk, synthetic())
    root = (("device", "nvme0n1p1"), ("fstype", "ext4"), ("path", "/"))
    data = (("device", "nvme1n1"), ("fstype", "xfs"), ("path", "/data"))
    assert got == {("disk_used_percent", root): 50.0, ("disk_inodes_used", root): 250, ("disk_free", root): 450,
                   ("disk_used_percent", data): 25.0, ("disk_inodes_used", data): 10, ("disk_free", data): 1500}
    assert units(disk, synthetic()) == {"disk_used_percent": "Percent", "disk_inodes_used": "Count",
                                        "disk_free": "Bytes"}


def test_disk_resources_ignored_types_and_drop_device() -> None:
    only_data = build("disk", {"measurement": ["used_percent"], "resources": ["/data", "/run"], "drop_device": True})
    assert values(only_data, synthetic()) == {("disk_used_percent", (("fstype", "xfs"), ("path", "/data"))): 25.0}
    no_xfs = build("disk", {"measurement": ["used_percent"], "ignore_file_system_types": ["xfs"]})
    assert [key[1][2] for key in values(no_xfs, synthetic())] == [("path", "/")]


def test_diskio_deltas_per_device() -> None:
    probe = synthetic()
    diskio = build("diskio", {"measurement": list(INPUTS["diskio"].config.MEASUREMENTS)})
    assert diskio.collect(probe, CONTEXT) == []
    probe.advance()
    device = (("name", "nvme0n1"),)
    assert values(diskio, probe) == {
        ("diskio_reads", device): 10, ("diskio_writes", device): 20, ("diskio_read_bytes", device): 40960,
        ("diskio_write_bytes", device): 81920, ("diskio_read_time", device): 5, ("diskio_write_time", device): 9,
        ("diskio_io_time", device): 12, ("diskio_iops_in_progress", device): 3,
    }
    assert units(diskio, probe)["diskio_io_time"] == "Milliseconds"
    excluded = build("diskio", {"measurement": ["reads"], "resources": ["sd*"]})
    excluded.collect(probe, CONTEXT)
    probe.advance()
    assert excluded.collect(probe, CONTEXT) == []


def test_net_deltas_skip_loopback_and_reprime_on_32bit_wrap() -> None:
    probe = synthetic()
    net = build("net", {"measurement": ["bytes_recv", "bytes_sent", "packets_recv", "drop_in"]})
    assert net.collect(probe, CONTEXT) == []
    probe.advance()
    eth0 = (("interface", "eth0"),)
    assert values(net, probe) == {("net_bytes_recv", eth0): 290, ("net_bytes_sent", eth0): 500,
                                  ("net_packets_recv", eth0): 5, ("net_drop_in", eth0): 0}
    probe.advance()
    assert net.collect(probe, CONTEXT) == []  # s2: bytes_recv wrapped at 2^32: re-prime, no negative value
    probe.advance()
    assert net.collect(probe, CONTEXT) == []  # s3: reboot: counters restarted
    probe.advance()
    assert values(net, probe)[("net_bytes_recv", eth0)] == 1000


def test_net_loopback_only_when_named() -> None:
    probe = synthetic()
    net = build("net", {"measurement": ["net_bytes_sent"], "resources": ["lo"]})
    net.collect(probe, CONTEXT)
    probe.advance()
    assert values(net, probe) == {("net_bytes_sent", (("interface", "lo"),)): 100}


def test_netstat_counts_every_state() -> None:
    netstat = build("netstat", {"measurement": ["tcp_established", "tcp_listen", "tcp_time_wait", "tcp_close",
                                                "udp_socket"]})
    assert values(netstat, synthetic()) == {("netstat_tcp_established", ()): 3, ("netstat_tcp_listen", ()): 2,
                                            ("netstat_tcp_time_wait", ()): 1, ("netstat_tcp_close", ()): 0,
                                            ("netstat_udp_socket", ()): 4}


def test_processes_map_psutil_statuses() -> None:
    processes = build("processes", {"measurement": list(INPUTS["processes"].config.MEASUREMENTS)})
    assert values(processes, synthetic()) == {
        ("processes_running", ()): 2, ("processes_sleeping", ()): 100, ("processes_blocked", ()): 1,
        ("processes_zombies", ()): 1, ("processes_idle", ()): 10, ("processes_stopped", ()): 1,
        ("processes_dead", ()): 0, ("processes_paging", ()): 0, ("processes_wait", ()): 0,
        ("processes_total", ()): 115, ("processes_total_threads", ()): 300,
    }


def test_measurement_objects_rename_and_unit_and_section_dimensions() -> None:
    mem = build("mem", {
        "measurement": [{"name": "mem_used_percent", "rename": "MEM_USED", "unit": "Count"}, {"name": "free"}],
        "append_dimensions": {"tier": "web", "InstanceId": "${aws:InstanceId}"},
    })
    datums = {datum.name: datum for datum in mem.collect(synthetic(), CONTEXT)}
    assert set(datums) == {"MEM_USED", "mem_free"}
    assert datums["MEM_USED"].unit == "Count" and datums["mem_free"].unit == "Bytes"
    assert datums["MEM_USED"].dimensions == (("host", "web-1"), ("tier", "web"))


def test_unknown_measurement_is_an_error_naming_the_allowed_ones() -> None:
    with pytest.raises(ConfigError) as caught:
        validate(INPUTS["swap"].config, {"measurement": ["swap_used", "usage_idle"]}, "f.json")
    message = str(caught.value)
    assert "usage_idle" in message and "free, used, used_percent" in message


@pytest.mark.parametrize("name", sorted(INPUTS))
def test_every_sample_section_is_valid_and_collects_from_the_recording(name: str) -> None:
    probe = RecordedProbe.load(RECORDED / "devbox.json")
    input_ = build(name, INPUTS[name].sample)
    input_.collect(probe, CONTEXT)
    probe.advance()
    datums = input_.collect(probe, CONTEXT)
    assert datums and all(datum.name.startswith(name + "_") for datum in datums)
    assert all(datum.sum >= 0 for datum in datums)


def test_recording_of_this_machine_gives_the_values_psutil_recorded() -> None:
    snapshots = json.loads((RECORDED / "devbox.json").read_text())["snapshots"]
    probe = RecordedProbe(snapshots)
    cpu = build("cpu", {"measurement": ["usage_idle"]})
    mem = build("mem", {"measurement": ["used_percent"]})
    disk = build("disk", {"measurement": ["total"]})
    cpu.collect(probe, CONTEXT)
    probe.advance()
    before, after = snapshots[0]["cpu_times"], snapshots[1]["cpu_times"]
    busy_and_idle = [k for k in before if not k.startswith("guest")]
    expected_idle = 100 * (after["idle"] - before["idle"]) / sum(after[k] - before[k] for k in busy_and_idle)
    assert values(cpu, probe) == {("cpu_usage_idle", (("cpu", "cpu-total"),)): pytest.approx(expected_idle)}
    memory = snapshots[1]["virtual_memory"]
    assert values(mem, probe) == {("mem_used_percent", ()): pytest.approx(100 * memory["used"] / memory["total"])}
    assert [dims for _, dims in values(disk, probe)] == [(("device", "vda"), ("fstype", "ext4"), ("path", "/"))]
