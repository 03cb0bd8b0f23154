"""The host as the metrics inputs see it: a few readings, behind an interface tests can replay.

`PsutilProbe` reads the live host (socket and process counts straight from the kernel,
agent/procfs.py, where psutil costs too much for a count); `RecordedProbe` replays
snapshots saved as JSON (tests/agent/recorded/), so each input is tested against exact,
known numbers.
`python -m agent.host record FILE` records this machine.
"""

from __future__ import annotations

import argparse
import json
import logging
import os
import time
from collections import Counter
from dataclasses import asdict, dataclass, fields
from pathlib import Path
from typing import Any, Protocol

import psutil

from agent import procfs

log = logging.getLogger(__name__)


@dataclass(frozen=True, slots=True)
class CpuTimes:
    """Cumulative seconds per CPU state (Linux /proc/stat); guest time is also counted in user."""

    user: float
    nice: float
    system: float
    idle: float
    iowait: float
    irq: float
    softirq: float
    steal: float
    guest: float
    guest_nice: float


@dataclass(frozen=True, slots=True)
class VirtualMemory:
    total: int
    available: int
    used: int
    free: int
    active: int
    inactive: int
    buffers: int
    cached: int


@dataclass(frozen=True, slots=True)
class SwapMemory:
    total: int
    used: int
    free: int


@dataclass(frozen=True, slots=True)
class Partition:
    device: str
    mountpoint: str
    fstype: str


@dataclass(frozen=True, slots=True)
class DiskUsage:
    """statvfs of a mount: bytes (free = available to unprivileged users, as df shows) and inodes."""

    total: int
    used: int
    free: int
    inodes_total: int
    inodes_free: int


@dataclass(frozen=True, slots=True)
class DiskIo:
    """Cumulative counters of one block device (times in milliseconds) and the I/Os in flight now."""

    read_count: int
    write_count: int
    read_bytes: int
    write_bytes: int
    read_time: int
    write_time: int
    busy_time: int
    in_progress: int


@dataclass(frozen=True, slots=True)
class NicCounters:
    bytes_sent: int
    bytes_recv: int
    packets_sent: int
    packets_recv: int
    errin: int
    errout: int
    dropin: int
    dropout: int
    loopback: bool


@dataclass(frozen=True, slots=True)
class ConnectionCounts:
    """TCP sockets per psutil state name (ESTABLISHED, TIME_WAIT...) and the number of UDP sockets."""

    tcp: dict[str, int]
    udp: int


@dataclass(frozen=True, slots=True)
class ProcessCounts:
    """Processes per psutil status (running, sleeping, disk-sleep, zombie...) and threads in all of them."""

    statuses: dict[str, int]
    total_threads: int


class HostProbe(Protocol):
    """The readings the inputs need, nothing more."""

    def boot_time(self) -> float: ...
    def cpu_times(self) -> CpuTimes: ...
    def cpu_times_percpu(self) -> list[CpuTimes]: ...
    def virtual_memory(self) -> VirtualMemory: ...
    def swap_memory(self) -> SwapMemory: ...
    def disk_partitions(self) -> list[Partition]: ...
    def disk_usage(self, mountpoint: str) -> DiskUsage | None: ...
    def disk_io_counters(self) -> dict[str, DiskIo]: ...
    def net_io_counters(self) -> dict[str, NicCounters]: ...
    def connection_counts(self) -> ConnectionCounts: ...
    def process_counts(self) -> ProcessCounts: ...


def _pick(cls: type[Any], source: Any, **extra: Any) -> Any:
    """Build one of the dataclasses above from a psutil namedtuple, taking only the fields we keep."""
    names = _FIELD_NAMES.get(cls)
    if names is None:
        # dataclasses.fields() rebuilds its answer on every call, and _pick runs ~40 times a cycle.
        names = _FIELD_NAMES[cls] = tuple(f.name for f in fields(cls))
    return cls(**{name: getattr(source, name) for name in names if name not in extra}, **extra)


_FIELD_NAMES: dict[type[Any], tuple[str, ...]] = {}


