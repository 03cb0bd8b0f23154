"""Socket and process counts read straight from the kernel, at a fraction of psutil's cost.

A count needs far less than psutil gathers. `psutil.net_connections` maps every socket
to its processes by reading the descriptor links of every process (31 ms a cycle on the
development machine); counting TCP states needs only the socket tables, which netlink
SOCK_DIAG dumps as fixed binary records (about 1 ms; the text of /proc/net/tcp* costs
the kernel three times that to format, so it is only the fallback where SOCK_DIAG is
unavailable). `psutil.process_iter` builds a Process per pid and reads /proc/<pid>/stat
and /proc/<pid>/status; the stat line alone carries the state and the thread count.

Counts are per socket: psutil, run as root, listed a socket once per process holding it.
State and status names are psutil's, so recordings made through psutil stay valid.
"""

from __future__ import annotations

import os
import socket
import struct
from collections import Counter
from collections.abc import Iterator
from dataclasses import dataclass
from typing import NamedTuple

# include/net/tcp_states.h -> psutil's names. 12 is TCP_NEW_SYN_RECV (a pending connection
# request), which /proc/net/tcp also shows as SYN_RECV.
TCP_STATES = {1: "ESTABLISHED", 2: "SYN_SENT", 3: "SYN_RECV", 4: "FIN_WAIT1", 5: "FIN_WAIT2", 6: "TIME_WAIT",
              7: "CLOSE", 8: "CLOSE_WAIT", 9: "LAST_ACK", 10: "LISTEN", 11: "CLOSING", 12: "SYN_RECV"}

# The state letter of /proc/<pid>/stat -> psutil's status name (psutil/_pslinux.py PROC_STATUSES).
PROCESS_STATUSES = {"R": "running", "S": "sleeping", "D": "disk-sleep", "T": "stopped", "t": "tracing-stop",
                    "Z": "zombie", "X": "dead", "x": "dead", "K": "wake-kill", "W": "waking", "I": "idle",
                    "P": "parked"}

# linux/netlink.h, linux/sock_diag.h, linux/inet_diag.h
_NETLINK_SOCK_DIAG = 4
_TCPDIAG_GETSOCK = 18
_SOCK_DIAG_BY_FAMILY = 20
_NLM_F_REQUEST_DUMP = 0x01 | 0x300
_NLMSG_ERROR = 2
_NLMSG_DONE = 3
_NLMSG_HEADER = struct.Struct("=IHHII")  # length, type, flags, sequence, port id
_ALL_STATES = 0xFFFFFFFF
# The original inet_diag_req (family, address lengths, extensions, a zeroed 48-byte
# inet_diag_sockid, state bitmask, dbs). Sent as TCPDIAG_GETSOCK the kernel dumps IPv4 and
# IPv6 sockets in one walk of its TCP hash table; the walk, not the sockets, is most of the
# cost, and a SOCK_DIAG_BY_FAMILY request per family would walk it twice.
_TCP_REQUEST = struct.Struct("=BBBB48xII").pack(socket.AF_INET, 0, 0, 0, _ALL_STATES, 0)
# inet_diag_req_v2 (family, protocol, extensions, pad, state bitmask, zeroed sockid): UDP has
# no legacy request type, so one per family.
_UDP_REQUESTS = [struct.Struct("=BBBBI48x").pack(family, socket.IPPROTO_UDP, 0, 0, _ALL_STATES)
                 for family in (socket.AF_INET, socket.AF_INET6)]
# In each reply, after the netlink header, inet_diag_msg starts with family then state.
_STATE_OFFSET = _NLMSG_HEADER.size + 1
_RECEIVE_BYTES = 64 * 1024

_PROC_NET_TABLES = {"tcp": ("tcp", "tcp6"), "udp": ("udp", "udp6")}
# Fields of /proc/<pid>/stat after "pid (comm) ": the state is the first, num_threads the 18th.
_STAT_THREADS_INDEX = 17
_STAT_LINE_MAX = 4096


@dataclass(frozen=True, slots=True)
class SocketCounts:
    """TCP sockets per psutil state name and the number of UDP sockets, IPv4 and IPv6 together."""

    tcp: Counter[str]
    udp: int


