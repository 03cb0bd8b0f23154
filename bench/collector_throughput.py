"""Collector throughput: metric rows per second from a pre-filled Kafka topic into ClickHouse, and into chdb,
beside clickhouse-client inserting the same rows from a file (the server's own ceiling).

The topic is filled first with --rows metric datapoints in envelopes of --envelope-items
items (a fleet of hosts, 50 series each, every 10 s), compressed with zstd as agents send
them. Then one collector process (the production collector: consumer group, decode,
validate, rows per table, columnar inserts, commit after insert) drains it into a fresh
database on the server, and another into chdb; each is timed from its start (group join
included) to the insert that completes the rows. Last, the rows the collector stored are
exported with clickhouse-client in Native and TSV format and inserted again, timed, into
a fresh copy of the same schema.

    python bench/collector_throughput.py [--rows 2000000] [--profile] [--record]
"""

from __future__ import annotations

import argparse
import os
import pstats
import random
import resource
import subprocess
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
from _common import (Result, add_record_flag, collector_command, command_line, delete_topics, read_collector_timing,
                     run_id)

SERVER = "127.0.0.1:9000"
TARGET_ROWS_S = 250_000
SERIES_PER_HOST = 50
CLIENT_FORMATS = ("Native", "TSV")


def fleet_envelopes(rows: int, envelope_items: int) -> list[bytes]:
    """Encoded envelopes of envelope_items items each, rows in all: hosts x 50 series, one sample per 10 s."""
    from watchkeeper.events import Kind, MetricDatum, metric_block
    from watchkeeper.wire import make_envelope

    rng = random.Random(7)
    names: list[tuple[str, tuple[str, str] | None, str]] = [
        (f"cpu_usage_{state}", ("cpu", f"cpu{core}"), "Percent")
        for state in ("idle", "user", "system", "iowait", "steal") for core in range(8)]
    names += [(f"mem_{field}", None, "Bytes") for field in ("used", "free", "cached", "buffered", "available")]
    names += [(f"net_{field}", ("interface", "eth0"), "Bytes") for field in ("bytes_sent", "bytes_recv")]
    names += [("processes_total", None, "Count"), ("processes_running", None, "Count"),
              ("swap_used_percent", None, "Percent")]
    assert len(names) == SERIES_PER_HOST
    hosts_per_envelope = max(1, envelope_items // SERIES_PER_HOST)
    base = int(time.time()) // 10 * 10 - 86_400
    envelopes: list[bytes] = []
    made = 0
    step = 0
    while made < rows:
        timestamp = base + 10 * (step // 20)  # 20 envelopes of different hosts share each timestamp
        first_host = (step % 20) * hosts_per_envelope
        datums = []
        for host in range(first_host, first_host + hosts_per_envelope):
            for name, extra, unit in names:
                dimensions = ((extra, ("host", f"host-{host:05d}")) if extra else (("host", f"host-{host:05d}"),))
                datums.append(MetricDatum.single("CWAgent", name, tuple(sorted(dimensions)), timestamp,
                                                round(rng.uniform(0, 100), 3), unit, 1))
        datums = datums[:rows - made]
        # One column block per envelope, as agents send them.
        envelopes.append(make_envelope(Kind.METRICS, f"agent-{first_host}", f"host-{first_host:05d}",
                                       [metric_block(datums)]).encode())
        made += len(datums)
        step += 1
    return envelopes


def prefill(prefix: str, envelopes: list[bytes]) -> float:
    """Send the envelopes to <prefix>.metrics with the agents' producer settings; return seconds taken."""
    from watchkeeper.config.settings import KafkaSettings
    from watchkeeper.transport.kafka import ensure_topics, make_producer

    settings = KafkaSettings(topic_prefix=prefix)
    ensure_topics(settings, ["metrics"])
    producer = make_producer(settings)
    started = time.monotonic()
    futures = [producer.send(settings.topic("metrics"), key=f"h{index % 64}".encode(), value=payload)
               for index, payload in enumerate(envelopes)]
    producer.flush()
    for future in futures:
        future.get(timeout=0)
    producer.close()
    return time.monotonic() - started


def children_cpu_s() -> float:
    usage = resource.getrusage(resource.RUSAGE_CHILDREN)
    return usage.ru_utime + usage.ru_stime


@dataclass(frozen=True)
class Drain:
    seconds: float  # from the collector's start (group join included) to the insert completing the rows
    rows: int
    cpu_s: float
    first_insert_s: float  # group join, first fetch and the first batch's conversion
    sustained_rate: float  # rows/s from the first insert's end to the last one's

    @property
    def rate(self) -> float:
        return self.rows / self.seconds


def drain(url: str, prefix: str, rows: int, profile: Path | None) -> Drain:
    """Run one collector process until it stored rows samples.

    CPU seconds (start-up included) say what the collector itself costs, which a busy shared
    machine changes far less than the wall time.
    """
    command = collector_command(url, prefix, run_id("collector"), stop_after_rows=rows, profile=profile)
    cpu_before = children_cpu_s()
    finished = subprocess.run(command, capture_output=True, text=True, timeout=3600, check=True)
    cpu_s = children_cpu_s() - cpu_before
    timing = read_collector_timing(finished.stdout)
    assert timing.last_insert is not None and timing.first_insert is not None, "the collector stored nothing"
    return Drain(timing.last_insert - timing.started, timing.rows, cpu_s, timing.first_insert - timing.started,
                 timing.sustained_rate())


def client(*args: str, stdin: Any = None, stdout: Any = None) -> None:
    host, port = SERVER.split(":")
    subprocess.run(["clickhouse-client", "--host", host, "--port", port, *args], stdin=stdin, stdout=stdout,
                   check=True, timeout=3600)


def client_ceiling(source_database: str, work: Path) -> dict[str, float]:
    """Seconds clickhouse-client takes to insert the stored samples from a file, per format."""
    from watchkeeper.storage.engine import open_engine
    from watchkeeper.storage.metrics import SAMPLE_COLUMNS, SAMPLES_TABLE
    from watchkeeper.storage.schema import migrate

    columns = ", ".join(SAMPLE_COLUMNS)
    seconds = {}
    for fmt in CLIENT_FORMATS:
        path = work / f"samples.{fmt.lower()}"
        with path.open("wb") as out:
            client("--query", f"SELECT {columns} FROM {source_database}.{SAMPLES_TABLE} FORMAT {fmt}", stdout=out)
        database = f"{source_database}_{fmt.lower()}"
        engine = open_engine(f"clickhouse://{SERVER}/{database}")
        migrate(engine)
        engine.close()
        with path.open("rb") as data:
            started = time.monotonic()
            client("--database", database, "--query", f"INSERT INTO {SAMPLES_TABLE} ({columns}) FORMAT {fmt}",
                   stdin=data)
            seconds[fmt] = time.monotonic() - started
        client("--query", f"DROP DATABASE {database}")
    return seconds


def profile_summary(path: Path, lines: int) -> str:
    """The functions where the collector spent most of its own time."""
    stats = pstats.Stats(str(path))
    total = stats.total_tt  # type: ignore[attr-defined]  # pstats keeps the total, untyped
    rows = sorted(stats.stats.items(), key=lambda item: item[1][2], reverse=True)[:lines]  # type: ignore[attr-defined]
    return "\n".join(f"{own / total:6.1%}  {function[2]} ({Path(function[0]).name}:{function[1]})"
                     for function, (_, _, own, _, _) in rows)


def stage_rates(envelopes: list[bytes], database: str) -> list[tuple[str, float]]:
    """Rows/s of each step of the collector's path on its own, in this process (CPU seconds, one core)."""
    from watchkeeper.config.settings import CollectorSettings
    from watchkeeper.storage.engine import open_engine
    from watchkeeper.storage.metrics import SAMPLES_TABLE, metric_rows
    from watchkeeper.storage.schema import migrate
    from watchkeeper.events import datums_of
    from watchkeeper.wire import decode

    rows = sum(len(datums_of(decode(payload).items)) for payload in envelopes)
    started = time.process_time()
    for payload in envelopes:
        decode(payload)
    decoded_s = time.process_time() - started
    started = time.process_time()
    tables = [metric_rows([(envelope.batch_id, envelope.items)]) for envelope in map(decode, envelopes)]
    built_s = time.process_time() - started - decoded_s
    engine = open_engine(f"clickhouse://{SERVER}/{database}")
    migrate(engine)
    columns = {name: np.concatenate([table[SAMPLES_TABLE][name] for table in tables])
               for name in tables[0][SAMPLES_TABLE]}
    block = CollectorSettings().max_rows  # the collector's insert size
    started = time.monotonic()
    for first in range(0, rows, block):
        engine.insert(SAMPLES_TABLE, {name: values[first:first + block] for name, values in columns.items()})
    inserted_s = time.monotonic() - started
    engine.command(f"DROP DATABASE {database}")
    engine.close()
    return [("decode envelopes (orjson + checks)", rows / decoded_s),
            ("build rows (validate, fingerprint, event id, columns)", rows / built_s),
            ("clickhouse-driver columnar insert of the built samples (wall)", rows / inserted_s)]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--rows", type=int, default=2_000_000)
    parser.add_argument("--envelope-items", type=int, default=5_000)
    parser.add_argument("--profile", action="store_true",
                        help="run the server collector under cProfile and time each stage of its path alone")
    add_record_flag(parser)
    args = parser.parse_args()

    prefix = run_id("throughput")
    envelopes = fleet_envelopes(args.rows, args.envelope_items)
    fill_s = prefill(prefix, envelopes)
    with tempfile.TemporaryDirectory(prefix="bench-throughput-") as scratch:
        work = Path(scratch)
        profile = work / "collector.prof" if args.profile else None
        load_before = os.getloadavg()
        server = drain(f"clickhouse://{SERVER}/{prefix}", prefix, args.rows, profile)
        chdb = drain(f"chdb://{work / 'chdb'}?database={prefix}", prefix, args.rows, None)
        ceiling = client_ceiling(prefix, work)
        hotspots = profile_summary(profile, 15) if profile else ""
        stages = stage_rates(envelopes, f"{prefix}_stages") if profile else []
    client("--query", f"DROP DATABASE {prefix}")
    delete_topics(prefix)

    result = Result("Collector throughput vs clickhouse-client", command_line())
    result.figures += [
        ("rows in the topic", f"{args.rows:,} in {len(envelopes)} envelopes of {args.envelope_items:,} items "
                              f"(filled in {fill_s:.1f} s)"),
        ("load average before the collectors (1/5/15 min)", " / ".join(f"{load:.2f}" for load in load_before)),
        ("collector -> ClickHouse 18.16 server, sustained (first insert to last)", f"{server.sustained_rate:,.0f} rows/s"),
        ("collector -> ClickHouse 18.16 server, from the collector's start",
         f"{server.rate:,.0f} rows/s ({server.rows:,} rows in {server.seconds:.1f} s)"),
        ("server run: from the collector's start to its first insert", f"{server.first_insert_s:.1f} s"),
        ("collector process CPU, server run (start-up included)", f"{server.cpu_s:.1f} s"),
        ("collector -> chdb, sustained (first insert to last)", f"{chdb.sustained_rate:,.0f} rows/s"),
        ("collector -> chdb, from the collector's start",
         f"{chdb.rate:,.0f} rows/s ({chdb.rows:,} rows in {chdb.seconds:.1f} s)"),
        ("collector process CPU, chdb run (chdb's own work included)", f"{chdb.cpu_s:.1f} s"),
    ]
    for fmt, seconds in ceiling.items():
        rate = server.rows / seconds
        result.figures += [(f"clickhouse-client {fmt} file -> server", f"{rate:,.0f} rows/s"),
                           (f"ratio collector (sustained; from start) / clickhouse-client {fmt}",
                            f"{server.sustained_rate / rate:.2f}; {server.rate / rate:.2f}")]
    result.notes.append(
        f"Target (>= {TARGET_ROWS_S:,} rows/s into the server), on the sustained rate: "
        f"{'met' if server.sustained_rate >= TARGET_ROWS_S else 'MISSED'}; from the collector's start: "
        f"{'met' if server.rate >= TARGET_ROWS_S else 'missed'}. The sustained rate leaves out what a long-running "
        "collector pays once (consumer group join, first fetch, the first batch's conversion) and the first "
        "insert's rows; the from-start figure includes them.")
    result.figures += [(f"stage alone: {stage}", f"{rate:,.0f} rows/s") for stage, rate in stages]
    if hotspots:
        result.notes.append("Where the server collector spent its own time (cProfile, share of total):\n\n"
                            + "\n".join(f"      {line}" for line in hotspots.splitlines()))
    result.report(args.record)


if __name__ == "__main__":
    main()
