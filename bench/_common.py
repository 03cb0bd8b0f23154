"""What every benchmark shares: the machine it ran on, process meters, the result block, the doc section,
and a collector process that stops itself after a given number of rows.

docs/benchmarks.md holds one section per benchmark (a `## ` heading); `--record`
replaces that benchmark's section, or appends it, and leaves every other section alone.
The collector runs as its own process (`python bench/_common.py collector ...`) so
its CPU and memory are its own and it competes for the cores as it would in production.
"""

from __future__ import annotations

import argparse
import datetime
import json
import os
import platform
import re
import shlex
import socket
import sys
import time
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path

import psutil

REPO = Path(__file__).resolve().parent.parent
DOC = REPO / "docs" / "benchmarks.md"
DOC_HEADER = """# Benchmarks

Every entry has the command, the machine, the figures, and the ratio to the peer measured in
the same run. The machine these were taken on has 2 cores and is shared with other work and
noisy: absolute figures move between runs, so only ratios within one run mean much.
Each benchmark keeps one section below; rerunning a script with `--record` replaces its section.
"""


@dataclass(frozen=True)
class Machine:
    cpu_model: str
    cores: int
    ram_gib: float
    kernel: str
    date: str

    def line(self) -> str:
        return f"{self.cpu_model}, {self.cores} cores, {self.ram_gib:.1f} GiB RAM, Linux {self.kernel}, {self.date}"


def this_machine() -> Machine:
    model = platform.processor() or "unknown CPU"
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                model = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass  # not Linux: platform's answer stands
    return Machine(model, psutil.cpu_count() or 0, psutil.virtual_memory().total / 2**30, platform.release(),
                   datetime.datetime.now(datetime.UTC).strftime("%Y-%m-%d %H:%M UTC"))


def cpu_seconds(pid: int) -> float:
    """User + system CPU seconds the process has used so far (its own threads, not its children)."""
    times = psutil.Process(pid).cpu_times()
    return float(times.user + times.system)


def peak_rss_bytes(pid: int) -> int:
    """The kernel's high-water mark of the process's resident set (VmHWM): the peak, not a sample."""
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmHWM:"):
            return int(line.split()[1]) * 1024
    raise RuntimeError(f"/proc/{pid}/status has no VmHWM line")


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port: int = probe.getsockname()[1]
        return port


def run_id(kind: str) -> str:
    """A name no other run on the shared services uses (topic prefixes, groups, databases)."""
    return f"bench_{kind}_{os.getpid()}_{int(time.time())}"


def percentile(values: Sequence[float], fraction: float) -> float:
    """Nearest-rank percentile (fraction in 0..1) of a non-empty sample."""
    ordered = sorted(values)
    rank = max(1, round(fraction * len(ordered) + 0.5 - 1e-9))
    return ordered[min(rank, len(ordered)) - 1]


@dataclass
class Result:
    """One benchmark run: printed as a block and recorded as its section of docs/benchmarks.md."""

    title: str
    command: str
    figures: list[tuple[str, str]] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)
    machine: Machine = field(default_factory=this_machine)

    def markdown(self) -> str:
        rows = "\n".join(f"| {name} | {value} |" for name, value in self.figures)
        notes = "".join(f"- {note}\n" for note in self.notes)
        return (f"## {self.title}\n\n"
                f"Command: `{self.command}`\n\n"
                f"Machine: {self.machine.line()}\n\n"
                f"| Figure | Value |\n|---|---|\n{rows}\n\n{notes}")

    def report(self, record: bool) -> None:
        print(self.markdown())
        if record:
            record_section(self.title, self.markdown())
            print(f"recorded in {DOC.relative_to(REPO)}")


def command_line() -> str:
    """How this benchmark was invoked, as a command someone can paste."""
    script = Path(sys.argv[0]).resolve()
    shown = script.relative_to(REPO) if script.is_relative_to(REPO) else script
    return shlex.join(["python", str(shown), *sys.argv[1:]])


def record_section(title: str, text: str) -> None:
    """Replace the `## title` section of docs/benchmarks.md with text (append it when absent)."""
    current = DOC.read_text() if DOC.exists() else DOC_HEADER
    heading = re.compile(rf"^## {re.escape(title)}\n.*?(?=^## |\Z)", re.MULTILINE | re.DOTALL)
    section = text.rstrip("\n") + "\n\n"
    if heading.search(current):
        updated = heading.sub(lambda _: section, current, count=1)
    else:
        updated = current.rstrip("\n") + "\n\n" + section
    DOC.write_text(updated.rstrip("\n") + "\n")