def _diskstats_in_progress(path: str = "/proc/diskstats") -> dict[str, int]:
    """psutil does not expose 'I/Os currently in progress' (field 12 of /proc/diskstats)."""
    try:
        with open(path) as handle:
            rows = [line.split() for line in handle]
    except OSError:
        return {}
    return {row[2]: int(row[11]) for row in rows if len(row) >= 12}


class PsutilProbe:
    """The live host through psutil, and through agent.procfs for socket and process counts.

    psutil's nowrap (on by default) already folds 32-bit counter wraps of the kernel into
    ever-growing numbers; the inputs still re-prime if anything goes backwards.
    """

    def __init__(self) -> None:
        # Cleared for good the first time netlink SOCK_DIAG fails (no module, seccomp): /proc/net then.
        self._netlink_usable = True
        self._loopback: dict[str, bool] = {}  # NIC name -> is it a loopback device

    def boot_time(self) -> float:
        # What the kernel's btime (psutil.boot_time) is, the wall clock less the time since boot,
        # without reading and scanning /proc/stat every cycle.
        return time.time() - time.clock_gettime(time.CLOCK_BOOTTIME)

    def cpu_times(self) -> CpuTimes:
        return _cpu(psutil.cpu_times())

    def cpu_times_percpu(self) -> list[CpuTimes]:
        return [_cpu(times) for times in psutil.cpu_times(percpu=True)]

    def virtual_memory(self) -> VirtualMemory:
        return _pick(VirtualMemory, psutil.virtual_memory())  # type: ignore[no-any-return]

    def swap_memory(self) -> SwapMemory:
        return _pick(SwapMemory, psutil.swap_memory())  # type: ignore[no-any-return]

    def disk_partitions(self) -> list[Partition]:
        return [_pick(Partition, part) for part in psutil.disk_partitions(all=True)]

    def disk_usage(self, mountpoint: str) -> DiskUsage | None:
        try:
            stat = os.statvfs(mountpoint)
        except OSError:
            return None  # unmounted or inaccessible since it was listed: skip it this cycle
        return DiskUsage(
            total=stat.f_blocks * stat.f_frsize,
            used=(stat.f_blocks - stat.f_bfree) * stat.f_frsize,
            free=stat.f_bavail * stat.f_frsize,
            inodes_total=stat.f_files,
            inodes_free=stat.f_ffree,
        )

    def disk_io_counters(self) -> dict[str, DiskIo]:
        in_progress = _diskstats_in_progress()
        counters = psutil.disk_io_counters(perdisk=True) or {}
        return {name: _pick(DiskIo, io, in_progress=in_progress.get(name, 0)) for name, io in counters.items()}

    def net_io_counters(self) -> dict[str, NicCounters]:
        counters = psutil.net_io_counters(pernic=True)
        if not counters.keys() <= self._loopback.keys():
            # net_if_stats makes several ioctls per NIC: ask only when a NIC name is new to us.
            stats = psutil.net_if_stats()
            self._loopback = {name: "loopback" in getattr(stats.get(name), "flags", "") or name == "lo"
                              for name in counters}
        return {name: _pick(NicCounters, io, loopback=self._loopback[name]) for name, io in counters.items()}

    def connection_counts(self) -> ConnectionCounts:
        counts = self._socket_counts()
        return ConnectionCounts(tcp=dict(counts.tcp), udp=counts.udp)

    def _socket_counts(self) -> procfs.SocketCounts:
        if self._netlink_usable:
            try:
                return procfs.socket_counts_netlink()
            except OSError as error:
                log.info("netlink SOCK_DIAG unavailable (%s): counting sockets from /proc/net", error)
                self._netlink_usable = False
        return procfs.socket_counts_proc()

    def process_counts(self) -> ProcessCounts:
        statuses: Counter[str] = Counter()
        threads = 0
        for state in procfs.process_states():
            statuses[state.status] += 1
            threads += state.threads
        return ProcessCounts(statuses=dict(statuses), total_threads=threads)


def _cpu(times: Any) -> CpuTimes:
    return _pick(CpuTimes, times)  # type: ignore[no-any-return]


