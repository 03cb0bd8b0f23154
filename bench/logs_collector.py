"""Kafka -> ClickHouse for logs: rows/s and MiB/s of one collector process, into the server and into chdb,
beside clickhouse-client inserting the same rows from a Native file (the server's own ceiling).

The topic is filled first with --rows access log lines (realistic variety, see
_access_log.py) in envelopes as the agent's tailer makes them: one run of consecutive
lines of one file per envelope (--envelope-lines lines, about the tailer's 1 MiB batch),
10 hosts with 3 files each (FILE_NAMES), keyed by host, zstd-compressed by the agents' producer
settings. Then one collector process (the production collector: consumer group,
decode, validate, rows with severity and event id, columnar inserts, commit after
insert) drains it into a fresh database on the server, and another into chdb; each is
timed from its start (group join included) to the insert that completes the rows.
MiB/s counts message bytes. Last, the rows the collector stored on the server are
exported with clickhouse-client as Native and inserted again, timed, into a fresh copy
of the logs table.

    python bench/logs_collector.py [--rows 1000000] [--envelope-lines 5000] [--profile] [--record]
"""

from __future__ import annotations

import argparse
import itertools
import os
import subprocess
import tempfile
import time
from pathlib import Path
from typing import IO

from _access_log import AccessLog
from _common import (Result, add_record_flag, collector_command, command_line, delete_topics, read_collector_timing,
                     run_id)
from collector_throughput import profile_summary

SERVER = "127.0.0.1:9000"
HOSTS = 10
FILE_NAMES = ("access", "shop_access", "api_access")
MIB = 2**20
LINE_GAP_MS = 5
LOGS_TABLE = "logs"
PROFILE_LINES = 15


def log_envelopes(rows: int, envelope_lines: int) -> tuple[list[tuple[str, bytes]], int]:
    """(host, encoded envelope) pairs holding rows lines in all, and the lines' total message bytes."""
    from watchkeeper.events import Kind
    from watchkeeper.storage.logs import LogRun
    from watchkeeper.wire import make_envelope

    source = AccessLog(seed=3).lines()
    files = [(f"web-{host:02d}", f"/var/log/nginx/{name}.log", f"fe01-{host:04x}-{index:04x}-0")
             for host in range(HOSTS) for index, name in enumerate(FILE_NAMES)]
    next_offset = {file_id: 0 for _, _, file_id in files}
    clock_ms = int(time.time() * 1000) - 86_400_000
    envelopes: list[tuple[str, bytes]] = []
    message_bytes = 0
    for index, made in enumerate(range(0, rows, envelope_lines)):
        host, path, file_id = files[index % len(files)]
        messages = list(itertools.islice(source, min(envelope_lines, rows - made)))
        lengths = [len(message.encode()) + 1 for message in messages]
        offsets = list(itertools.accumulate(lengths[:-1], initial=next_offset[file_id]))
        next_offset[file_id] = offsets[-1] + lengths[-1]
        timestamps = [clock_ms + LINE_GAP_MS * i for i in range(len(messages))]
        clock_ms = timestamps[-1]
        run = LogRun("/bench/nginx", f"{host}{path}", path, file_id, 30, clock_ms + 1000, offsets, timestamps,
                     "\n".join(messages))  # one block of text, as the tailer ships lines
        envelopes.append((host, make_envelope(Kind.LOGS, f"agent-{host}", host, [run.to_item()]).encode()))
        message_bytes += sum(lengths) - len(lengths)
    return envelopes, message_bytes


def prefill_by_host(prefix: str, envelopes: list[tuple[str, bytes]]) -> float:
    """Send the envelopes to <prefix>.logs keyed by host, as the agents' shipper does; return seconds taken."""
    from watchkeeper.config.settings import KafkaSettings
    from watchkeeper.transport.kafka import ensure_topics, make_producer

    settings = KafkaSettings(topic_prefix=prefix)
    ensure_topics(settings, ["logs"])
    producer = make_producer(settings)
    started = time.monotonic()
    futures = [producer.send(settings.topic("logs"), key=host.encode(), value=payload) for host, payload in envelopes]
    producer.flush()
    for future in futures:
        future.get(timeout=0)  # raises if Kafka refused one
    producer.close()
    return time.monotonic() - started


