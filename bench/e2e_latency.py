"""End-to-end latency: from a datapoint's sample time until a SELECT ... FINAL on its series first returns it.

A fleet of --hosts simulated hosts (default 1,000) samples every --interval seconds
(default 10), each at its own phase so the fleet's batches are spread over the interval,
each batch 30-100 datapoints. Every batch is an envelope sent the moment it is sampled,
through a producer configured as the agents' (acks=all, idempotent, zstd), keyed by host.
One collector process (the production collector) writes them into the ClickHouse server.
For one batch in --probe-every, one datapoint is a probe: a prober polls the server every
0.1 s with the exact query of a series read (`FINAL`, by namespace, metric name,
fingerprint, time) and notes when it is first returned; latency = that moment (the
query's return) minus the exact sample time. Probes of the warm-up are not counted.

    python bench/e2e_latency.py [--minutes 3] [--hosts 1000] [--record]
"""

from __future__ import annotations

import argparse
import signal
import subprocess
import threading
import time
from dataclasses import dataclass
from typing import Any

from _common import (Result, add_record_flag, collector_command, command_line, delete_topics, percentile,
                     read_collector_timing, run_id)

SERVER = "127.0.0.1:9000"
NAMESPACE = "BenchFleet"
WARMUP_S = 30.0
POLL_S = 0.1
# A probe not visible this long after the run ended counts as lost.
GIVE_UP_S = 60.0
TARGET_P99_S = 5.0


@dataclass(frozen=True)
class Probe:
    metric_name: str
    fingerprint: int
    ts: int
    sampled_at: float
    counted: bool


class SimulatedHost:
    """One host's series (30-100 of them) and how to sample them into metric items."""

    def __init__(self, index: int) -> None:
        from watchkeeper.events import series_fingerprint

        self.name = f"sim-{index:05d}"
        series = 30 + (index * 37) % 71
        self.series = [(f"sim_metric_{number:03d}", (("host", self.name),)) for number in range(series)]
        self.fingerprints = [series_fingerprint(NAMESPACE, name, dims) for name, dims in self.series]

    def items(self, sampled_at: float) -> list[dict[str, Any]]:
        value = sampled_at % 100
        return [{"ns": NAMESPACE, "n": name, "d": [list(pair) for pair in dims], "t": sampled_at, "c": 1.0,
                 "s": value, "lo": value, "hi": value, "u": "Count", "r": 1}
                for name, dims in self.series]


class Fleet(threading.Thread):
    """Sends every host's batch at its phase of each interval; records probes and how late it ran."""

    def __init__(self, prefix: str, hosts: int, interval: float, probe_every: int) -> None:
        from watchkeeper.config.settings import KafkaSettings
        from watchkeeper.transport.kafka import make_producer

        super().__init__(name="fleet", daemon=True)
        settings = KafkaSettings(topic_prefix=prefix)
        self._topic = settings.topic("metrics")
        self._producer = make_producer(settings)
        self._hosts = [SimulatedHost(index) for index in range(hosts)]
        self._interval = interval
        self._probe_every = probe_every
        self.stop_requested = threading.Event()
        self.count_after = float("inf")
        self.probes: list[Probe] = []
        self.rows_sent = 0
        self.max_behind_s = 0.0

    def run(self) -> None:
        from watchkeeper.events import Kind
        from watchkeeper.wire import make_envelope

        start = time.time()
        sent = 0
        while not self.stop_requested.is_set():
            host = self._hosts[sent % len(self._hosts)]
            due = start + (sent / len(self._hosts)) * self._interval
            delay = due - time.time()
            if delay > 0:
                self.stop_requested.wait(delay)
            sampled_at = time.time()
            self.max_behind_s = max(self.max_behind_s, sampled_at - due)
            items = host.items(sampled_at)
            envelope = make_envelope(Kind.METRICS, host.name, host.name, items)
            self._producer.send(self._topic, key=host.name.encode(), value=envelope.encode())
            if sent % self._probe_every == 0:
                pick = sent // self._probe_every % len(items)
                self.probes.append(Probe(items[pick]["n"], host.fingerprints[pick], int(sampled_at), sampled_at,
                                         sampled_at >= self.count_after))
            self.rows_sent += len(items)
            sent += 1
        self._producer.flush()
        self._producer.close()


