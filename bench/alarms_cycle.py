"""Alarm evaluation cycle: 10,000 alarms over 1,000 hosts, next to Debian's prometheus on the same data.

The fleet: --hosts hosts (default 1,000), ten CWAgent metrics each (namespace
CWAgent, dimension host), one datapoint a minute (at :30, so CloudWatch's
[start, end) periods and PromQL's (start, end] windows hold the same samples)
from --hours hours before the start until --horizon-minutes after it, since
prometheus evaluates at wall-clock time while the scheduler is given its clock.
The same datapoints go into a fresh database on the ClickHouse server (through
write_metrics), into chdb, and, as an OpenMetrics file, into prometheus'
blocks (promtool tsdb create-blocks-from openmetrics).

One alarm per series (10,000): Average, Maximum, Minimum, Sum and p90, periods
60 and 300, M out of N in (1/1, 2/3, 3/5, 3/3), Greater/LessThanThreshold,
TreatMissingData missing or notBreaching; thresholds put 20% in ALARM for
good, 10% on the level their series swings around (they transition every few
cycles) and the rest in OK. Actions are enabled: every alarm's AlarmActions
POST to a local no-op HTTP receiver, through the real dispatcher.

The scheduler: the real AlarmService's Scheduler.run_cycle, clock injected, one
cycle per simulated minute, so every alarm is due in every cycle. The first
cycle (every alarm leaves INSUFFICIENT_DATA: 10,000 transitions) is reported
apart from the steady cycles. The engine is wrapped to count and time the
statements each cycle sends, split into metric reads, alarm-table reads and
writes; the rest of the cycle is Python. One more cycle runs under cProfile.

Prometheus: the equivalent rule per alarm, the same window and threshold,
M out of N as `count_over_time((avg_over_time(m{host="h"}[300s]) > T)[N*300s:300s]) >= M`,
in --rule-groups groups, evaluation_interval 30 s, no Alertmanager (it sends
nothing). Its cost per cycle is the sum over groups of
prometheus_rule_group_last_duration_seconds, sampled once per interval; its
CPU seconds per interval are reported as well.

    python bench/alarms_cycle.py [--hosts 1000] [--cycles 10] [--record]
"""

from __future__ import annotations

import argparse
import cProfile
import io
import math
import os
import pstats
import random
import shutil
import subprocess
import tempfile
import threading
import time
import urllib.request
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import TYPE_CHECKING, Any

from _common import Result, add_record_flag, command_line, free_port, percentile, run_id

from watchkeeper.storage.engine import Columns, Engine, Row

if TYPE_CHECKING:
    from alarms.notify.dispatcher import Dispatcher

SERVER = "127.0.0.1:9000"
NAMESPACE = "CWAgent"
TARGET_S = 2.0
SAMPLE_OFFSET_S = 30  # datapoints at :30 of each minute, inside both systems' windows
WAVE_S = 1800  # every series swings around its level with this period
AMPLITUDE = 10.0
PROM_INTERVAL_S = 30
PROM_PREFIX = "prometheus_rule_group_last_duration_seconds"


@dataclass(frozen=True)
class MetricKind:
    name: str
    unit: str
    low: float  # levels of the fleet's series lie in [low, high)
    high: float


METRICS = (
    MetricKind("cpu_usage_idle", "Percent", 30, 90), MetricKind("cpu_usage_user", "Percent", 15, 60),
    MetricKind("cpu_usage_system", "Percent", 12, 30), MetricKind("cpu_usage_iowait", "Percent", 11, 20),
    MetricKind("mem_used_percent", "Percent", 20, 85), MetricKind("swap_used_percent", "Percent", 11, 40),
    MetricKind("disk_used_percent", "Percent", 20, 85), MetricKind("diskio_io_time", "Milliseconds", 50, 900),
    MetricKind("net_bytes_sent", "Bytes", 1e4, 1e7), MetricKind("net_bytes_recv", "Bytes", 1e4, 1e7),
)
# Statistic -> the PromQL range function computing it over one period's samples.
STATISTICS = (("Average", "avg_over_time"), ("Maximum", "max_over_time"), ("Average", "avg_over_time"),
              ("Minimum", "min_over_time"), ("p90", "quantile_over_time"), ("Sum", "sum_over_time"),
              ("Maximum", "max_over_time"), ("Average", "avg_over_time"))