def drain_logs(url: str, prefix: str, rows: int, profile: Path | None = None) -> tuple[float, int]:
    """One collector process until it stored rows log rows; (seconds from its start, rows)."""
    command = collector_command(url, prefix, run_id("logs_collector"), stop_after_rows=rows, profile=profile,
                                table=LOGS_TABLE)
    finished = subprocess.run(command, capture_output=True, text=True, timeout=3600, check=True)
    timing = read_collector_timing(finished.stdout)
    if timing.last_insert is None:
        raise SystemExit(f"the collector for {url} stored no log rows:\n{finished.stderr[-2000:]}")
    return timing.last_insert - timing.started, timing.rows


def clickhouse_client(*args: str, stdin: IO[bytes] | None = None, stdout: IO[bytes] | None = None) -> None:
    host, port = SERVER.split(":")
    subprocess.run(["clickhouse-client", "--host", host, "--port", port, *args], stdin=stdin, stdout=stdout,
                   check=True, timeout=3600)


def native_insert_seconds(database: str, work: Path) -> float:
    """Seconds clickhouse-client takes to insert the collector's stored log rows from a Native file."""
    from watchkeeper.storage.engine import open_engine
    from watchkeeper.storage.logs import LOG_COLUMNS
    from watchkeeper.storage.schema import migrate

    columns = ", ".join(LOG_COLUMNS)
    exported = work / "logs.native"
    with exported.open("wb") as out:
        clickhouse_client("--query", f"SELECT {columns} FROM {database}.{LOGS_TABLE} FORMAT Native", stdout=out)
    copy = f"{database}_native"
    engine = open_engine(f"clickhouse://{SERVER}/{copy}")
    migrate(engine)
    engine.close()
    try:
        with exported.open("rb") as data:
            started = time.monotonic()
            clickhouse_client("--database", copy, "--query", f"INSERT INTO {LOGS_TABLE} ({columns}) FORMAT Native",
                              stdin=data)
            return time.monotonic() - started
    finally:
        clickhouse_client("--query", f"DROP DATABASE {copy}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--rows", type=int, default=1_000_000)
    parser.add_argument("--envelope-lines", type=int, default=5_000)
    parser.add_argument("--profile", action="store_true", help="run the server collector under cProfile")
    add_record_flag(parser)
    args = parser.parse_args()

    prefix = run_id("logs_collector")
    envelopes, message_bytes = log_envelopes(args.rows, args.envelope_lines)
    fill_s = prefill_by_host(prefix, envelopes)
    load = os.getloadavg()
    try:
        with tempfile.TemporaryDirectory(prefix="bench-logs-collector-") as scratch:
            work = Path(scratch)
            profile = work / "collector.prof" if args.profile else None
            server_s, server_rows = drain_logs(f"clickhouse://{SERVER}/{prefix}", prefix, args.rows, profile)
            chdb_s, chdb_rows = drain_logs(f"chdb://{work / 'chdb'}?database={prefix}", prefix, args.rows)
            native_s = native_insert_seconds(prefix, work)
            hotspots = profile_summary(profile, PROFILE_LINES) if profile else ""
    finally:
        clickhouse_client("--query", f"DROP DATABASE IF EXISTS {prefix}")
        delete_topics(prefix)

    def rate(rows: int, seconds: float) -> str:
        return (f"{rows / seconds:,.0f} rows/s, {message_bytes * rows / args.rows / MIB / seconds:.1f} MiB/s "
                f"({rows:,} rows in {seconds:.1f} s)")

    result = Result("Logs: Kafka -> ClickHouse (one collector process)", command_line())
    result.figures += [
        ("lines in the topic", f"{args.rows:,} access log lines, {message_bytes / MIB:.0f} MiB of messages, in "
                               f"{len(envelopes)} envelopes of {args.envelope_lines:,} (filled in {fill_s:.1f} s)"),
        ("collector -> ClickHouse 18.16 server", rate(server_rows, server_s)),
        ("collector -> chdb", rate(chdb_rows, chdb_s)),
        ("clickhouse-client Native file -> server (same rows)", rate(server_rows, native_s)),
        ("ratio collector / clickhouse-client Native", f"{native_s / server_s:.2f}"),
    ]
    result.notes.append(f"Load average (1/5/15 min) when the drains began: {load[0]:.2f} / {load[1]:.2f} / "
                        f"{load[2]:.2f}; the machine is shared with other benchmarks and test runs.")
    if hotspots:
        result.notes.append("Where the server collector spent its own time (cProfile, share of total):\n\n"
                            + "\n".join(f"      {line}" for line in hotspots.splitlines()))
    result.report(args.record)


if __name__ == "__main__":
    main()
