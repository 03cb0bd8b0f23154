"""disk: space and inodes per mounted filesystem (dimensions path, device, fstype)."""

from __future__ import annotations

from pydantic import Field

from agent.host import HostProbe
from agent.inputs._base import InputConfig, InputSpec, MetricInput, Observation

# Kernel and virtual filesystems: they hold no user data and their sizes mean nothing.
PSEUDO_FILESYSTEMS = frozenset({
    "autofs", "binfmt_misc", "bpf", "cgroup", "cgroup2", "configfs", "debugfs", "devpts", "devtmpfs", "efivarfs",
    "fusectl", "hugetlbfs", "mqueue", "nsfs", "proc", "pstore", "rpc_pipefs", "securityfs", "selinuxfs",
    "sysfs", "tmpfs", "tracefs", "ramfs", "fuse.gvfsd-fuse", "fuse.lxcfs", "overlay", "squashfs",
})


class DiskConfig(InputConfig):
    """metrics_collected.disk"""

    SECTION = "disk"
    MEASUREMENTS = {"free": "Bytes", "total": "Bytes", "used": "Bytes", "used_percent": "Percent",
                    "inodes_free": "Count", "inodes_used": "Count", "inodes_total": "Count"}

    resources: list[str] = Field(
        default_factory=lambda: ["*"], description='Mount points to publish, or ["*"] for all (the default).'
    )
    ignore_file_system_types: list[str] = Field(
        default_factory=list, description="Filesystem types to skip, besides the pseudo filesystems always skipped."
    )
    drop_device: bool = Field(default=False, description="Leave out the device dimension (names change on reboot).")


class DiskInput(MetricInput[DiskConfig]):
    def observe(self, probe: HostProbe) -> list[Observation]:
        wanted = None if "*" in self.config.resources else set(self.config.resources)
        skipped = PSEUDO_FILESYSTEMS | set(self.config.ignore_file_system_types)
        observations = []
        seen = set()
        for part in probe.disk_partitions():
            if part.fstype in skipped or part.mountpoint in seen:
                continue
            if wanted is not None and part.mountpoint not in wanted:
                continue
            seen.add(part.mountpoint)
            usage = probe.disk_usage(part.mountpoint)
            if usage is None or usage.total == 0:
                continue
            dimensions = {"path": part.mountpoint, "fstype": part.fstype}
            if not self.config.drop_device:
                dimensions["device"] = part.device.removeprefix("/dev/")
            used_and_free = usage.used + usage.free
            observations.append(Observation(dimensions, {
                "free": usage.free, "total": usage.total, "used": usage.used,
                # Percent of the space a user can reach (as df shows), not of the raw total.
                "used_percent": 100.0 * usage.used / used_and_free if used_and_free else 0.0,
                "inodes_free": usage.inodes_free, "inodes_total": usage.inodes_total,
                "inodes_used": usage.inodes_total - usage.inodes_free,
            }))
        return observations


SPEC = InputSpec(
    name="disk",
    config=DiskConfig,
    build=DiskInput,
    sample={"measurement": ["used_percent", "inodes_free"], "resources": ["*"],
            "ignore_file_system_types": ["sysfs", "devtmpfs"], "drop_device": False},
)