M_OF_N = ((1, 1), (2, 3), (3, 5), (3, 3))


# ----- the fleet's data --------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Series:
    host: str
    metric: MetricKind
    level: float
    phase: float
    scale: float  # the swing in the metric's own magnitude

    def values(self, timestamps: Sequence[int], noise: random.Random) -> list[float]:
        return [max(0.0, self.level + self.scale * (AMPLITUDE * math.sin(2 * math.pi * t / WAVE_S + self.phase)
                                                    + noise.uniform(-1, 1)))
                for t in timestamps]


def fleet(hosts: int) -> list[Series]:
    chooser = random.Random(42)
    out = []
    for index in range(hosts):
        host = f"host-{index:04d}"
        for metric in METRICS:
            scale = (metric.high - metric.low) / 100 if metric.high > 200 else 1.0
            out.append(Series(host, metric, chooser.uniform(metric.low, metric.high), chooser.uniform(0, 2 * math.pi),
                              scale))
    return out


def sample_times(start: int, end: int) -> list[int]:
    first = start - start % 60 + SAMPLE_OFFSET_S
    return list(range(first, end, 60))


def load_data(engines: Sequence[Engine], series: Sequence[Series], timestamps: Sequence[int],
              openmetrics: Path) -> int:
    """Write every series into each engine (write_metrics, one batch per 100 hosts) and the OpenMetrics file."""
    from watchkeeper.storage.metrics import write_metrics

    noise = random.Random(7)
    family_files = {metric.name: openmetrics.with_suffix(f".{metric.name}") for metric in METRICS}
    handles = {name: path.open("w") for name, path in family_files.items()}
    written = 0
    chunk = 100 * len(METRICS)
    for first in range(0, len(series), chunk):
        items: list[dict[str, Any]] = []
        for one in series[first:first + chunk]:
            values = one.values(timestamps, noise)
            lines = handles[one.metric.name]
            for t, v in zip(timestamps, values, strict=True):
                items.append({"ns": NAMESPACE, "n": one.metric.name, "d": [["host", one.host]], "t": t, "c": 1.0,
                              "s": v, "lo": v, "hi": v, "u": one.metric.unit})
                lines.write(f'{one.metric.name}{{host="{one.host}"}} {v!r} {t}\n')
        for engine in engines:
            write_metrics(engine, [(f"bench-{first}", items)])
        written += len(items)
    with openmetrics.open("w") as out:
        for name, path in family_files.items():
            handles[name].close()
            out.write(f"# TYPE {name} gauge\n")
            with path.open() as family:
                shutil.copyfileobj(family, out)
            path.unlink()
        out.write("# EOF\n")
    return written


# ----- the alarms, and prometheus' equivalent rules ----------------------------------------------------------


@dataclass(frozen=True)
class AlarmSpec:
    name: str
    series: Series
    statistic: str
    prom_function: str
    period: int
    m: int
    n: int
    greater: bool
    threshold: float
    treat_missing: str

    def body(self, action_url: str) -> dict[str, Any]:
        statistic = ({"ExtendedStatistic": self.statistic} if self.statistic.startswith("p")
                     else {"Statistic": self.statistic})
        return {"AlarmName": self.name, "Namespace": NAMESPACE, "MetricName": self.series.metric.name,
                "Dimensions": [{"Name": "host", "Value": self.series.host}], "Period": self.period,
                "EvaluationPeriods": self.n, "DatapointsToAlarm": self.m, "Threshold": self.threshold,
                "ComparisonOperator": "GreaterThanThreshold" if self.greater else "LessThanThreshold",
                "TreatMissingData": self.treat_missing, "AlarmActions": [action_url], **statistic}

    def prom_rule(self) -> str:
        selector = f'{self.series.metric.name}{{host="{self.series.host}"}}[{self.period}s]'
        quantile = f"0.{self.statistic[1:]}, " if self.prom_function == "quantile_over_time" else ""
        operator = ">" if self.greater else "<"
        per_period = f"{self.prom_function}({quantile}{selector}) {operator} {self.threshold!r}"
        expr = f"count_over_time(({per_period})[{self.n * self.period}s:{self.period}s]) >= {self.m}"
        return f"  - alert: {self.name}\n    expr: '{expr}'\n"


