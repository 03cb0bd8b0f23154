"""Agent overhead: CPU seconds per hour and peak RSS of the metrics agent beside prometheus-node-exporter.

Both run as their own processes for the same minutes on the same machine. The agent
collects every input (cpu per core and total, mem, swap, disk, diskio, net, netstat,
processes, every measurement each offers) at a 10 s interval and ships through its spool
to the real Kafka, exactly as `MetricsLoop` + `Shipper.to_kafka` run in production.
node_exporter (Debian's package, default collectors) is scraped every 10 s by a loop in
this process, whose own cost is not counted against it. CPU is measured from the end of
a warm-up (both have finished their start-up and first cycles) to the end of the run,
and extrapolated to an hour; peak RSS is the kernel's high-water mark (VmHWM).

    python bench/agent_overhead.py [--minutes 10] [--record]
"""

from __future__ import annotations

import argparse
import json
import shutil
import signal
import subprocess
import sys
import tempfile
import threading
import time
import urllib.request
from pathlib import Path
from typing import Any

from _common import (Result, add_record_flag, command_line, cpu_seconds, delete_topics, free_port, peak_rss_bytes,
                     run_id)

NODE_EXPORTER = "prometheus-node-exporter"
WARMUP_S = 25.0
MIB = 2**20
RSS_TARGET_MIB = 60


def all_inputs_config(interval: int) -> dict[str, Any]:
    """An amazon-cloudwatch-agent file asking for every input with every measurement and resource."""
    from agent.inputs import INPUTS

    collected: dict[str, Any] = {}
    for name, spec in INPUTS.items():
        section: dict[str, Any] = {"measurement": sorted(spec.config.MEASUREMENTS)}
        if "resources" in spec.config.model_fields:
            section["resources"] = ["*"]
        collected[name] = section
    return {"agent": {"metrics_collection_interval": interval}, "metrics": {"metrics_collected": collected}}


def run_agent(interval: int, prefix: str, spool_dir: Path) -> None:
    """The agent process: the production metrics loop and shipper until SIGTERM; prints its counters."""
    from agent.cwagent_config import AgentConfig
    from agent.host import PsutilProbe
    from agent.metrics_loop import MetricsLoop
    from agent.shipper import Shipper
    from watchkeeper.config import validate
    from watchkeeper.config.settings import KafkaSettings, SpoolSettings
    from watchkeeper.events import is_metric_block
    from watchkeeper.transport.spool import Spool
    from watchkeeper.wire import Envelope

    config = validate(AgentConfig, all_inputs_config(interval), "<bench>")
    spool_settings = SpoolSettings()
    spool = Spool(spool_dir, spool_settings.max_bytes, spool_settings.segment_bytes, spool_settings.fsync)
    shipper = Shipper.to_kafka(spool, KafkaSettings(topic_prefix=prefix))
    items = 0

    def submit(envelope: Envelope) -> int:
        nonlocal items
        # A column block carries many datapoints, one per entry of its "t" (timestamps) list.
        items += sum(len(item["t"]) if is_metric_block(item) else 1 for item in envelope.items)
        return shipper.submit(envelope)

    loop = MetricsLoop(config, PsutilProbe(), submit, agent_id="bench-agent", host="bench-host")
    stopped = threading.Event()
    signal.signal(signal.SIGTERM, lambda *_: stopped.set())
    shipper.start()
    loop.start()
    stopped.wait()
    loop.stop()
    shipper.stop(flush_timeout=10)
    print(json.dumps({"cycles": loop.stats.cycles, "envelopes": loop.stats.envelopes, "items": items,
                      "input_errors": loop.stats.input_errors, "batches_sent": shipper.batches_sent,
                      "send_failures": shipper.send_failures}), flush=True)


class Scraper(threading.Thread):
    """Scrapes node_exporter every interval, as Prometheus would; counts scrapes and series."""

    def __init__(self, url: str, interval: float) -> None:
        super().__init__(name="scraper", daemon=True)
        self._url = url
        self._interval = interval
        self.stop_requested = threading.Event()
        self.scrapes = 0
        self.failures = 0
        self.series = 0

    def run(self) -> None:
        next_at = time.monotonic()
        while not self.stop_requested.is_set():
            try:
                with urllib.request.urlopen(self._url, timeout=5) as response:
                    body = response.read().decode()
                self.series = sum(1 for line in body.splitlines() if line and not line.startswith("#"))
                self.scrapes += 1
            except OSError:
                self.failures += 1
            next_at += self._interval
            self.stop_requested.wait(max(0.0, next_at - time.monotonic()))


