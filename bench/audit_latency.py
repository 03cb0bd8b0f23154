"""File change -> queryable audit event, through the distributed setup, and a burst of 10,000 changes.

    python bench/audit_latency.py [--probes 40] [--files 2500] [--rewrites 3] [--record]

`watchkeeper agent run` (file integrity only, default settings: coalesce_s 1.0) ships
to the shared Kafka, `watchkeeper collector run` writes to the ClickHouse server and
its sealer chains every 2 s (SEAL_INTERVAL_S). Both run as their own processes.

Latency: one file is written at a time; the time from the write returning to the
event being returned by LookupEvents (ResourceName = the path, polled every 50 ms).

Burst: a tree of 10 x 5 directories (made before the agent starts) receives files x
(1 + rewrites) writes as fast as Python can make them (every file created, then
rewritten with new content). When the writing ends, the recorded final state of
every path (the newest event's after.sha256, in chain order) is compared with a
full scan of the tree until they agree; misses are paths whose recorded state never
matched. Coalesced = writes - events recorded for the tree.
"""

from __future__ import annotations

import argparse
import hashlib
import os
import subprocess
import sys
import tempfile
import time
from collections import Counter
from pathlib import Path

import orjson
from _common import Result, add_record_flag, command_line, delete_topics, percentile, run_id

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from audit.lookup import LookupQuery, lookup_events  # noqa: E402
from collector.upkeep import SEAL_INTERVAL_S  # noqa: E402
from watchkeeper.storage.engine import ServerEngine  # noqa: E402
from watchkeeper.storage.sql import quote  # noqa: E402

SETTLE_LIMIT_S = 900.0  # past the 300 s rescan: whatever inotify lost is found by then, or it is a miss
POLL_S = 0.05


def write_config(work: Path, name: str, clickhouse: str, kafka: str, watched: Path) -> tuple[Path, Path]:
    config = work / "watchkeeper.toml"
    config.write_text(
        f'data_dir = "{work / "data"}"\n[agent]\nhost = "{name}"\n'
        f'[kafka]\nbootstrap_servers = ["{kafka}"]\ntopic_prefix = "{name}"\n'
        f'[clickhouse]\nurl = "clickhouse://{clickhouse}/{name}"\n[collector]\ngroup_id = "{name}"\n'
        f'[audit]\nsigning_key = "{work / "signing.pem"}"\n'
        f'[audit.files]\npaths = ["{watched}"]\n[audit.feeds]\nenabled = false\n')
    agent_config = work / "amazon-cloudwatch-agent.json"
    agent_config.write_text("{}")  # no metrics, no logs
    return config, agent_config


def start(argv: list[str], output: Path, ready_text: str) -> subprocess.Popen[bytes]:
    with output.open("ab") as out:
        process = subprocess.Popen([sys.executable, "-m", "watchkeeper.cli", *argv], stdout=out,
                                   stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL)
    deadline = time.monotonic() + 120
    while ready_text not in output.read_text(errors="replace"):
        if process.poll() is not None or time.monotonic() > deadline:
            raise SystemExit(f"{argv[0]} did not start:\n{output.read_text(errors='replace')[-3000:]}")
        time.sleep(0.2)
    return process


def stop(process: subprocess.Popen[bytes]) -> None:
    if process.poll() is None:
        process.terminate()
        process.wait(timeout=120)


def probe_latencies(engine: ServerEngine, watched: Path, probes: int) -> list[float]:
    """Seconds from a file write to its event in LookupEvents, one file at a time."""
    latencies = []
    for index in range(probes):
        path = watched / f"probe-{index}.conf"
        path.write_text(f"probe = {index}\n")
        written = time.monotonic()
        query = LookupQuery(int(time.time()) - 3600, int(time.time()) + 3600, 50, ("ResourceName", str(path)))
        while not lookup_events(engine, query, None)["Events"]:
            if time.monotonic() - written > SETTLE_LIMIT_S:
                raise SystemExit(f"{path} never became queryable")
            time.sleep(POLL_S)
        latencies.append(time.monotonic() - written)
    return latencies


def make_tree(root: Path) -> list[Path]:
    directories = [root / f"d{top}" / f"s{sub}" for top in range(10) for sub in range(5)]
    for directory in directories:
        directory.mkdir(parents=True)
    return directories


def burst(directories: list[Path], files: int, rewrites: int) -> int:
    """Create files across the directories, then rewrite each; returns the number of writes."""
    paths = [directories[i % len(directories)] / f"f{i}.conf" for i in range(files)]
    writes = 0
    for version in range(1 + rewrites):
        for path in paths:
            path.write_text(f"{path.name} version {version}\n")
            writes += 1
    return writes


def scan(root: Path) -> dict[str, str]:
    """path -> sha256 of every file under root, read now."""
    found = {}
    for directory, _, names in os.walk(root):
        for name in names:
            path = os.path.join(directory, name)
            found[path] = hashlib.sha256(Path(path).read_bytes()).hexdigest()
    return found


