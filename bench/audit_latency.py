"""File change -> queryable audit event, through the distributed setup, and a burst of 10,000 changes.

    python bench/audit_latency.py [--probes 40] [--files 2000] [--rewrites 4] [--record]

`watchkeeper agent run` (file integrity only, default settings: coalesce_s 1.0) ships
to the shared Kafka, `watchkeeper collector run` writes to the ClickHouse server and
its sealer chains every 2 s (SEAL_INTERVAL_S). Both run as their own processes.

Latency: one file is written at a time; the time from the write returning to the
event being returned by LookupEvents (ResourceName = the path, polled every 50 ms).

Burst: a tree of 10 x 5 directories holding files / 2 files before the agent starts
(its baseline) receives, as fast as Python can make them: the other half created,
every file rewritten `rewrites` times with new content, then 20 % chmodded, 15 %
deleted and 15 % renamed into another directory (files=2000, rewrites=4: 10,000
changes). When it ends, the recorded final state of every path (the newest event's
after.sha256 and mode, in chain order) is compared with a full scan of the tree until
they agree; misses are paths whose recorded state never matched. Coalesced =
changes - events recorded for the tree.
"""

from __future__ import annotations

import argparse
import hashlib
import os
import random
import stat
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


def probe_latencies(engine: ServerEngine, watched: Path, probes: int) -> tuple[list[float], list[float]]:
    """Seconds from a file write to its record stored by the collector (audit_incoming) and to its event in
    LookupEvents (chained by the sealer), one file at a time."""
    delivered: list[float] = []
    queryable: list[float] = []
    for index in range(probes):
        # A random pause: probes written right after the previous one became queryable would all hit the
        # sealer's 2 s cycle at the same phase.
        time.sleep(random.uniform(0, SEAL_INTERVAL_S))
        path = watched / f"probe-{index}.conf"
        path.write_text(f"probe = {index}\n")
        written = time.monotonic()
        query = LookupQuery(int(time.time()) - 3600, int(time.time()) + 3600, 50, ("ResourceName", str(path)))
        stored = f"SELECT count() FROM audit_incoming WHERE position(record, {quote(str(path))}) > 0"
        while not lookup_events(engine, query, None)["Events"]:
            if len(delivered) == index and engine.query(stored)[0][0]:
                delivered.append(time.monotonic() - written)
            if time.monotonic() - written > SETTLE_LIMIT_S:
                raise SystemExit(f"{path} never became queryable")
            time.sleep(POLL_S)
        queryable.append(time.monotonic() - written)
        if len(delivered) == index:  # delivered and chained between two polls
            delivered.append(queryable[-1])
    return delivered, queryable


def make_tree(root: Path, files: int) -> tuple[list[Path], list[Path]]:
    """The directories and the file paths of the burst; the first half of the files exists already."""
    directories = [root / f"d{top}" / f"s{sub}" for top in range(10) for sub in range(5)]
    for directory in directories:
        directory.mkdir(parents=True)
    paths = [directories[i % len(directories)] / f"f{i}.conf" for i in range(files)]
    for path in paths[: files // 2]:
        path.write_text(f"{path.name} before the agent started\n")
    return directories, paths


def burst(directories: list[Path], paths: list[Path], rewrites: int) -> int:
    """Create the missing half, rewrite all, then chmod, delete and rename some; returns the number of changes."""
    changes = 0
    for path in paths[len(paths) // 2:]:
        path.write_text(f"{path.name} created\n")
        changes += 1
    for version in range(rewrites):
        for path in paths:
            path.write_text(f"{path.name} version {version}\n")
            changes += 1
    for index, path in enumerate(paths):
        if index % 20 < 4:
            path.chmod(0o600)
        elif index % 20 < 7:
            path.unlink()
        elif index % 20 < 10:
            path.rename(directories[(index + 7) % len(directories)] / f"moved-{path.name}")
        else:
            continue
        changes += 1
    return changes


State = tuple[str, str]  # (sha256, octal mode), as the records' after states hold them


def scan(root: Path) -> dict[str, State]:
    """path -> (sha256, mode) of every file under root, read now."""
    found = {}
    for directory, _, names in os.walk(root):
        for name in names:
            path = os.path.join(directory, name)
            mode = format(stat.S_IMODE(os.lstat(path).st_mode), "04o")
            found[path] = (hashlib.sha256(Path(path).read_bytes()).hexdigest(), mode)
    return found


def recorded(engine: ServerEngine, chain: str, root: Path) -> tuple[dict[str, State], int, Counter[str]]:
    """(path -> last recorded state, events for the tree, how they were detected), in chain order."""
    rows = engine.query(f"SELECT record FROM audit_events WHERE chain = {quote(chain)} ORDER BY seq")
    final: dict[str, State] = {}
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
            final[path] = (after["sha256"], after["mode"])
    return final, events, detected


def settle_burst(engine: ServerEngine, chain: str, root: Path) -> tuple[float, dict[str, State], dict[str, State],
                                                                        int, Counter[str]]:
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
    parser.add_argument("--files", type=int, default=2000)
    parser.add_argument("--rewrites", type=int, default=4)
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
        directories, paths = make_tree(watched / "tree", args.files)
        config, agent_config = write_config(work, name, args.clickhouse, args.kafka, watched)
        collector = start(["collector", "run", "--config", str(config)], work / "collector.out",
                          "collector consuming")
        agent = None
        try:
            agent = start(["agent", "run", "--config", str(config), "--agent-config", str(agent_config)],
                          work / "agent.out", "shipping to")
            print(f"probing latency with {args.probes} single changes", flush=True)
            delivered, latencies = probe_latencies(engine, probes_dir, args.probes)
            print(f"burst over {args.files} files", flush=True)
            began = time.monotonic()
            changes = burst(directories, paths, args.rewrites)
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
        ("of which change -> stored by the collector p50 / p99",
         f"{percentile(delivered, 0.5):.2f} s / {percentile(delivered, 0.99):.2f} s (the rest waits for the sealer)"),
        ("burst", f"{changes:,} changes (create, rewrite, chmod, delete, rename) over {len(paths):,} files in "
                  f"{len(directories)} directories in {burst_s:.1f} s; {len(truth):,} files at the end"),
        ("events recorded for the burst", f"{events:,} ({changes - events:,} changes coalesced away)"),
        ("detected by", ", ".join(f"{method} {count:,}" for method, count in detected.most_common())),
        ("end of burst -> every final state queryable", f"{settle_s:.1f} s"),
        ("misses (recorded final sha256 or mode != full scan)", f"{len(misses)}" + (f", e.g. {misses[:3]}" if misses else "")),
        ("recorded paths that do not exist", f"{len(extra)}"),
    ]
    result.notes += [
        f"Default settings: coalesce_s 1.0, collector max_age_s 1.0, sealer every {SEAL_INTERVAL_S:.0f} s; "
        "those three waits are most of the single-change latency.",
        "The tree's directories and half its files exist before the agent starts. Latency is polled every 50 ms; "
        "each probe starts after a random pause, at a random point of the sealer's cycle.",
        "No peer in the same run (AIDE checks on demand, it does not watch).",
    ]
    result.report(args.record)
    if misses or extra:
        sys.exit(1)


if __name__ == "__main__":
    main()
