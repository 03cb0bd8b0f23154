"""Socket and process counts from the kernel: exact on known tables, and in agreement with psutil on this host."""

from __future__ import annotations

import errno
import os
import signal
import socket
import subprocess
import sys
import threading
from collections.abc import Iterator
from pathlib import Path

import psutil
import pytest

from agent import procfs
from agent.host import PsutilProbe

TCP_HEADER = ("  sl  local_address rem_address   st tx_queue rx_queue tr tm->when retrnsmt   uid  timeout inode\n")


def tcp_row(index: int, state: str) -> str:
    return (f"{index:4d}: 0100007F:A5D9 0100007F:2384 {state} 00000000:00000000 00:00000000 00000000     0        0 "
            "175755 1 0000000002321d0a 100 0 0 10 0\n")


def test_proc_net_tables_count_rows_per_state_across_ipv4_and_ipv6(tmp_path: Path) -> None:
    (tmp_path / "tcp").write_text(TCP_HEADER + tcp_row(0, "0A") + tcp_row(1, "01") + tcp_row(2, "06")
                                  + tcp_row(3, "06") + tcp_row(12345, "08"))
    (tmp_path / "tcp6").write_text(TCP_HEADER + tcp_row(0, "0A") + tcp_row(1, "0B"))
    (tmp_path / "udp").write_text(TCP_HEADER + tcp_row(0, "07") + tcp_row(1, "07") + tcp_row(2, "01"))
    # No udp6: a kernel without IPv6 has none, which counts as no sockets.
    counts = procfs.socket_counts_proc(str(tmp_path))
    assert counts.tcp == {"LISTEN": 2, "ESTABLISHED": 1, "TIME_WAIT": 2, "CLOSE_WAIT": 1, "CLOSING": 1}
    assert counts.udp == 3


def write_stat(proc: Path, pid: int, comm: str, state: str, threads: int) -> None:
    (proc / str(pid)).mkdir()
    fields = ["1", "1", "0", "0", "-1", "4194304", "101", "0", "0", "0", "0", "0", "0", "0", "20", "0", str(threads),
              "0", "253009", "3133440", "389"]
    (proc / str(pid) / "stat").write_text(f"{pid} ({comm}) {state} {' '.join(fields)}\n")


def test_process_states_read_state_and_threads_even_with_odd_command_names(tmp_path: Path) -> None:
    write_stat(tmp_path, 1, "systemd", "S", 1)
    write_stat(tmp_path, 20, "kworker/0:1-events", "I", 1)
    write_stat(tmp_path, 300, "my ) (odd) name", "R", 12)
    write_stat(tmp_path, 301, "defunct", "Z", 1)
    write_stat(tmp_path, 302, "traced", "t", 3)
    (tmp_path / "303").mkdir()  # exited after the listing: no stat any more
    (tmp_path / "self").mkdir()
    (tmp_path / "meminfo").write_text("MemTotal: 1 kB\n")
    states = sorted((state.status, state.threads) for state in procfs.process_states(str(tmp_path)))
    assert states == [("idle", 1), ("running", 12), ("sleeping", 1), ("tracing-stop", 3), ("zombie", 1)]


def test_netlink_and_proc_net_agree_on_this_host() -> None:
    # One of each kind we count, so both readers have IPv4 and IPv6 TCP and UDP to find.
    with socket.socket() as listener, socket.socket(socket.AF_INET6) as listener6, \
            socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as udp, \
            socket.socket(socket.AF_INET6, socket.SOCK_DGRAM) as udp6:
        listener.bind(("127.0.0.1", 0))
        listener.listen()
        listener6.bind(("::1", 0))
        listener6.listen()
        udp.bind(("127.0.0.1", 0))
        udp6.bind(("::1", 0))
        # Other work opens and closes sockets meanwhile: compare only a /proc/net reading taken
        # between two identical netlink readings.
        for _ in range(50):
            before = procfs.socket_counts_netlink()
            from_proc = procfs.socket_counts_proc()
            if procfs.socket_counts_netlink() == before:
                break
        else:
            pytest.fail("the socket tables never held still between two readings")
        assert from_proc == before
        assert before.tcp["LISTEN"] >= 2 and before.udp >= 2


@pytest.fixture
def children() -> Iterator[list[subprocess.Popen[bytes]]]:
    started: list[subprocess.Popen[bytes]] = []
    yield started
    for child in started:
        child.kill()
        child.wait()


def test_process_state_matches_psutil_for_sleeping_stopped_zombie_and_threaded(
        children: list[subprocess.Popen[bytes]]) -> None:
    stopped = subprocess.Popen(["sleep", "600"])
    zombie = subprocess.Popen([sys.executable, "-c", "pass"])
    children += [stopped, zombie]
    stopped.send_signal(signal.SIGSTOP)
    # Wait for each state change without reaping the child, so it stays as it is while we look.
    os.waitid(os.P_PID, stopped.pid, os.WSTOPPED | os.WNOWAIT)
    os.waitid(os.P_PID, zombie.pid, os.WEXITED | os.WNOWAIT)
    release = threading.Event()
    waiting = threading.Thread(target=release.wait)  # a process with more than one thread: this one
    waiting.start()
    try:
        for pid, status in ((stopped.pid, "stopped"), (zombie.pid, "zombie"), (os.getpid(), None)):
            process = psutil.Process(pid)
            expected = procfs.ProcessState(process.status(), process.num_threads())
            assert procfs.process_state(f"/proc/{pid}/stat") == expected
            assert status is None or expected.status == status
        assert expected.threads >= 2
    finally:
        release.set()
        waiting.join()


def test_sleeping_process_matches_psutil(children: list[subprocess.Popen[bytes]]) -> None:
    sleeper = subprocess.Popen(["sleep", "600"])
    children.append(sleeper)
    for _ in range(10_000):  # it runs briefly (exec) before it sleeps
        if psutil.Process(sleeper.pid).status() == "sleeping":
            break
    assert procfs.process_state(f"/proc/{sleeper.pid}/stat") == procfs.ProcessState("sleeping", 1)


def test_process_state_of_a_process_that_is_gone_is_none(tmp_path: Path) -> None:
    assert procfs.process_state(str(tmp_path / "4242" / "stat")) is None


def test_probe_counts_from_proc_net_once_netlink_fails(monkeypatch: pytest.MonkeyPatch) -> None:
    attempts = []

    def refused() -> procfs.SocketCounts:
        attempts.append(1)
        raise OSError(errno.EPROTONOSUPPORT, "no sock_diag")

    monkeypatch.setattr(procfs, "socket_counts_netlink", refused)
    probe = PsutilProbe()
    with socket.socket() as listener:
        listener.bind(("127.0.0.1", 0))
        listener.listen()
        first, second = probe.connection_counts(), probe.connection_counts()
    assert first.tcp["LISTEN"] >= 1 and second.tcp["LISTEN"] >= 1
    assert attempts == [1]
