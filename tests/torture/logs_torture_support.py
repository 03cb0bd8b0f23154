"""The parts of the log shipping torture tests: producer, nemesis helpers and oracle.

- Writers append sequence-numbered lines (writer id + seq + padding) to their own
  file and rotate it, by rename and by copytruncate, at random line numbers.
- An `AgentGate` reads the agent's documented offsets state file: before a
  rotation the writer waits until the agent knows the file (rename) or has
  durably handed on every byte of it (copytruncate). That is what a tailer can
  promise at all: a file created and rotated away while the agent is down was
  never seen, and lines truncated away before they were read are gone (the
  copytruncate race that logrotate's own documentation accepts).
- `Service` is a watchkeeper subprocess the nemesis crashes (SIGKILL) and restarts.
- `judge` is the oracle: every (writer, seq) exactly once, and increasing seqs by
  byte offset within each file identity.
"""

from __future__ import annotations

import os
import random
import re
import shutil
import signal
import subprocess
import sys
import threading
import time
from collections import Counter, defaultdict
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Literal

import orjson

from agent.logs.offsets import Checkpoint

GATE_LIMIT_S = 240.0
"""Bounds a writer's wait for the agent (it may be restarting on a loaded machine); only a hang hits it."""

LINE_PATTERN = re.compile(r"writer=(\d+) seq=(\d+) ")
TIMESTAMP_FORMAT = "%Y-%m-%dT%H:%M:%S"
PADDING = "x" * 60

RotationKind = Literal["rename", "copytruncate"]


def lines_of(writer: int, first: int, count: int) -> bytes:
    """count log lines; the parsed timestamp keeps a re-read line in the same ClickHouse partition."""
    stamp = time.strftime(TIMESTAMP_FORMAT)
    return "".join(f"{stamp} INFO writer={writer} seq={seq:07d} {PADDING}\n"
                   for seq in range(first, first + count)).encode()


def settle(condition: Callable[[], bool], what: str, limit_s: float, interval_s: float = 0.1) -> None:
    """Wait until condition() holds; the limit only bounds a hung run, it is not a speed assertion."""
    deadline = time.monotonic() + limit_s
    while not condition():
        if time.monotonic() > deadline:
            raise TimeoutError(f"gave up after {limit_s:.0f}s waiting for: {what}")
        time.sleep(interval_s)


def settle_growth(measure: Callable[[], int], target: int, stall_s: float, interval_s: float) -> int:
    """Wait until measure() reaches target or stops growing for stall_s; return the last value.

    Lines still in flight keep the count growing; a count that stands still short of the
    target means lines are missing, and the oracle then names them (no need to wait longer).
    """
    value = measure()
    last_growth = time.monotonic()
    while value < target and time.monotonic() - last_growth < stall_s:
        time.sleep(interval_s)
        now = measure()
        if now > value:
            last_growth = time.monotonic()
        value = now
    return value


# --- the agent's view of a file --------------------------------------------------------------


@dataclass(frozen=True)
class AgentGate:
    """What the agent's offsets state file (docs/logs-agent.md) says about a file on disk."""

    state_file: Path

    def _checkpoints(self) -> list[Checkpoint]:
        try:
            data = orjson.loads(self.state_file.read_bytes())
        except (FileNotFoundError, orjson.JSONDecodeError):
            return []
        return [Checkpoint.from_json(file_id, entry) for file_id, entry in data["files"].items()]

    def _offset_of(self, path: Path) -> tuple[int, int] | None:
        """(saved offset, current size) of the checkpoint naming this very file, or None."""
        fd = os.open(path, os.O_RDONLY)
        try:
            stat = os.fstat(fd)
            for checkpoint in self._checkpoints():
                if checkpoint.identity.matches(fd, stat):
                    return checkpoint.offset, stat.st_size
            return None
        finally:
            os.close(fd)

    def knows(self, path: Path) -> bool:
        """The agent saved this file's identity: after a crash it finds the file again among rotations."""
        return self._offset_of(path) is not None

    def caught_up(self, path: Path) -> bool:
        """Every byte of the file is durably handed on (spool or Kafka)."""
        found = self._offset_of(path)
        return found is not None and found[0] == found[1]


# --- the producer ------------------------------------------------------------------------


@dataclass(frozen=True)
class Rotation:
    at_seq: int
    kind: RotationKind