def socket_counts_netlink() -> SocketCounts:
    """Dump the TCP and UDP socket tables over netlink SOCK_DIAG (OSError where it is not available)."""
    with socket.socket(socket.AF_NETLINK, socket.SOCK_RAW, _NETLINK_SOCK_DIAG) as channel:
        tcp = _dump_states(channel, 1, _TCPDIAG_GETSOCK, _TCP_REQUEST)
        udp = sum(_dump_states(channel, sequence, _SOCK_DIAG_BY_FAMILY, request).total()
                  for sequence, request in enumerate(_UDP_REQUESTS, start=2))
    return SocketCounts(Counter({TCP_STATES.get(state, "NONE"): count for state, count in tcp.items()}), udp)


def _dump_states(channel: socket.socket, sequence: int, request_type: int, request: bytes) -> Counter[int]:
    """How many sockets the kernel dumps in each state (the state byte of each reply)."""
    channel.send(_NLMSG_HEADER.pack(_NLMSG_HEADER.size + len(request), request_type, _NLM_F_REQUEST_DUMP,
                                    sequence, 0) + request)
    states: Counter[int] = Counter()
    while True:
        data = channel.recv(_RECEIVE_BYTES)
        offset = 0
        while offset < len(data):
            length, kind = _NLMSG_HEADER.unpack_from(data, offset)[:2]
            if kind == _NLMSG_DONE:
                return states
            if kind == _NLMSG_ERROR:
                (error,) = struct.unpack_from("=i", data, offset + _NLMSG_HEADER.size)
                raise OSError(-error, f"SOCK_DIAG dump refused: {os.strerror(-error)}")
            states[data[offset + _STATE_OFFSET]] += 1
            offset += (length + 3) & ~3  # messages are 4-byte aligned


def socket_counts_proc(net_dir: str = "/proc/net") -> SocketCounts:
    """Count the rows of /proc/net/tcp, tcp6, udp and udp6 (a missing table, e.g. without IPv6, counts 0)."""
    tcp: Counter[str] = Counter()
    for table in _PROC_NET_TABLES["tcp"]:
        # The state is the fourth column, in hex: "  0: 0100007F:0CEA 00000000:0000 0A ..."
        tcp.update(TCP_STATES.get(int(row.split(None, 4)[3], 16), "NONE") for row in _table_rows(net_dir, table))
    udp = sum(len(_table_rows(net_dir, table)) for table in _PROC_NET_TABLES["udp"])
    return SocketCounts(tcp, udp)


def _table_rows(net_dir: str, table: str) -> list[bytes]:
    try:
        with open(os.path.join(net_dir, table), "rb") as handle:
            return handle.read().splitlines()[1:]  # the first line is the column header
    except FileNotFoundError:
        return []


class ProcessState(NamedTuple):
    """One process: psutil's status name and its number of threads (a tuple: built ~100 times a cycle)."""

    status: str
    threads: int


def process_state(stat_path: str) -> ProcessState | None:
    """State and thread count from one /proc/<pid>/stat; None if the process is gone."""
    try:
        fd = os.open(stat_path, os.O_RDONLY)
    except (FileNotFoundError, ProcessLookupError):
        return None
    try:
        line = os.read(fd, _STAT_LINE_MAX)
    except ProcessLookupError:  # exited between open and read
        return None
    finally:
        os.close(fd)
    # comm may itself contain spaces and parentheses: the fields start after the last ')'.
    fields = line[line.rfind(b")") + 2:].split(b" ", _STAT_THREADS_INDEX + 1)
    if len(fields) <= _STAT_THREADS_INDEX:
        return None  # an empty read: the process was reaped while we read it
    letter = fields[0].decode()
    return ProcessState(PROCESS_STATUSES.get(letter, letter), int(fields[_STAT_THREADS_INDEX]))


def process_states(proc_dir: str = "/proc") -> Iterator[ProcessState]:
    """Every process's state; processes that exit meanwhile are skipped, as psutil.process_iter does."""
    for name in os.listdir(proc_dir):
        if name.isdigit():
            state = process_state(f"{proc_dir}/{name}/stat")
            if state is not None:
                yield state
