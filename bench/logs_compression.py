"""Stored bytes per raw byte: a realistic access log through the real path into the logs table, on both engines.

--mib MiB of combined-format access log (see _access_log.py: skewed client IPs, routes
with ids and hashes, status codes, sizes, referers, user agents, timestamps advancing)
are written to a file. The agent's tailer and shipper (as in logs_throughput.py, an
agent process) ship it into Kafka; one collector process stores it into a fresh
database on the ClickHouse 18.16 server, another into chdb. Each table is then merged
(`OPTIMIZE TABLE logs FINAL`, the state it reaches once background merges are done)
and measured in system.parts:

    ratio = raw file bytes / sum(data_compressed_bytes) of the logs table's active parts

18.16 has no column codecs, so every column there is LZ4 (the server default); chdb
gets the schema's codecs (ZSTD(3) on message, DoubleDelta + ZSTD on the times) and
LowCardinality columns. Beside them, in the same run: the raw file compressed whole
with gzip -6 and zstd -3 (what logrotate's compress gives), and ClickHouse's published
figure for its logging benchmark (14x). An experiment shows what the table's order costs:
the same rows copied into a table ordered by file and offset (see measure_engine).

    python bench/logs_compression.py [--mib 200] [--record]
"""

from __future__ import annotations

import argparse
import gzip
import itertools
import os
import tempfile
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

import zstandard

from _access_log import AccessLog
from _common import Result, add_record_flag, command_line, delete_topics, run_id
from logs_collector import LOGS_TABLE, SERVER, clickhouse_client, drain_logs
from logs_throughput import ship_directory

if TYPE_CHECKING:
    from watchkeeper.storage.engine import Engine

MIB = 2**20
CLICKHOUSE_PUBLISHED_RATIO = 14.0
TOP_COLUMNS = 5
IN_FILE_ORDER = "logs_in_file_order"


def write_access_log(path: Path, mib: int) -> int:
    """At least mib MiB of whole access log lines; returns the line count."""
    path.parent.mkdir(parents=True)
    lines = 0
    written = 0
    source = AccessLog(seed=11).lines()
    with path.open("wb") as out:
        while written < mib * MIB:
            block = "\n".join(itertools.islice(source, 10_000)).encode() + b"\n"
            out.write(block)
            written += len(block)
            lines += 10_000
    return lines


def whole_file_ratios(path: Path) -> dict[str, float]:
    """raw / compressed for the whole file, with the tools logrotate would use."""
    raw = path.read_bytes()
    return {"gzip -6": len(raw) / len(gzip.compress(raw, compresslevel=6)),
            "zstd -3": len(raw) / len(zstandard.ZstdCompressor(level=3).compress(raw))}


@dataclass(frozen=True)
class Stored:
    """What one engine stored: the logs table as the schema orders it, and the same rows in file order."""

    compressed: int
    columns: list[tuple[str, int, int]]
    """(column, compressed, uncompressed) of the largest columns; wide parts only (a small table has none)."""
    in_file_order: int


def measure_engine(url: str, database: str, expected_rows: int) -> Stored:
    """Merge the logs table, check it holds every line once, and measure it and a copy ordered by file offset.

    The copy orders them by (log_group, log_stream, host, file_id, file_offset), the
    order the schema itself now has (it was a random event_id hash before): a control,
    it shows what the order of the stored table gives beside a freshly sorted copy.
    """
    from watchkeeper.storage.engine import open_engine

    engine = open_engine(url)
    try:
        engine.command(f"OPTIMIZE TABLE {LOGS_TABLE} FINAL")
        stored = engine.query(f"SELECT count() FROM {LOGS_TABLE} FINAL")[0][0]
        if stored != expected_rows:
            raise SystemExit(f"{url}: the logs table holds {stored:,} rows; the file has {expected_rows:,} lines")
        engine.command(f"CREATE TABLE {IN_FILE_ORDER} AS {LOGS_TABLE} ENGINE = ReplacingMergeTree "
                       "PARTITION BY toDate(ts) ORDER BY (log_group, log_stream, host, file_id, file_offset)")
        engine.command(f"INSERT INTO {IN_FILE_ORDER} SELECT * FROM {LOGS_TABLE}")
        engine.command(f"OPTIMIZE TABLE {IN_FILE_ORDER} FINAL")
        where = f"database = '{database}' AND table = '{LOGS_TABLE}'"
        columns = engine.query(
            "SELECT name, data_compressed_bytes, data_uncompressed_bytes FROM system.columns "
            f"WHERE {where} AND data_compressed_bytes > 0 ORDER BY data_compressed_bytes DESC LIMIT {TOP_COLUMNS}")
        return Stored(part_bytes(engine, database, LOGS_TABLE),
                      [(str(name), int(packed), int(unpacked)) for name, packed, unpacked in columns],
                      part_bytes(engine, database, IN_FILE_ORDER))
    finally:
        engine.close()