def add_record_flag(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--record", action="store_true",
                        help=f"write the result into {DOC.relative_to(REPO)} (replacing this benchmark's section)")


def delete_topics(prefix: str) -> None:
    """Remove this run's topics so repeated runs do not fill the shared broker."""
    from kafka.admin import KafkaAdminClient

    from watchkeeper.config.settings import KafkaSettings
    from watchkeeper.transport.kafka import API_VERSION

    settings = KafkaSettings(topic_prefix=prefix)
    admin = KafkaAdminClient(bootstrap_servers=settings.bootstrap_servers, api_version=API_VERSION)
    try:
        admin.delete_topics([name for name in admin.list_topics() if name.startswith(prefix + ".")])
    finally:
        admin.close()


# ----- a collector process ---------------------------------------------------------------------------------


@dataclass(frozen=True)
class CollectorTiming:
    """What a collector process reports when it stops: rows stored and when (monotonic seconds)."""

    rows: int
    started: float
    first_insert: float | None
    last_insert: float | None
    stats: dict[str, object]
    first_rows: int = 0  # rows of the first insert: what the sustained rate after it leaves out

    def sustained_rate(self) -> float:
        """Rows/s from the first insert's end to the last one's: draining, without group join and first fetch."""
        assert self.first_insert is not None and self.last_insert is not None and self.last_insert > self.first_insert
        return (self.rows - self.first_rows) / (self.last_insert - self.first_insert)


def collector_command(url: str, prefix: str, group: str, stop_after_rows: int = 0,
                      profile: Path | None = None, table: str | None = None) -> list[str]:
    """argv of a collector process (it stops at stop_after_rows rows of table, metric samples by default;
    0 = at SIGTERM)."""
    argv = [sys.executable, str(Path(__file__).resolve()), "collector", "--url", url, "--prefix", prefix,
            "--group", group, "--stop-after-rows", str(stop_after_rows)]
    return argv + (["--profile", str(profile)] if profile else []) + (["--table", table] if table else [])


def read_collector_timing(stdout: str) -> CollectorTiming:
    """The timing line the collector process prints last."""
    data = json.loads(stdout.strip().splitlines()[-1])
    return CollectorTiming(**data)


def _collector_main(argv: list[str]) -> None:
    import cProfile
    import signal

    from collector.buffers import Batch
    from collector.service import kafka_collector, open_storage
    from watchkeeper.config.settings import ClickHouseSettings, CollectorSettings, KafkaSettings, Settings
    from watchkeeper.storage.metrics import SAMPLES_TABLE

    parser = argparse.ArgumentParser(prog="_common.py collector")
    parser.add_argument("--url", required=True)
    parser.add_argument("--prefix", required=True)
    parser.add_argument("--group", required=True)
    parser.add_argument("--stop-after-rows", type=int, default=0)
    parser.add_argument("--profile", type=Path)
    parser.add_argument("--table", default=SAMPLES_TABLE, help="the table whose inserted rows are counted")
    args = parser.parse_args(argv)
    settings = Settings(kafka=KafkaSettings(topic_prefix=args.prefix), clickhouse=ClickHouseSettings(url=args.url),
                        collector=CollectorSettings(group_id=args.group))
    engine = open_storage(settings, wait_s=30)
    inserted = 0
    first: float | None = None
    first_rows = 0
    last: float | None = None

    def after_insert(batch: Batch) -> None:
        nonlocal inserted, first, first_rows, last
        if batch.table != args.table:
            return
        inserted += batch.rows
        last = time.monotonic()
        if first is None:
            first, first_rows = last, batch.rows
        if args.stop_after_rows and inserted >= args.stop_after_rows:
            collector.stop()

    collector = kafka_collector(settings, engine, wait_s=30, after_insert=after_insert)
    signal.signal(signal.SIGTERM, lambda *_: collector.stop())
    started = time.monotonic()
    profiler = cProfile.Profile() if args.profile else None
    if profiler:
        profiler.enable()
    collector.run()
    if profiler:
        profiler.disable()
        profiler.dump_stats(args.profile)
    engine.close()
    print(json.dumps({"rows": inserted, "started": started, "first_insert": first, "last_insert": last,
                      "first_rows": first_rows, "stats": collector.stats()}, default=str), flush=True)


if __name__ == "__main__":
    sys.path.insert(0, str(REPO))
    if sys.argv[1:2] != ["collector"]:
        sys.exit("usage: python bench/_common.py collector --url URL --prefix P --group G [--stop-after-rows N]")
    _collector_main(sys.argv[2:])