def rotation_plan(rng: random.Random, lines: int, renames: int, copytruncates: int) -> list[Rotation]:
    """Rotations at random, distinct line numbers between 5 % and 95 % of the run, kinds shuffled."""
    rename: list[RotationKind] = ["rename"]
    copytruncate: list[RotationKind] = ["copytruncate"]
    kinds = rename * renames + copytruncate * copytruncates
    rng.shuffle(kinds)
    at = sorted(rng.sample(range(lines // 20, lines - lines // 20), len(kinds)))
    return [Rotation(seq, kind) for seq, kind in zip(at, kinds)]


@dataclass
class Pace:
    """How fast writers write; the nemesis switches to bursts to crash the agent under heavy writing."""

    chunk_lines: int = 200
    pause_s: float = 0.4
    burst_pause_s: float = 0.01
    burst: threading.Event = field(default_factory=threading.Event)

    def wait(self) -> None:
        time.sleep(self.burst_pause_s if self.burst.is_set() else self.pause_s)


class Writer(threading.Thread):
    """Appends writer=<index> seq=0..lines-1 to w<index>.log, rotating it as planned."""

    def __init__(self, index: int, directory: Path, lines: int, plan: list[Rotation], pace: Pace,
                 gate: AgentGate) -> None:
        super().__init__(name=f"writer-{index}", daemon=True)
        self.index = index
        self.path = directory / f"w{index}.log"
        self.lines = lines
        self.plan = plan
        self.pace = pace
        self.gate = gate
        self.written = 0
        self.rotations_done: list[str] = []
        self.error: BaseException | None = None

    def run(self) -> None:
        try:
            self._write_all()
        except BaseException as error:  # reported by the test: a writer that dies must fail it loudly
            self.error = error

    def _open(self) -> int:
        return os.open(self.path, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o644)

    def _write(self, fd: int, count: int) -> None:
        os.write(fd, lines_of(self.index, self.written, count))
        self.written += count

    def _write_all(self) -> None:
        fd = self._open()
        pending = list(self.plan)
        in_current_file = 0
        while self.written < self.lines:
            # Never rotate an empty file: the agent gives an empty file no identity yet, so the gate would wait.
            if pending and pending[0].at_seq <= self.written and in_current_file:
                fd = self._rotate(fd, pending.pop(0))
                in_current_file = 0
                continue
            next_stop = pending[0].at_seq if pending else self.lines
            count = min(self.pace.chunk_lines, self.lines - self.written, max(next_stop - self.written, 1))
            self._write(fd, count)
            in_current_file += count
            self.pace.wait()
        os.close(fd)

    def _rotate(self, fd: int, rotation: Rotation) -> int:
        number = len(self.rotations_done) + 1
        if rotation.kind == "rename":
            settle(lambda: self.gate.knows(self.path), f"agent knows {self.path}", GATE_LIMIT_S)
            os.rename(self.path, f"{self.path}.{number}")
            # As an application does until it is told to reopen: it still writes to the renamed file.
            self._write(fd, min(self.pace.chunk_lines, self.lines - self.written))
            os.close(fd)
            fd = self._open()
        else:
            # logrotate's copytruncate: lines written between copy and truncate are lost in every
            # tailer, so the writer pauses until the agent handed on all of the file, then copies and truncates.
            settle(lambda: self.gate.caught_up(self.path), f"agent caught up with {self.path}", GATE_LIMIT_S)
            shutil.copyfile(self.path, f"{self.path}.{number}.copy")
            os.ftruncate(fd, 0)
        self.rotations_done.append(rotation.kind)
        return fd


@dataclass
class WritingRun:
    """All writers of one test, their shared pace and the seed that reproduces their rotation plans."""

    directory: Path
    writers_count: int
    lines_per_writer: int
    gate: AgentGate
    seed: int
    renames: int = 3
    copytruncates: int = 3
    pace: Pace = field(default_factory=Pace)
    writers: list[Writer] = field(init=False)

    def __post_init__(self) -> None:
        rng = random.Random(self.seed)
        self.writers = [
            Writer(i, self.directory, self.lines_per_writer,
                   rotation_plan(rng, self.lines_per_writer, self.renames, self.copytruncates), self.pace, self.gate)
            for i in range(self.writers_count)]

    @property
    def total(self) -> int:
        return self.writers_count * self.lines_per_writer

    def progress(self) -> float:
        return sum(w.written for w in self.writers) / self.total

    def start(self) -> None:
        for writer in self.writers:
            writer.start()

    def until(self, fraction: float) -> None:
        """Block until the writers wrote this fraction of all lines (the nemesis acts by progress, not clock)."""
        settle(lambda: self.progress() >= fraction or bool(self.failed()), f"{fraction:.0%} written", 600)

    def failed(self) -> str:
        return "; ".join(f"{w.name}: {w.error!r}" for w in self.writers if w.error is not None)

    def join(self) -> None:
        for writer in self.writers:
            writer.join()
        assert not self.failed(), f"writer failed (seed {self.seed}): {self.failed()}"
        for writer in self.writers:
            assert len(writer.rotations_done) == self.renames + self.copytruncates, writer.rotations_done

    def crash_while_writing_hard(self, crash: Callable[[], None]) -> None:
        """Let the writers burst at full speed, crash in the middle of it, then calm down again."""
        self.pace.burst.set()
        time.sleep(0.5)
        try:
            crash()
        finally:
            self.pace.burst.clear()


# --- processes the nemesis crashes ----------------------------------------------------------


def watchkeeper_cli(*args: str | Path) -> list[str]:
    return [sys.executable, "-m", "watchkeeper.cli", *map(str, args)]


class Service:
    """A watchkeeper subprocess; its output (every incarnation) goes to one log file."""

    def __init__(self, name: str, argv: list[str], output: Path, ready: Callable[[], bool] | None = None) -> None:
        self.name = name
        self.argv = argv
        self.output = output
        self.ready = ready
        self.process: subprocess.Popen[bytes] | None = None
        self.crashes = 0

    def start(self) -> None:
        with self.output.open("ab") as out:
            self.process = subprocess.Popen(self.argv, stdin=subprocess.DEVNULL, stdout=out, stderr=subprocess.STDOUT)
        if self.ready is not None:
            settle(lambda: self._alive_or_fail() and self.ready is not None and self.ready(),
                   f"{self.name} ready", 180, 0.2)

    def _alive_or_fail(self) -> bool:
        assert self.process is not None
        if self.process.poll() is not None:
            raise AssertionError(f"{self.name} exited {self.process.returncode}:\n{self.tail()}")
        return True

    def crash_and_restart(self) -> None:
        """SIGKILL (no flush, no offsets saved, spool segment torn mid-write) and start again."""
        assert self.process is not None
        self._alive_or_fail()
        self.process.send_signal(signal.SIGKILL)
        self.process.wait()
        self.crashes += 1
        self.start()

    def stop(self) -> int | None:
        """SIGTERM and wait for the clean stop; returns the exit code (None if it was not running)."""
        if self.process is None or self.process.poll() is not None:
            return None if self.process is None else self.process.returncode
        self.process.send_signal(signal.SIGTERM)
        try:
            return self.process.wait(timeout=120)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait()
            raise AssertionError(f"{self.name} did not stop within 120s:\n{self.tail()}") from None

    def tail(self, lines: int = 40) -> str:
        try:
            return "\n".join(self.output.read_text(errors="replace").splitlines()[-lines:])
        except FileNotFoundError:
            return "(no output)"


# --- the oracle ----------------------------------------------------------------------------


@dataclass
class Verdict:
    """What the stored events say against what the writers wrote."""

    stored: int = 0
    raw_rows: int = 0
    missing: dict[int, list[int]] = field(default_factory=dict)
    duplicated: dict[tuple[int, int], int] = field(default_factory=dict)
    out_of_order: list[str] = field(default_factory=list)
    foreign: list[str] = field(default_factory=list)

    @property
    def folded(self) -> int:
        """Raw rows that FINAL folded away (copies of a re-read or redelivered line; merges may fold more)."""
        return self.raw_rows - self.stored

    def problems(self) -> list[str]:
        found = []
        for writer, seqs in sorted(self.missing.items()):
            found.append(f"writer {writer}: {len(seqs)} lines missing, first {_ranges(seqs)[:10]}")
        if self.duplicated:
            sample = sorted(self.duplicated.items())[:10]
            found.append(f"{len(self.duplicated)} lines stored more than once after FINAL, e.g. {sample}")
        found += self.out_of_order[:10]
        found += [f"not written by any writer: {text!r}" for text in self.foreign[:5]]
        return found

    def summary(self) -> str:
        return f"{self.stored} events stored exactly once; FINAL folded {self.folded} raw duplicate rows"


def _ranges(values: list[int]) -> list[str]:
    """[1, 2, 3, 7] -> ['1-3', '7']: missing lines usually go in runs, and a run names the cause."""
    out: list[str] = []
    start = previous = values[0]
    for value in values[1:] + [-1]:
        if value != previous + 1:
            out.append(f"{start}-{previous}" if previous != start else str(start))
            start = value
        previous = value
    return out


def judge(rows: Iterable[tuple[str, int, str]], raw_rows: int, writers: int, lines_per_writer: int) -> Verdict:
    """rows are (file_id, file_offset, message) as read with FINAL; raw_rows the count without FINAL."""
    verdict = Verdict(raw_rows=raw_rows)
    seen: Counter[tuple[int, int]] = Counter()
    by_file: dict[str, list[tuple[int, int, int]]] = defaultdict(list)
    for file_id, offset, message in rows:
        verdict.stored += 1
        match = LINE_PATTERN.search(message)
        if match is None:
            verdict.foreign.append(message)
            continue
        writer, seq = int(match.group(1)), int(match.group(2))
        seen[(writer, seq)] += 1
        by_file[file_id].append((offset, writer, seq))
    for writer in range(writers):
        missing = [seq for seq in range(lines_per_writer) if (writer, seq) not in seen]
        if missing:
            verdict.missing[writer] = missing
    verdict.duplicated = {key: count for key, count in seen.items() if count > 1}
    for file_id, events in sorted(by_file.items()):
        events.sort()
        for (offset_a, writer_a, seq_a), (offset_b, writer_b, seq_b) in zip(events, events[1:]):
            if writer_b != writer_a or seq_b <= seq_a:
                verdict.out_of_order.append(
                    f"file {file_id}: offset {offset_a} holds writer={writer_a} seq={seq_a} but the later offset "
                    f"{offset_b} holds writer={writer_b} seq={seq_b}")
                break
    return verdict
