"""The live probe's own readings (not psutil's) against psutil on this host."""

from __future__ import annotations

import psutil

from agent.host import PsutilProbe


def test_boot_time_is_the_kernels_btime() -> None:
    # btime in /proc/stat (psutil's answer) is truncated to whole seconds.
    assert 0 <= PsutilProbe().boot_time() - psutil.boot_time() < 1.5


def test_loopback_flags_follow_net_if_stats() -> None:
    stats = psutil.net_if_stats()
    probe = PsutilProbe()
    for _ in range(2):  # the second reading uses the remembered flags
        flags = {name: nic.loopback for name, nic in probe.net_io_counters().items()}
        assert flags == {name: "loopback" in stats[name].flags or name == "lo" for name in flags}
        assert flags.get("lo") is True