def wait_until_serving(url: str, timeout_s: float) -> None:
    deadline = time.monotonic() + timeout_s
    while True:
        try:
            with urllib.request.urlopen(url, timeout=2):
                return
        except OSError:
            if time.monotonic() > deadline:
                raise
            time.sleep(0.2)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--minutes", type=float, default=10.0, help="measured minutes after the warm-up")
    parser.add_argument("--interval", type=int, default=10, help="collection and scrape interval, seconds")
    parser.add_argument("--run-agent", action="store_true", help=argparse.SUPPRESS)
    parser.add_argument("--prefix", help=argparse.SUPPRESS)
    parser.add_argument("--spool-dir", type=Path, help=argparse.SUPPRESS)
    add_record_flag(parser)
    args = parser.parse_args()
    if args.run_agent:
        run_agent(args.interval, args.prefix, args.spool_dir)
        return
    exporter_binary = shutil.which(NODE_EXPORTER)
    if exporter_binary is None:
        sys.exit(f"{NODE_EXPORTER} not found: apt-get install -y prometheus-node-exporter")
    measure(args, exporter_binary)


def measure(args: argparse.Namespace, exporter_binary: str) -> None:
    from watchkeeper.config.settings import KafkaSettings
    from watchkeeper.transport.kafka import ensure_topics

    prefix = run_id("agent")
    ensure_topics(KafkaSettings(topic_prefix=prefix), ["metrics"])
    port = free_port()
    with tempfile.TemporaryDirectory(prefix="bench-agent-") as spool_dir:
        agent = subprocess.Popen([sys.executable, __file__, "--run-agent", "--interval", str(args.interval),
                                  "--prefix", prefix, "--spool-dir", spool_dir], stdout=subprocess.PIPE, text=True)
        exporter = subprocess.Popen([exporter_binary, f"--web.listen-address=127.0.0.1:{port}"],
                                    stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        metrics_url = f"http://127.0.0.1:{port}/metrics"
        try:
            wait_until_serving(metrics_url, 30)
            scraper = Scraper(metrics_url, args.interval)
            scraper.start()
            time.sleep(WARMUP_S)
            begin = time.monotonic()
            agent_cpu0, exporter_cpu0 = cpu_seconds(agent.pid), cpu_seconds(exporter.pid)
            time.sleep(args.minutes * 60)
            elapsed = time.monotonic() - begin
            agent_cpu = cpu_seconds(agent.pid) - agent_cpu0
            exporter_cpu = cpu_seconds(exporter.pid) - exporter_cpu0
            agent_total_cpu, exporter_total_cpu = cpu_seconds(agent.pid), cpu_seconds(exporter.pid)
            agent_rss, exporter_rss = peak_rss_bytes(agent.pid), peak_rss_bytes(exporter.pid)
            scraper.stop_requested.set()
        finally:
            exporter.terminate()
            agent.send_signal(signal.SIGTERM)
            agent_out, _ = agent.communicate(timeout=60)
            exporter.wait(timeout=30)
            delete_topics(prefix)
    counters = json.loads(agent_out.strip().splitlines()[-1])
    per_hour = 3600 / elapsed
    agent_hour, exporter_hour = agent_cpu * per_hour, exporter_cpu * per_hour
    result = Result("Agent overhead vs prometheus-node-exporter", command_line())
    result.figures += [
        ("measured", f"{elapsed / 60:.1f} min after a {WARMUP_S:.0f} s warm-up, interval {args.interval} s"),
        ("agent CPU s/hour", f"{agent_hour:.1f} ({agent_hour / 36:.3f} % of a core)"),
        ("node_exporter CPU s/hour", f"{exporter_hour:.1f} ({exporter_hour / 36:.3f} % of a core)"),
        ("CPU ratio agent / node_exporter", f"{agent_hour / exporter_hour:.2f}" if exporter_hour else "n/a"),
        ("agent peak RSS", f"{agent_rss / MIB:.1f} MiB (target < {RSS_TARGET_MIB} MiB)"),
        ("node_exporter peak RSS", f"{exporter_rss / MIB:.1f} MiB"),
        ("RSS ratio agent / node_exporter", f"{agent_rss / exporter_rss:.2f}"),
        ("CPU s incl. start-up (agent / node_exporter)", f"{agent_total_cpu:.2f} / {exporter_total_cpu:.2f}"),
        ("agent work", f"{counters['envelopes']} envelopes, {counters['items']} datapoints "
                       f"({counters['items'] / max(1, counters['envelopes']):.0f} per cycle), "
                       f"{counters['batches_sent']} batches acknowledged by Kafka, "
                       f"{counters['input_errors']} input errors"),
        ("node_exporter work", f"{scraper.scrapes} scrapes, {scraper.series} series per scrape, "
                               f"{scraper.failures} failed"),
    ]
    cpu_ok = agent_hour <= exporter_hour
    result.notes.append(f"CPU target (no more than node_exporter): {'met' if cpu_ok else 'MISSED'}; "
                        f"RSS target: {'met' if agent_rss < RSS_TARGET_MIB * MIB else 'MISSED'}.")
    result.report(args.record)


if __name__ == "__main__":
    main()