def snapshot(probe: HostProbe) -> dict[str, Any]:
    """Every reading of the probe as plain JSON data: one element of a recording."""
    partitions = probe.disk_partitions()
    usage = {part.mountpoint: probe.disk_usage(part.mountpoint) for part in partitions}
    return {
        "boot_time": probe.boot_time(),
        "cpu_times": asdict(probe.cpu_times()),
        "cpu_times_percpu": [asdict(times) for times in probe.cpu_times_percpu()],
        "virtual_memory": asdict(probe.virtual_memory()),
        "swap_memory": asdict(probe.swap_memory()),
        "disk_partitions": [asdict(part) for part in partitions],
        "disk_usage": {mount: asdict(value) for mount, value in usage.items() if value is not None},
        "disk_io_counters": {name: asdict(io) for name, io in probe.disk_io_counters().items()},
        "net_io_counters": {name: asdict(nic) for name, nic in probe.net_io_counters().items()},
        "connection_counts": asdict(probe.connection_counts()),
        "process_counts": asdict(probe.process_counts()),
    }


class RecordedProbe:
    """Replays recorded snapshots: every reading comes from the current one; `advance` moves on."""

    def __init__(self, snapshots: list[dict[str, Any]]) -> None:
        if not snapshots:
            raise ValueError("a recording needs at least one snapshot")
        self._snapshots = snapshots
        self._index = 0

    @classmethod
    def load(cls, path: Path) -> RecordedProbe:
        return cls(json.loads(path.read_text())["snapshots"])

    def advance(self) -> None:
        if self._index + 1 >= len(self._snapshots):
            raise IndexError(f"the recording has only {len(self._snapshots)} snapshots")
        self._index += 1

    @property
    def _now(self) -> dict[str, Any]:
        return self._snapshots[self._index]

    def boot_time(self) -> float:
        return float(self._now["boot_time"])

    def cpu_times(self) -> CpuTimes:
        return CpuTimes(**self._now["cpu_times"])

    def cpu_times_percpu(self) -> list[CpuTimes]:
        return [CpuTimes(**times) for times in self._now["cpu_times_percpu"]]

    def virtual_memory(self) -> VirtualMemory:
        return VirtualMemory(**self._now["virtual_memory"])

    def swap_memory(self) -> SwapMemory:
        return SwapMemory(**self._now["swap_memory"])

    def disk_partitions(self) -> list[Partition]:
        return [Partition(**part) for part in self._now["disk_partitions"]]

    def disk_usage(self, mountpoint: str) -> DiskUsage | None:
        usage = self._now["disk_usage"].get(mountpoint)
        return DiskUsage(**usage) if usage is not None else None

    def disk_io_counters(self) -> dict[str, DiskIo]:
        return {name: DiskIo(**io) for name, io in self._now["disk_io_counters"].items()}

    def net_io_counters(self) -> dict[str, NicCounters]:
        return {name: NicCounters(**nic) for name, nic in self._now["net_io_counters"].items()}

    def connection_counts(self) -> ConnectionCounts:
        return ConnectionCounts(**self._now["connection_counts"])

    def process_counts(self) -> ProcessCounts:
        return ProcessCounts(**self._now["process_counts"])


def record(path: Path, count: int, interval_s: float) -> None:
    """Save `count` snapshots of this host, `interval_s` apart, as a recording."""
    probe = PsutilProbe()
    snapshots = []
    for index in range(count):
        if index:
            time.sleep(interval_s)
        snapshots.append(snapshot(probe))
    recording = {"description": f"recorded on {os.uname().nodename} every {interval_s}s", "snapshots": snapshots}
    path.write_text(json.dumps(recording, indent=1) + "\n")


def main() -> None:
    parser = argparse.ArgumentParser(prog="python -m agent.host", description="Record host snapshots for tests.")
    sub = parser.add_subparsers(dest="action", required=True)
    rec = sub.add_parser("record")
    rec.add_argument("path", type=Path)
    rec.add_argument("--count", type=int, default=3)
    rec.add_argument("--interval", type=float, default=1.0)
    args = parser.parse_args()
    record(args.path, args.count, args.interval)


if __name__ == "__main__":
    main()
