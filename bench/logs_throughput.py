"""File -> Kafka throughput of the agent's log tailer, beside rsyslog (imfile -> omkafka) on the same files.

For every case (line size x number of files) the files are written first (--mib MiB in
all, whole lines of exactly that size, cut from a realistic access log; see
_access_log.py) and are then left alone: this measures reading a backlog as fast as
possible, not following a writer. The lines cycle through a pool of POOL_MIB of distinct
text so generating them is cheap, while every 1 MiB batch is still distinct text for
the compressor.

Then, one after the other on the same files (in the page cache for both):
- the agent, as its own process: the production Tailer (default TailOptions, one
  glob over the directory) submitting into the production spool (fsync always) and
  Shipper.to_kafka (acks=all, idempotent, zstd: each envelope compressed once by the
  agent, docs/logs-agent.md). Timed from the tailer's start until every line was
  submitted and the spool holds nothing Kafka has not acknowledged; afterwards the
  topic is read back and its envelopes must hold every (file, offset) exactly once.
  Then, in the same process, a replay: the files are read again into the spool
  with the forwarder stopped (Kafka away), the peak RSS is reset, and the forwarder
  drains the whole backlog: its time and the peak RSS of the drain.
- rsyslogd (Debian's rsyslog + rsyslog-kafka) as its own process with its own config
  and work directory: imfile (inotify) on the same glob, omkafka with the same
  guarantees (acks=all, idempotence, zstd), one Kafka record per line, to its own
  topic on the same broker. Timed from its start until the topic's end offsets add
  up to every line.

CPU seconds (user + system) and peak RSS (VmHWM) are each process's own. The rest
of the machine's CPU use during each measurement (broker, this harness, other work
on the shared machine) is reported beside it.

    python bench/logs_throughput.py [--mib 500] [--line-bytes 100 1024] [--files 1 10] [--record]
"""

from __future__ import annotations

import argparse
import itertools
import json
import os
import shutil
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

import psutil

from _access_log import fixed_size_lines
from _common import (REPO, Result, add_record_flag, command_line, cpu_seconds, delete_topics, peak_rss_bytes,
                     run_id)

if TYPE_CHECKING:
    from watchkeeper.wire import Envelope

MIB = 2**20
POOL_MIB = 16
TARGET_MIB_S = 50.0
VECTOR_MIB_S = 76.7
# A measurement is abandoned when nothing new arrived for this long (lost lines never arrive).
STALL_S = 60.0
POLL_S = 0.1
RSYSLOG_TOPIC = "rsyslog"
PROFILE_HZ = 250
PROFILE_LINES = 12


@dataclass(frozen=True)
class Case:
    line_bytes: int
    files: int
    lines: int

    @property
    def name(self) -> str:
        return f"{self.line_bytes}b_{self.files}f"

    @property
    def mib(self) -> float:
        return self.lines * self.line_bytes / MIB


@dataclass(frozen=True)
class Measurement:
    seconds: float
    cpu_s: float
    peak_rss: int
    lines_delivered: int
    others_cores: float
    """CPU the rest of the machine used during the measurement, in cores (0..2 here)."""

    def mib_s(self, case: Case) -> float:
        return self.lines_delivered * case.line_bytes / MIB / self.seconds

    def mib_per_cpu_s(self, case: Case) -> float:
        """Throughput per CPU second: less sensitive than MiB/s to what else the shared machine runs."""
        return self.lines_delivered * case.line_bytes / MIB / self.cpu_s

    def lines_s(self) -> float:
        return self.lines_delivered / self.seconds