def alarm_specs(series: Sequence[Series]) -> list[AlarmSpec]:
    """One alarm per series; the index decides statistic, period, M of N, operator and where the threshold lies."""
    out = []
    for index, one in enumerate(series):
        statistic, function = STATISTICS[index % len(STATISTICS)]
        period = 60 if index // 10 % 2 == 0 else 300
        m, n = M_OF_N[index // 20 % len(M_OF_N)]
        greater = index // 5 % 2 == 0
        role = index // 3 % 10  # 0, 1: always breaching; 2: on the level it swings around; others: never
        swing = 2 * AMPLITUDE * one.scale
        offset = -swing if role < 2 else (0.0 if role == 2 else swing)
        threshold = one.level + (offset if greater else -offset)
        if statistic == "Sum":
            threshold *= period // 60  # a period holds one datapoint a minute
        out.append(AlarmSpec(f"{one.host}-{one.metric.name}-{index}", one, statistic, function, period, m, n, greater,
                             round(threshold, 3), "notBreaching" if index % 4 == 3 else "missing"))
    return out


# ----- counting what a cycle sends to ClickHouse -------------------------------------------------------------


@dataclass
class Tally:
    metric_reads: int = 0
    table_reads: int = 0
    writes: int = 0
    metric_read_s: float = 0.0
    table_read_s: float = 0.0
    write_s: float = 0.0

    @property
    def statements(self) -> int:
        return self.metric_reads + self.table_reads + self.writes

    @property
    def engine_s(self) -> float:
        return self.metric_read_s + self.table_read_s + self.write_s


def _read_kind(sql: str) -> str:
    return "metric_read" if " FROM metric_samples" in sql else "table_read"


class CountingEngine(Engine):
    """The real engine, with every statement of the measuring thread counted and timed by kind.

    The dispatcher's threads write Action history through the same engine; those
    statements are counted apart (background), since they are not the cycle's.
    """

    def __init__(self, inner: Engine) -> None:
        self._inner = inner
        self.database = inner.database
        self.capabilities = inner.capabilities
        self.tally = Tally()
        self.background = 0
        self._measured_thread = threading.get_ident()

    def reset(self) -> Tally:
        done, self.tally = self.tally, Tally()
        return done

    def _timed(self, kind: str, call: Callable[[], Any]) -> Any:
        started = time.perf_counter()
        try:
            return call()
        finally:
            if threading.get_ident() == self._measured_thread:
                spent = time.perf_counter() - started
                setattr(self.tally, kind + "s", getattr(self.tally, kind + "s") + 1)
                setattr(self.tally, kind + "_s", getattr(self.tally, kind + "_s") + spent)
            else:
                self.background += 1

    def query(self, sql: str) -> list[Row]:
        rows: list[Row] = self._timed(_read_kind(sql), lambda: self._inner.query(sql))
        return rows

    def query_columns(self, sql: str) -> list[Sequence[Any]]:
        columns: list[Sequence[Any]] = self._timed(_read_kind(sql), lambda: self._inner.query_columns(sql))
        return columns

    def command(self, sql: str) -> None:
        self._timed("write", lambda: self._inner.command(sql))

    def insert(self, table: str, columns: Columns) -> None:
        self._timed("write", lambda: self._inner.insert(table, columns))

    def close(self) -> None:
        self._inner.close()


# ----- the scheduler's cycles --------------------------------------------------------------------------------


@dataclass
class CycleFigures:
    wall_s: float
    tally: Tally
    evaluated: int
    transitions: int


@dataclass
class EngineRun:
    label: str
    cold: CycleFigures
    steady: list[CycleFigures]
    states: dict[str, int]
    notifications_received: int
    overflowed: int
    background_statements: int
    first_delivery_s: float  # delivering the first cycle's notifications, before the steady cycles
    profile: str = ""


@contextmanager
def receiver() -> Iterator[tuple[str, list[int]]]:
    """A no-op HTTP receiver on loopback: answers 204 to every POST and counts them."""
    received = [0]

    class Handler(BaseHTTPRequestHandler):
        def do_POST(self) -> None:  # noqa: N802 (http.server's name)
            self.rfile.read(int(self.headers.get("Content-Length", "0")))
            received[0] += 1
            self.send_response(204)
            self.end_headers()

        def log_message(self, *_: Any) -> None:
            return

    server = ThreadingHTTPServer(("127.0.0.1", free_port()), Handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}/alarm", received
    finally:
        server.shutdown()
        server.server_close()


def run_scheduler(label: str, inner: Engine, specs: Sequence[AlarmSpec], start: int, cycles: int,
                  profile: bool, open_second: Callable[[], Engine] | None = None) -> EngineRun:
    """open_second opens the service's delivery-bookkeeping connection (the server), as `watchkeeper api` does."""
    from alarms.service import AlarmService, load_definition
    from watchkeeper.config.settings import AlarmsSettings, Settings
    from watchkeeper.storage.schema import migrate

    engine = CountingEngine(inner)
    simulated = [float(start)]  # the injected clock: one simulated minute per cycle
    # No settle wait on the first lease claim: it is a deliberate sleep, not work, and only on a leader change.
    settings = Settings(alarms=AlarmsSettings(lease_settle_s=0, queue_size=20_000))
    with receiver() as (url, received):
        bookkeeping: list[CountingEngine] = []

        def open_bookkeeping() -> Engine:
            assert open_second is not None
            bookkeeping.append(CountingEngine(open_second()))
            return bookkeeping[-1]

        service = AlarmService(settings, engine, clock=lambda: simulated[0], holder=f"bench-{label}",
                               open_bookkeeping_engine=open_bookkeeping if open_second is not None else None)
        service.start(evaluate=False)
        try:
            migrate(engine, settings)
            service.apply([load_definition(spec.body(url), "bench") for spec in specs], "bench")
            figures = []
            for number in range(cycles + 1):
                simulated[0] = start + 60 * number
                engine.reset()
                started = time.perf_counter()
                report = service.scheduler.run_cycle()
                wall = time.perf_counter() - started
                if report.errors:
                    raise RuntimeError(f"{label} cycle {number}: {report.errors[:3]}")
                figures.append(CycleFigures(wall, engine.reset(), report.evaluated, report.transitions))
                if number == 0:
                    # The first cycle queues thousands of notifications; delivering them (and the receiver
                    # answering, in this process) would hold the GIL through the steady cycles measured next.
                    drained = time.perf_counter()
                    wait_idle(service.dispatcher)
                    first_delivery_s = time.perf_counter() - drained
                    engine.reset()
            profiled = ""
            if profile:
                simulated[0] = start + 60 * (cycles + 1)
                profiler = cProfile.Profile()
                profiler.runcall(service.scheduler.run_cycle)
                profiled = hottest(profiler)
            states: dict[str, int] = {}
            for state in service.store.states().values():
                states[state.value] = states.get(state.value, 0) + 1
            wait_idle(service.dispatcher)
        finally:
            service.stop()
        return EngineRun(label, figures[0], figures[1:], states, received[0], service.dispatcher.overflowed,
                         engine.background + sum(e.background for e in bookkeeping), first_delivery_s, profiled)


def wait_idle(dispatcher: Dispatcher, limit_s: float = 300) -> None:
    """Until the dispatcher has delivered everything queued (at most limit_s)."""
    deadline = time.time() + limit_s
    while not dispatcher.idle() and time.time() < deadline:
        time.sleep(0.2)


def hottest(profiler: cProfile.Profile, lines: int = 12) -> str:
    text = io.StringIO()
    stats = pstats.Stats(profiler, stream=text)
    stats.sort_stats("cumulative").print_stats(r"(alarms|watchkeeper|pydantic|clickhouse_driver|chdb)", lines)
    return "\n".join(line for line in text.getvalue().splitlines()
                     if line.strip() and ("(" in line or "cumtime" in line))


# ----- prometheus --------------------------------------------------------------------------------------------


@dataclass
class PrometheusRun:
    version: str
    per_cycle_s: list[float]  # sum over groups of their last duration, once per interval
    slowest_group_s: float
    cpu_s_per_interval: float
    rule_p50_s: float
    rule_p99_s: float
    firing: int
    notes: list[str] = field(default_factory=list)


def write_rules(specs: Sequence[AlarmSpec], directory: Path, groups: int) -> None:
    directory.mkdir(parents=True)
    size = -(-len(specs) // groups)
    for number in range(groups):
        members = specs[number * size:(number + 1) * size]
        text = f"groups:\n- name: bench-{number:03d}\n  rules:\n" + "".join(spec.prom_rule() for spec in members)
        (directory / f"group-{number:03d}.yml").write_text(text)


def scrape(url: str) -> dict[str, float]:
    """Prometheus' own /metrics, as {'name{labels}': value}."""
    with urllib.request.urlopen(url, timeout=30) as response:
        text = response.read().decode()
    out = {}
    for line in text.splitlines():
        if line and not line.startswith("#"):
            key, _, value = line.rpartition(" ")
            out[key] = float(value)
    return out


def run_prometheus(specs: Sequence[AlarmSpec], openmetrics: Path, workdir: Path, groups: int,
                   minutes: float, data_end: int) -> PrometheusRun:
    version = subprocess.run(["prometheus", "--version"], capture_output=True, text=True, check=True)
    data = workdir / "prometheus-data"
    subprocess.run(["promtool", "tsdb", "create-blocks-from", "openmetrics", "--quiet", str(openmetrics), str(data)],
                   check=True, timeout=1800)
    write_rules(specs, workdir / "rules", groups)
    config = workdir / "prometheus.yml"
    config.write_text(f"global:\n  evaluation_interval: {PROM_INTERVAL_S}s\n"
                      f"rule_files:\n  - {workdir / 'rules'}/*.yml\n")
    port = free_port()
    log = (workdir / "prometheus.log").open("w")
    process = subprocess.Popen(["prometheus", f"--config.file={config}", f"--storage.tsdb.path={data}",
                                f"--web.listen-address=127.0.0.1:{port}", "--storage.tsdb.retention.time=30d"],
                               stdout=log, stderr=subprocess.STDOUT)
    url = f"http://127.0.0.1:{port}/metrics"
    try:
        first = wait_all_groups_evaluated(url, groups, process)
        ends = time.time() + minutes * 60 + PROM_INTERVAL_S
        if ends > data_end:
            raise RuntimeError(f"the data ends {ends - data_end:.0f} s before prometheus' run would: "
                               "raise --horizon-minutes")
        per_cycle, slowest = [], 0.0
        samples = [first]
        while time.time() < ends:
            time.sleep(PROM_INTERVAL_S)
            metrics = scrape(url)
            durations = [v for k, v in metrics.items() if k.startswith(PROM_PREFIX + "{")]
            per_cycle.append(sum(durations))
            slowest = max(slowest, *durations)
            samples.append(metrics)
        cpu = samples[-1]["process_cpu_seconds_total"] - samples[0]["process_cpu_seconds_total"]
        last = samples[-1]
        quantiles = {k: v for k, v in last.items() if k.startswith("prometheus_rule_evaluation_duration_seconds{")}
        notes = []
        log.flush()
        out_of_bounds = (workdir / "prometheus.log").read_text().count("out of bounds")
        if out_of_bounds:
            notes.append(f"prometheus logged {out_of_bounds} 'out of bounds' appends: its ALERTS series cannot be "
                         "written before the end of the backfilled blocks (the data reaches into the future)")
        failures = sum(v for k, v in last.items() if k.startswith("prometheus_rule_evaluation_failures_total"))
        if failures:
            notes.append(f"prometheus counted {failures:.0f} rule evaluation failures")
        return PrometheusRun(version.stdout.split("\n")[0], per_cycle, slowest,
                             cpu / (len(samples) - 1), quantile(quantiles, "0.5"), quantile(quantiles, "0.99"),
                             count_firing(port), notes)
    finally:
        process.terminate()
        process.wait(timeout=60)
        log.close()


def wait_all_groups_evaluated(url: str, groups: int, process: subprocess.Popen[bytes]) -> dict[str, float]:
    """/metrics once every group has finished an evaluation (blocks load and groups start staggered)."""
    deadline = time.time() + 600
    while time.time() < deadline:
        if process.poll() is not None:
            raise RuntimeError(f"prometheus exited with {process.returncode}; see its log")
        try:
            metrics = scrape(url)
        except OSError:
            time.sleep(1)
            continue
        evaluated = [v for k, v in metrics.items()
                     if k.startswith("prometheus_rule_group_last_evaluation_timestamp_seconds{") and v > 0]
        if len(evaluated) >= groups:
            return metrics
        time.sleep(1)
    raise RuntimeError("prometheus did not evaluate every rule group within 600 s")


def quantile(summary: dict[str, float], wanted: str) -> float:
    values = [v for k, v in summary.items() if f'quantile="{wanted}"' in k and not math.isnan(v)]
    return max(values) if values else float("nan")


def count_firing(port: int) -> int:
    import orjson

    with urllib.request.urlopen(f"http://127.0.0.1:{port}/api/v1/alerts", timeout=60) as response:
        alerts = orjson.loads(response.read())["data"]["alerts"]
    return sum(alert["state"] == "firing" for alert in alerts)


# ----- the run ------------------------------------------------------------------------------------------------


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--hosts", type=int, default=1000, help="hosts; ten series and ten alarms each")
    parser.add_argument("--hours", type=float, default=3.0, help="hours of one-minute data before the start")
    parser.add_argument("--horizon-minutes", type=int, default=40,
                        help="minutes of data after the start (prometheus evaluates at wall-clock time)")
    parser.add_argument("--cycles", type=int, default=10, help="steady cycles per engine after the first")
    parser.add_argument("--rule-groups", type=int, default=100)
    parser.add_argument("--prometheus-minutes", type=float, default=3.0)
    parser.add_argument("--no-chdb", action="store_true", help="only the ClickHouse server")
    add_record_flag(parser)
    args = parser.parse_args()

    from watchkeeper.storage.engine import EmbeddedEngine, ServerEngine

    database = run_id("alarms")
    start = int(time.time()) // 60 * 60
    data_end = start + args.horizon_minutes * 60
    series = fleet(args.hosts)
    specs = alarm_specs(series)
    load_average = os.getloadavg()
    with tempfile.TemporaryDirectory(prefix=database) as scratch:
        workdir = Path(scratch)
        host, port = SERVER.split(":")
        engines: list[tuple[str, Engine]] = [("ClickHouse 18.16 server", ServerEngine(host, int(port), database))]
        if not args.no_chdb:
            engines.append(("chdb", EmbeddedEngine(workdir / "chdb", database)))
        try:
            from watchkeeper.storage.schema import migrate

            for _, engine in engines:
                migrate(engine)
            loading = time.perf_counter()
            rows = load_data([e for _, e in engines], series, sample_times(start - int(args.hours * 3600), data_end),
                             workdir / "fleet.om")
            load_s = time.perf_counter() - loading
            runs = [run_scheduler(label, engine, specs, start + SAMPLE_OFFSET_S + 1, args.cycles, profile=index == 0,
                                  open_second=(lambda: ServerEngine(host, int(port), database)) if index == 0 else None)
                    for index, (label, engine) in enumerate(engines)]
        finally:
            engines[0][1].command(f"DROP DATABASE IF EXISTS {database}")
            for _, engine in engines:
                engine.close()
        prometheus = run_prometheus(specs, workdir / "fleet.om", workdir, args.rule_groups,
                                    args.prometheus_minutes, data_end)
    report(args, specs, rows, load_s, runs, prometheus, load_average)


def seconds(values: Sequence[float]) -> str:
    return f"p50 {percentile(values, 0.5):.2f} s, max {max(values):.2f} s"


def report(args: argparse.Namespace, specs: Sequence[AlarmSpec], rows: int, load_s: float, runs: Sequence[EngineRun],
           prometheus: PrometheusRun, load_before: tuple[float, float, float]) -> None:
    result = Result("Alarm evaluation cycle vs prometheus rules", command_line())
    result.figures += [
        ("data", f"{args.hosts:,} hosts x {len(METRICS)} CWAgent metrics, one datapoint a minute: {rows:,} datapoints "
                 f"per engine (written in {load_s:.0f} s to all engines)"),
        ("alarms", f"{len(specs):,} metric alarms (Average/Maximum/Minimum/Sum/p90, Period 60/300, M of N "
                   "1/1 2/3 3/5 3/3), actions enabled: AlarmActions POST to a local no-op receiver"),
        ("load average before the run", " / ".join(f"{v:.2f}" for v in load_before)),
    ]
    for run in runs:
        steady = [c.wall_s for c in run.steady]
        tallies = [c.tally for c in run.steady]
        p50 = percentile(steady, 0.5)
        result.figures += [
            (f"{run.label}: first cycle (every alarm leaves INSUFFICIENT_DATA)",
             f"{run.cold.wall_s:.2f} s, {run.cold.transitions:,} transitions, {run.cold.tally.statements} statements"),
            (f"{run.label}: the first cycle's notifications delivered (waited for before the steady cycles)",
             f"{run.first_delivery_s:.1f} s"),
            (f"{run.label}: steady cycle ({len(steady)} cycles)",
             f"{seconds(steady)} (target < {TARGET_S:g} s: {'met' if p50 < TARGET_S else 'MISSED'}); "
             f"transitions per cycle p50 {percentile([c.transitions for c in run.steady], 0.5):.0f}"),
            (f"{run.label}: statements per steady cycle",
             f"{max(t.statements for t in tallies)} max: {max(t.metric_reads for t in tallies)} metric reads, "
             f"{max(t.table_reads for t in tallies)} alarm-table reads, {max(t.writes for t in tallies)} writes"),
            (f"{run.label}: where a steady cycle's time goes (p50)",
             f"metric reads {percentile([t.metric_read_s for t in tallies], 0.5):.2f} s, alarm-table reads "
             f"{percentile([t.table_read_s for t in tallies], 0.5):.2f} s, writes "
             f"{percentile([t.write_s for t in tallies], 0.5):.2f} s, Python (evaluation, models) "
             f"{percentile([c.wall_s - c.tally.engine_s for c in run.steady], 0.5):.2f} s"),
            (f"{run.label}: states after the run, notifications",
             ", ".join(f"{k} {v:,}" for k, v in sorted(run.states.items()))
             + f"; {run.notifications_received:,} POSTs received, {run.overflowed} overflowed"),
        ]
    per_cycle = prometheus.per_cycle_s
    result.figures += [
        (f"prometheus {prometheus.version.split('version ')[-1].split()[0]}: rule evaluation per interval "
         f"(sum of {args.rule_groups} groups' last duration, {len(per_cycle)} samples)", seconds(per_cycle)),
        ("prometheus: slowest group, CPU per interval",
         f"{prometheus.slowest_group_s:.3f} s; {prometheus.cpu_s_per_interval:.2f} CPU s per {PROM_INTERVAL_S} s"),
        ("prometheus: one rule, p50 / p99", f"{prometheus.rule_p50_s * 1000:.2f} ms / {prometheus.rule_p99_s * 1000:.2f} ms"),
        ("prometheus: alerts firing", f"{prometheus.firing:,}"),
    ]
    prom_p50 = percentile(per_cycle, 0.5)
    for run in runs:
        ratio = percentile([c.wall_s for c in run.steady], 0.5) / prom_p50
        result.figures.append((f"ratio {run.label} steady cycle / prometheus rule evaluation (p50)", f"{ratio:.1f}"))
    result.notes += prometheus.notes
    result.notes += [
        "Scheduler cycles get their clock injected (one simulated minute per cycle, every alarm due); the lease "
        "settle wait is 0 (a deliberate sleep on a leader change, not work). Statements are those of the cycle's "
        "thread; the dispatcher's Action-history writes run beside it and are not counted in a cycle.",
        "Prometheus rules: the same window, statistic and threshold per alarm, M of N as "
        "`count_over_time((f(m{host=...}[P]) > T)[N*P:P]) >= M`; no Alertmanager. It does not replicate "
        "CloudWatch's evaluation range or missing-data rules, and writes no state anywhere but its own TSDB.",
        "Prometheus wall time is summed over groups that run concurrently: the work of one interval, comparable "
        "to one scheduler cycle; the scheduler's figures include ClickHouse round trips on a shared server.",
    ]
    if runs and runs[0].profile:
        result.notes.append("Profile of one steady cycle on the server (cumulative):\n\n```\n"
                            + runs[0].profile + "\n```")
    result.report(args.record)


if __name__ == "__main__":
    main()