class Prober(threading.Thread):
    """Polls the server for the fleet's probes; notes when each is first returned."""

    def __init__(self, database: str, fleet: Fleet) -> None:
        from watchkeeper.storage.engine import open_engine

        super().__init__(name="prober", daemon=True)
        self._engine = open_engine(f"clickhouse://{SERVER}/{database}")
        self._fleet = fleet
        self.seen: dict[Probe, float] = {}
        self.stop_requested = threading.Event()

    def pending(self) -> list[Probe]:
        return [probe for probe in list(self._fleet.probes) if probe not in self.seen]

    def run(self) -> None:
        while not self.stop_requested.wait(POLL_S):
            waiting = self.pending()
            if not waiting:
                continue
            found = self._visible(waiting)
            returned = time.time()
            for probe in waiting:
                if (probe.fingerprint, probe.ts) in found:
                    self.seen[probe] = returned
        self._engine.close()

    def _visible(self, probes: list[Probe]) -> set[tuple[int, int]]:
        from watchkeeper.storage.metrics import SAMPLES_TABLE
        from watchkeeper.storage.sql import in_list, literal

        sql = (f"SELECT fingerprint, toUInt32(ts) FROM {SAMPLES_TABLE} FINAL "
               f"WHERE namespace = {literal(NAMESPACE)} "
               f"AND metric_name IN {in_list(sorted({probe.metric_name for probe in probes}))} "
               f"AND fingerprint IN {in_list(sorted({probe.fingerprint for probe in probes}))} "
               f"AND ts >= toDateTime({min(probe.ts for probe in probes)})")
        return {(int(fingerprint), int(ts)) for fingerprint, ts in self._engine.query(sql)}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--minutes", type=float, default=3.0, help="measured minutes after the warm-up")
    parser.add_argument("--hosts", type=int, default=1000)
    parser.add_argument("--interval", type=float, default=10.0)
    parser.add_argument("--probe-every", type=int, default=10, help="one probe per this many batches")
    add_record_flag(parser)
    args = parser.parse_args()

    from watchkeeper.config.settings import KafkaSettings
    from watchkeeper.transport.kafka import ensure_topics

    prefix = run_id("e2e")
    ensure_topics(KafkaSettings(topic_prefix=prefix), ["metrics"])
    collector = subprocess.Popen(collector_command(f"clickhouse://{SERVER}/{prefix}", prefix, prefix),
                                 stdout=subprocess.PIPE, text=True)
    try:
        fleet = Fleet(prefix, args.hosts, args.interval, args.probe_every)
        fleet.count_after = time.time() + WARMUP_S
        fleet.start()
        time.sleep(2)  # the collector creates its tables; the prober needs them
        prober = Prober(prefix, fleet)
        prober.start()
        time.sleep(WARMUP_S + args.minutes * 60)
        fleet.stop_requested.set()
        fleet.join()
        deadline = time.time() + GIVE_UP_S
        while prober.pending() and time.time() < deadline:
            time.sleep(POLL_S)
        prober.stop_requested.set()
        prober.join()
    finally:
        collector.send_signal(signal.SIGTERM)
        collector_out, _ = collector.communicate(timeout=120)
    timing = read_collector_timing(collector_out)
    subprocess.run(["clickhouse-client", "--query", f"DROP DATABASE {prefix}"], check=True, timeout=120)
    delete_topics(prefix)
    report(args, fleet, prober, timing.rows)


def report(args: argparse.Namespace, fleet: Fleet, prober: Prober, rows_stored: int) -> None:
    counted = [probe for probe in fleet.probes if probe.counted]
    latencies = [prober.seen[probe] - probe.sampled_at for probe in counted if probe in prober.seen]
    lost = len(counted) - len(latencies)
    result = Result("End-to-end latency, sample to queryable", command_line())
    offered = fleet.rows_sent / (WARMUP_S + args.minutes * 60)
    result.figures += [
        ("load", f"{args.hosts:,} hosts every {args.interval:g} s, {offered:,.0f} datapoints/s offered, "
                 f"{fleet.rows_sent:,} sent, {rows_stored:,} stored by the collector"),
        ("measured", f"{args.minutes:g} min after a {WARMUP_S:.0f} s warm-up; {len(counted):,} probes"),
    ]
    if latencies:
        p99 = percentile(latencies, 0.99)
        result.figures += [
            ("p50 latency", f"{percentile(latencies, 0.50):.2f} s"),
            ("p90 latency", f"{percentile(latencies, 0.90):.2f} s"),
            ("p99 latency", f"{p99:.2f} s (target < {TARGET_P99_S:g} s: {'met' if p99 < TARGET_P99_S else 'MISSED'})"),
            ("max latency", f"{max(latencies):.2f} s"),
        ]
    result.figures += [
        ("probes never returned", f"{lost} (within {GIVE_UP_S:.0f} s after the run)"),
        ("load generator behind schedule, max", f"{fleet.max_behind_s:.2f} s"),
    ]
    result.notes.append(f"Resolution: the prober polls every {POLL_S} s and counts the moment its query returned, "
                        "so figures include up to one poll interval and the query's own time.")
    result.report(args.record)


if __name__ == "__main__":
    main()