def write_files(directory: Path, line_bytes: int, files: int, total_mib: int) -> Case:
    """files files of whole line_bytes lines, total_mib MiB in all; returns the case with its line count."""
    pool = list(itertools.islice(fixed_size_lines(line_bytes), POOL_MIB * MIB // line_bytes))
    per_file = total_mib * MIB // line_bytes // files
    source = itertools.cycle(pool)
    directory.mkdir(parents=True)
    for index in range(files):
        with (directory / f"app-{index:02d}.log").open("wb") as out:
            left = per_file
            while left:
                chunk = min(left, 100_000)
                out.write(b"".join(itertools.islice(source, chunk)))
                left -= chunk
    return Case(line_bytes, files, per_file * files)


class MachineMeter:
    """Busy CPU seconds of the whole machine, to tell what everyone else used while a subject ran."""

    def __init__(self) -> None:
        self._busy0 = self._busy()
        self._started = time.monotonic()

    @staticmethod
    def _busy() -> float:
        times = psutil.cpu_times()
        return float(sum(times) - times.idle - getattr(times, "iowait", 0.0))

    def others_cores(self, subject_cpu_s: float) -> float:
        elapsed = time.monotonic() - self._started
        return max(0.0, (self._busy() - self._busy0 - subject_cpu_s) / elapsed)


# ----- the agent ------------------------------------------------------------------------------------------


REPLAY_SUFFIX = "_replay"


class AgentUnderTest:
    """The production spool and shipper, and tailers submitting into them, counting the lines submitted."""

    def __init__(self, state: Path, prefix: str) -> None:
        from agent.shipper import Shipper
        from watchkeeper.config.settings import KafkaSettings, SpoolSettings
        from watchkeeper.transport.spool import Spool

        spool_settings = SpoolSettings()
        self.state = state
        self.spool = Spool(state / "spool", spool_settings.max_bytes, spool_settings.segment_bytes,
                           spool_settings.fsync)
        self.settings = KafkaSettings(topic_prefix=prefix)
        self.shipper = Shipper.to_kafka(self.spool, self.settings)
        self.submitted = 0

    def submit(self, envelope: Envelope) -> int:
        sequence = self.shipper.submit(envelope)
        self.submitted += sum(len(item["offsets"]) for item in envelope.items)
        return sequence

    def tail(self, data: Path) -> tuple[threading.Event, threading.Thread]:
        from agent.logs.options import TailOptions
        from agent.logs.spec import TailSpec
        from agent.logs.tailer import Tailer

        spec = TailSpec(file_path=str(data / "*.log"), log_group="bench", log_stream="throughput")
        tailer = Tailer([spec], self.submit, self.state / "offsets", agent_id="bench-agent", host="bench-host",
                        options=TailOptions())
        stop = threading.Event()
        thread = threading.Thread(target=tailer.run, args=(stop,), name="tailer")
        thread.start()
        return stop, thread

    def wait_until(self, done: Callable[[], bool], expected_lines: int) -> None:
        """Until done(); exits when neither submitting nor shipping made progress for STALL_S."""
        progress, last_progress = (0, 0), time.monotonic()
        while not done():
            time.sleep(POLL_S / 2)
            if (self.submitted, self.spool.pending_entries) != progress:
                progress, last_progress = (self.submitted, self.spool.pending_entries), time.monotonic()
            elif time.monotonic() - last_progress > STALL_S:
                sys.exit(f"the agent made no progress for {STALL_S:.0f} s: {self.submitted:,} of "
                         f"{expected_lines:,} lines submitted, shipper {self.shipper.stats()}")

    def close(self) -> None:
        self.shipper.stop(flush_timeout=10)
        self.spool.close()


def run_agent(data: Path, state: Path, prefix: str, expected_lines: int) -> None:
    """The agent process: tail the directory into Kafka until every line is acknowledged; then the replay.

    Prints one JSON line: the timing, and the replay's backlog, drain time and peak RSS.
    """
    agent = AgentUnderTest(state / "live", prefix)
    cpu0 = cpu_seconds(os.getpid())
    started = time.monotonic()
    agent.shipper.start()
    stop, tail_thread = agent.tail(data)
    agent.wait_until(lambda: agent.submitted >= expected_lines and agent.spool.pending_entries == 0, expected_lines)
    seconds = time.monotonic() - started
    cpu_s = cpu_seconds(os.getpid()) - cpu0
    peak_rss = peak_rss_bytes(os.getpid())
    stop.set()
    tail_thread.join()
    agent.close()

    # The replay, to its own spool and topics: the files spooled with the forwarder stopped, then drained at once.
    replay = AgentUnderTest(state / "replay", prefix + REPLAY_SUFFIX)
    stop, tail_thread = replay.tail(data)
    replay.wait_until(lambda: replay.submitted >= expected_lines, expected_lines)
    stop.set()
    tail_thread.join()
    backlog = replay.spool.pending_bytes
    Path(f"/proc/{os.getpid()}/clear_refs").write_text("5")  # resets VmHWM to the current RSS
    drain_started = time.monotonic()
    replay.shipper.start()
    replay.wait_until(lambda: replay.spool.pending_entries == 0, expected_lines)
    drained = {"backlog_bytes": backlog, "seconds": time.monotonic() - drain_started,
               "peak_rss": peak_rss_bytes(os.getpid()), "max_in_flight_bytes": replay.settings.max_in_flight_bytes}
    replay.close()
    print(json.dumps({"seconds": seconds, "cpu_s": cpu_s, "peak_rss": peak_rss, "submitted": agent.submitted,
                      "shipper": agent.shipper.stats(), "replay": drained}, default=str), flush=True)


def ship_directory(data: Path, state: Path, prefix: str, lines: int, profile: Path | None = None) -> dict[str, Any]:
    """Run an agent process shipping every *.log of data into <prefix>.logs; its report (timing, CPU, RSS)."""
    from watchkeeper.config.settings import KafkaSettings
    from watchkeeper.transport.kafka import ensure_topics

    for topics in (prefix, prefix + REPLAY_SUFFIX):
        ensure_topics(KafkaSettings(topic_prefix=topics), ["logs"])
    command = [sys.executable, __file__, "--run-agent", "--data", str(data), "--state", str(state),
               "--prefix", prefix, "--expected-lines", str(lines)]
    if profile is not None:
        command = ["py-spy", "record", "--format", "raw", "--rate", str(PROFILE_HZ), "-o", str(profile), "--",
                   *command]
    finished = subprocess.run(command, capture_output=True, text=True, timeout=3600)
    if finished.returncode != 0:
        sys.exit(f"the agent process failed:\n{finished.stderr}")
    # The last JSON line: py-spy, when profiling, writes its own lines after it.
    report: dict[str, Any] = json.loads([line for line in finished.stdout.splitlines() if line.startswith("{")][-1])
    return report


def measure_agent(case: Case, data: Path, scratch: Path, prefix: str,
                  profile: Path | None) -> tuple[Measurement, dict[str, Any]]:
    """The live measurement, and the agent's report (shipper stats, the replay)."""
    meter = MachineMeter()
    report = ship_directory(data, scratch / "agent-state", prefix, case.lines, profile)
    others = meter.others_cores(report["cpu_s"])
    delivered = lines_in_envelopes(prefix, case.lines)
    lines_in_envelopes(prefix + REPLAY_SUFFIX, case.lines)
    return Measurement(report["seconds"], report["cpu_s"], report["peak_rss"], delivered, others), report


def lines_in_envelopes(prefix: str, expected: int) -> int:
    """Read the agent's topic back: the number of distinct (file, offset) events; duplicates are an error."""
    from kafka import KafkaConsumer, TopicPartition

    from watchkeeper.config.settings import KafkaSettings
    from watchkeeper.transport.kafka import API_VERSION
    from watchkeeper.wire import decode

    topic = KafkaSettings(topic_prefix=prefix).topic("logs")
    consumer = KafkaConsumer(bootstrap_servers="127.0.0.1:9092", api_version=API_VERSION,
                             enable_auto_commit=False, fetch_max_bytes=64 * MIB)
    partitions = [TopicPartition(topic, p) for p in consumer.partitions_for_topic(topic) or ()]
    consumer.assign(partitions)
    consumer.seek_to_beginning()
    ends = consumer.end_offsets(partitions)
    seen: set[tuple[str, int]] = set()
    events = 0
    while any(consumer.position(p) < ends[p] for p in partitions):
        for records in consumer.poll(timeout_ms=1000).values():
            for record in records:
                for item in decode(record.value).items:
                    events += len(item["offsets"])
                    seen.update((item["file_id"], offset) for offset in item["offsets"])
    consumer.close()
    if events != len(seen):
        sys.exit(f"the agent's topic {topic} holds {events - len(seen)} duplicate events")
    if len(seen) != expected:
        sys.exit(f"the agent's topic {topic} holds {len(seen)} distinct events; the files have {expected} lines")
    return len(seen)


# ----- rsyslog --------------------------------------------------------------------------------------------


def rsyslog_config(work: Path, data: Path, topic: str) -> str:
    """imfile on the glob -> omkafka with the agent's delivery settings, one record per line (the message).

    resubmitOnFailure: without it omkafka drops a line that librdkafka's local queue refuses when
    full ("Local: Queue full"), which a backlog read at full speed reaches; a first run lost lines so.
    """
    return f"""
global(workDirectory="{work}" maxMessageSize="64k")
module(load="imfile" mode="inotify")
module(load="omkafka")
template(name="message_only" type="string" string="%msg%")
ruleset(name="to_kafka") {{
  action(type="omkafka" broker=["127.0.0.1:9092"] topic="{topic}" template="message_only" partitions.auto="on"
         resubmitOnFailure="on" confParam=["compression.codec=zstd", "acks=all", "enable.idempotence=true"])
}}
input(type="imfile" File="{data}/*.log" Tag="bench" ruleset="to_kafka" freshStartTail="off" addMetadata="off")
"""


def measure_rsyslog(case: Case, data: Path, scratch: Path, prefix: str, rsyslogd: str) -> Measurement:
    from kafka import KafkaConsumer, TopicPartition

    from watchkeeper.config.settings import KafkaSettings
    from watchkeeper.transport.kafka import API_VERSION, ensure_topics

    settings = KafkaSettings(topic_prefix=prefix)
    ensure_topics(settings, [RSYSLOG_TOPIC])
    topic = settings.topic(RSYSLOG_TOPIC)
    work = scratch / "rsyslog"
    work.mkdir()
    config = work / "rsyslog.conf"
    config.write_text(rsyslog_config(work, data, topic))
    consumer = KafkaConsumer(bootstrap_servers="127.0.0.1:9092", api_version=API_VERSION)
    partitions = [TopicPartition(topic, p) for p in consumer.partitions_for_topic(topic) or ()]
    meter = MachineMeter()
    started = time.monotonic()
    process = subprocess.Popen([rsyslogd, "-n", "-f", str(config), "-i", str(work / "rsyslogd.pid")],
                               stdout=subprocess.DEVNULL, stderr=(work / "rsyslogd.err").open("wb"))
    try:
        delivered, last_growth = 0, started
        while delivered < case.lines and time.monotonic() - last_growth < STALL_S:
            time.sleep(POLL_S)
            now_delivered = sum(consumer.end_offsets(partitions).values())
            if now_delivered > delivered:
                delivered, last_growth = now_delivered, time.monotonic()
        seconds = last_growth - started
        cpu_s = cpu_seconds(process.pid)
        rss = peak_rss_bytes(process.pid)
    finally:
        process.terminate()
        process.wait(timeout=60)
        consumer.close()
    return Measurement(seconds, cpu_s, rss, delivered, meter.others_cores(cpu_s))


# ----- the run --------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class CaseResult:
    case: Case
    agent: Measurement
    rsyslog: Measurement
    report: dict[str, Any]
    """The agent process's own report: shipper stats and the replay."""
    load: float
    hotspots: str


def run_case(line_bytes: int, files: int, total_mib: int, rsyslogd: str, profile: bool) -> CaseResult:
    prefix = run_id("logs")
    load = os.getloadavg()[0]
    with tempfile.TemporaryDirectory(prefix="bench-logs-") as scratch_name:
        scratch = Path(scratch_name)
        data = scratch / "data"
        case = write_files(data, line_bytes, files, total_mib)
        print(f"{case.name}: {case.lines:,} lines, {case.mib:.0f} MiB; load average {load:.2f}",
              flush=True)
        profile_path = scratch / "agent.pyspy" if profile else None
        try:
            agent, report = measure_agent(case, data, scratch, f"{prefix}_agent", profile_path)
            print(f"  agent {agent.mib_s(case):.1f} MiB/s", flush=True)
            rsyslog = measure_rsyslog(case, data, scratch, f"{prefix}_rsyslog", rsyslogd)
            print(f"  rsyslog {rsyslog.mib_s(case):.1f} MiB/s", flush=True)
        finally:
            delete_topics(f"{prefix}_agent")
            delete_topics(f"{prefix}_agent{REPLAY_SUFFIX}")
            delete_topics(f"{prefix}_rsyslog")
        hotspots = profile_summary(profile_path) if profile_path else ""
    return CaseResult(case, agent, rsyslog, report, load, hotspots)


def profile_summary(path: Path) -> str:
    """From py-spy's raw stacks: the functions with the largest share of samples, inclusive and own."""
    inclusive: dict[str, int] = {}
    own: dict[str, int] = {}
    total = 0
    for line in path.read_text().splitlines():
        stack, _, count_text = line.rpartition(" ")
        count = int(count_text)
        # "function (file:line)" -> "function (file)": one entry per function, whatever line was sampled.
        frames = [frame.rsplit(":", 1)[0] + ")" for frame in stack.split(";")]
        total += count
        own[frames[-1]] = own.get(frames[-1], 0) + count
        for frame in set(frames):
            inclusive[frame] = inclusive.get(frame, 0) + count

    def top(shares: dict[str, int]) -> list[str]:
        ranked = sorted(shares.items(), key=lambda item: item[1], reverse=True)[:PROFILE_LINES]
        return [f"{count / total:6.1%}  {frame.replace(str(REPO) + '/', '')}" for frame, count in ranked]

    return "\n".join(["inclusive:", *top(inclusive), "own:", *top(own)])


def describe(case: Case, measured: Measurement) -> str:
    lost = case.lines - measured.lines_delivered
    text = (f"{measured.mib_s(case):.1f} MiB/s, {measured.lines_s():,.0f} lines/s ({measured.seconds:.1f} s); "
            f"CPU {measured.cpu_s:.1f} s ({measured.cpu_s / measured.seconds:.2f} cores, "
            f"{measured.mib_per_cpu_s(case):.1f} MiB per CPU s); "
            f"peak RSS {measured.peak_rss / MIB:.0f} MiB; rest of machine {measured.others_cores:.2f} cores")
    return text + (f"; {lost:,} LINES MISSING after {STALL_S:.0f} s without progress" if lost else "")


def main() -> None:
    from agent.logs.options import TailOptions

    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--mib", type=int, default=500, help="MiB of lines per case (split over its files)")
    parser.add_argument("--line-bytes", type=int, nargs="+", default=[100, 1024])
    parser.add_argument("--files", type=int, nargs="+", default=[1, 10])
    parser.add_argument("--run-agent", action="store_true", help=argparse.SUPPRESS)
    parser.add_argument("--data", type=Path, help=argparse.SUPPRESS)
    parser.add_argument("--state", type=Path, help=argparse.SUPPRESS)
    parser.add_argument("--prefix", help=argparse.SUPPRESS)
    parser.add_argument("--expected-lines", type=int, help=argparse.SUPPRESS)
    parser.add_argument("--profile", action="store_true", help="sample the agent with py-spy (pip install py-spy)")
    add_record_flag(parser)
    args = parser.parse_args()
    if args.run_agent:
        run_agent(args.data, args.state, args.prefix, args.expected_lines)
        return
    rsyslogd = shutil.which("rsyslogd")
    if rsyslogd is None:
        sys.exit("rsyslogd not found: apt-get install -y rsyslog rsyslog-kafka")
    result = Result("Logs: file -> Kafka throughput vs rsyslog", command_line())
    load_before = os.getloadavg()
    results = [run_case(line_bytes, files, args.mib, rsyslogd, args.profile)
               for line_bytes, files in itertools.product(args.line_bytes, args.files)]
    result.notes.append(f"Files pre-written before each case (a backlog read at full speed, not a live writer); "
                        f"the agent runs first, then rsyslog, on the same files. Load average (1/5/15 min) at "
                        f"the start: {load_before[0]:.2f} / {load_before[1]:.2f} / {load_before[2]:.2f}. The "
                        f"agent's batches are its default, {TailOptions().batch_max_bytes // 1024} KiB of messages.")
    for done in results:
        case = done.case
        label = f"{case.line_bytes} B lines, {case.files} file{'s' if case.files > 1 else ''}, {case.mib:.0f} MiB"
        result.figures += [
            (f"{label}: agent", describe(case, done.agent)),
            (f"{label}: rsyslog imfile -> omkafka", describe(case, done.rsyslog)),
            (f"{label}: ratio agent / rsyslog (MiB/s; MiB per CPU s)",
             f"{done.agent.mib_s(case) / done.rsyslog.mib_s(case):.2f}; "
             f"{done.agent.mib_per_cpu_s(case) / done.rsyslog.mib_per_cpu_s(case):.2f}"),
        ]
        shipper, replay = done.report["shipper"], done.report["replay"]
        result.notes.append(f"{label}: load average (1 min) at its start {done.load:.2f}; the agent sent "
                            f"{shipper['batches_sent']} envelopes ({shipper['send_failures']} failed attempts, "
                            f"retried). Replay of the same files spooled while the forwarder was stopped: "
                            f"{replay['backlog_bytes'] / MIB:.0f} MiB of spool drained in {replay['seconds']:.1f} s, "
                            f"peak RSS of the drain {replay['peak_rss'] / MIB:.0f} MiB (max_in_flight_bytes "
                            f"{replay['max_in_flight_bytes'] // MIB} MiB).")
        if done.hotspots:
            result.notes.append(f"{label}: where the agent's active threads spent their samples (py-spy record "
                                f"--rate {PROFILE_HZ}; the run above was taken under it):\n\n"
                                + "\n".join(f"      {line}" for line in done.hotspots.splitlines()))
    agent_rates = [done.agent.mib_s(done.case) for done in results]
    ahead = sum(done.agent.mib_s(done.case) > done.rsyslog.mib_s(done.case) for done in results)
    met = min(agent_rates) >= TARGET_MIB_S and ahead == len(results)
    result.notes.append(f"Target (>= {TARGET_MIB_S:.0f} MiB/s in every case, and ahead of rsyslog): "
                        f"{'met' if met else 'MISSED'} (slowest case {min(agent_rates):.1f} MiB/s; ahead of rsyslog "
                        f"in {ahead} of {len(results)} cases). Vector's published file -> TCP figure on 2 vCPUs: "
                        f"{VECTOR_MIB_S} MiB/s.")
    result.report(args.record)


if __name__ == "__main__":
    main()