def part_bytes(engine: Engine, database: str, table: str) -> int:
    rows = engine.query("SELECT sum(data_compressed_bytes) FROM system.parts "
                        f"WHERE database = '{database}' AND table = '{table}' AND active")
    return int(rows[0][0])


def describe(raw: int, stored: Stored) -> list[str]:
    """Ratio as stored, ratio in file order, and the largest columns."""
    biggest = ", ".join(f"{name} {compressed / MIB:.1f} MiB ({uncompressed / max(compressed, 1):.1f}x)"
                        for name, compressed, uncompressed in stored.columns)
    return [f"{raw / stored.compressed:.1f}x ({stored.compressed / MIB:.1f} MiB stored)",
            f"{raw / stored.in_file_order:.1f}x ({stored.in_file_order / MIB:.1f} MiB stored)", biggest or "n/a"]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--mib", type=int, default=200, help="MiB of access log to generate")
    add_record_flag(parser)
    args = parser.parse_args()

    prefix = run_id("logs_compression")
    load = os.getloadavg()
    with tempfile.TemporaryDirectory(prefix="bench-logs-compression-") as scratch_name:
        scratch = Path(scratch_name)
        log_file = scratch / "data" / "access.log"
        lines = write_access_log(log_file, args.mib)
        raw = log_file.stat().st_size
        peers = whole_file_ratios(log_file)
        try:
            ship_directory(log_file.parent, scratch / "agent-state", prefix, lines)
            server_url = f"clickhouse://{SERVER}/{prefix}"
            chdb_url = f"chdb://{scratch / 'chdb'}?database={prefix}"
            drain_logs(server_url, prefix, lines)
            drain_logs(chdb_url, prefix, lines)
            server = measure_engine(server_url, prefix, lines)
            embedded = measure_engine(chdb_url, prefix, lines)
        finally:
            clickhouse_client("--query", f"DROP DATABASE IF EXISTS {prefix}")
            delete_topics(prefix)

    server_figures, chdb_figures = describe(raw, server), describe(raw, embedded)
    zstd_ratio = peers["zstd -3"]
    result = Result("Logs: compression (stored bytes per raw byte)", command_line())
    result.figures += [
        ("raw access log", f"{raw / MIB:.0f} MiB, {lines:,} lines ({raw / lines:.0f} bytes/line)"),
        ("ClickHouse 18.16 server (LZ4, no codecs): raw / stored", server_figures[0]),
        ("chdb (ZSTD(3) message, DoubleDelta times, LowCardinality): raw / stored", chdb_figures[0]),
        *((f"whole file, {tool}", f"{ratio:.1f}x") for tool, ratio in peers.items()),
        ("ratio to zstd -3 of the whole file: server; chdb",
         f"{raw / server.compressed / zstd_ratio:.2f}; {raw / embedded.compressed / zstd_ratio:.2f}"),
        ("ClickHouse's published logging benchmark",
         f"{CLICKHOUSE_PUBLISHED_RATIO:.0f}x (chdb here: {raw / embedded.compressed / CLICKHOUSE_PUBLISHED_RATIO:.2f} "
         "of it)"),
        ("experiment, same rows ordered by file and offset: server", server_figures[1]),
        ("experiment, same rows ordered by file and offset: chdb", chdb_figures[1]),
        ("largest columns on the server (compressed, own ratio)", server_figures[2]),
        ("largest columns in chdb (compressed, own ratio)", chdb_figures[2]),
    ]
    result.notes.append("Stored = sum(data_compressed_bytes) of the logs table's active parts (system.parts) after "
                        "OPTIMIZE FINAL; every row keeps its host, group, stream, file, file id, offset, three times and "
                        "severity beside the message (the event id is computed when read), which the whole-file "
                        "figures do not carry.")
    result.notes.append(f"Load average (1/5/15 min) at the start: {load[0]:.2f} / {load[1]:.2f} / {load[2]:.2f} "
                        f"(it does not change the ratios).")
    result.report(args.record)


if __name__ == "__main__":
    main()