def recorded(engine: ServerEngine, chain: str, root: Path) -> tuple[dict[str, str], int, Counter[str]]:
    """(path -> last recorded sha256, events for the tree, how they were detected), in chain order."""
    rows = engine.query(f"SELECT record FROM audit_events WHERE chain = {quote(chain)} ORDER BY seq")
    final: dict[str, str] = {}
    events = 0
    detected: Counter[str] = Counter()
    prefix = str(root) + "/"
    for (text,) in rows:
        record = orjson.loads(text)
        path = record["requestParameters"]["path"]
        if not path.startswith(prefix):
            continue
        events += 1
        detected[record["additionalEventData"]["detectedBy"]] += 1
        source = record["requestParameters"].get("sourcePath")
        if source:
            final.pop(source, None)
        after = record["additionalEventData"]["after"]
        if after is None:
            final.pop(path, None)
        else:
            final[path] = after["sha256"]
    return final, events, detected


def settle_burst(engine: ServerEngine, chain: str, root: Path) -> tuple[float, dict[str, str], dict[str, str], int,
                                                                        Counter[str]]:
    """Poll until the recorded final states equal a scan; (seconds, recorded, scanned, events, detectedBy)."""
    ended = time.monotonic()
    truth = scan(root)
    while True:
        final, events, detected = recorded(engine, chain, root)
        if final == truth or time.monotonic() - ended > SETTLE_LIMIT_S:
            return time.monotonic() - ended, final, truth, events, detected
        time.sleep(1.0)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--probes", type=int, default=40)
    parser.add_argument("--files", type=int, default=2500)
    parser.add_argument("--rewrites", type=int, default=3)
    parser.add_argument("--clickhouse", default="127.0.0.1:9000")
    parser.add_argument("--kafka", default="127.0.0.1:9092")
    add_record_flag(parser)
    args = parser.parse_args()
    name = run_id("auditlatency")
    host, _, port = args.clickhouse.rpartition(":")
    engine = ServerEngine(host, int(port), name)
    with tempfile.TemporaryDirectory() as scratch:
        work = Path(scratch)
        watched = work / "watched"
        probes_dir = watched / "probes"
        probes_dir.mkdir(parents=True)
        directories = make_tree(watched / "tree")
        config, agent_config = write_config(work, name, args.clickhouse, args.kafka, watched)
        collector = start(["collector", "run", "--config", str(config)], work / "collector.out",
                          "collector consuming")
        agent = None
        try:
            agent = start(["agent", "run", "--config", str(config), "--agent-config", str(agent_config)],
                          work / "agent.out", "shipping to")
            print(f"probing latency with {args.probes} single changes", flush=True)
            latencies = probe_latencies(engine, probes_dir, args.probes)
            print(f"burst: {args.files} files x {1 + args.rewrites} writes", flush=True)
            began = time.monotonic()
            writes = burst(directories, args.files, args.rewrites)
            burst_s = time.monotonic() - began
            settle_s, final, truth, events, detected = settle_burst(engine, name, watched / "tree")
        finally:
            if agent is not None:
                stop(agent)
            stop(collector)
            engine.command(f"DROP DATABASE IF EXISTS {name}")
            engine.close()
            delete_topics(name)
    misses = sorted(path for path in truth if final.get(path) != truth[path])
    extra = sorted(set(final) - set(truth))
    result = Result("Audit file change to queryable event latency and a 10,000-change burst", command_line())
    result.figures += [
        ("path", "agent run -> Kafka -> collector run -> ClickHouse 18.16 server -> LookupEvents"),
        ("single change latency p50 / p99 / max",
         f"{percentile(latencies, 0.5):.2f} s / {percentile(latencies, 0.99):.2f} s / {max(latencies):.2f} s "
         f"({len(latencies)} probes)"),
        ("burst", f"{writes:,} writes to {len(truth):,} files in {len(directories)} directories in {burst_s:.1f} s"),
        ("events recorded for the burst", f"{events:,} ({writes - events:,} writes coalesced away)"),
        ("detected by", ", ".join(f"{method} {count:,}" for method, count in detected.most_common())),
        ("end of burst -> every final state queryable", f"{settle_s:.1f} s"),
        ("misses (recorded final sha256 != full scan)", f"{len(misses)}" + (f", e.g. {misses[:3]}" if misses else "")),
        ("recorded paths that do not exist", f"{len(extra)}"),
    ]
    result.notes += [
        f"Default settings: coalesce_s 1.0, collector max_age_s 1.0, sealer every {SEAL_INTERVAL_S:.0f} s; "
        "those three waits are most of the single-change latency.",
        "The tree's directories exist before the agent starts; the files are new. Latency is polled every 50 ms.",
        "No peer in the same run (AIDE checks on demand, it does not watch).",
    ]
    result.report(args.record)
    if misses or extra:
        sys.exit(1)


if __name__ == "__main__":
    main()
