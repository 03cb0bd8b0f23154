"""netstat: how many TCP sockets are in each state, and how many UDP sockets exist (host-wide gauges)."""

from __future__ import annotations

from agent.host import HostProbe
from agent.inputs._base import InputConfig, InputSpec, MetricInput, Observation

# psutil's TCP state names, lower-cased, are the CloudWatch agent's tcp_* measurement names.
_TCP_STATES = ("close", "close_wait", "closing", "established", "fin_wait1", "fin_wait2", "last_ack", "listen",
               "none", "syn_sent", "syn_recv", "time_wait")


class NetstatConfig(InputConfig):
    """metrics_collected.netstat"""

    SECTION = "netstat"
    MEASUREMENTS = {**{f"tcp_{state}": "Count" for state in _TCP_STATES}, "udp_socket": "Count"}


class NetstatInput(MetricInput[NetstatConfig]):
    def observe(self, probe: HostProbe) -> list[Observation]:
        counts = probe.connection_counts()
        by_state = {status.lower(): count for status, count in counts.tcp.items()}
        values: dict[str, float] = {f"tcp_{state}": by_state.get(state, 0) for state in _TCP_STATES}
        values["udp_socket"] = counts.udp
        return [Observation({}, values)]


SPEC = InputSpec(
    name="netstat",
    config=NetstatConfig,
    build=NetstatInput,
    sample={"measurement": ["tcp_established", "tcp_time_wait", "tcp_listen"], "metrics_collection_interval": 60},
)
