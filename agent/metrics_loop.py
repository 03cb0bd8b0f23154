"""The host-metrics loop: collect on interval boundaries, one envelope per cycle, never blocked by shipping.

Each input runs on its own interval (its metrics_collection_interval or the agent's),
aligned to wall-clock multiples of that interval so every host's samples share
timestamps. A cycle that overruns skips the ticks it missed (and counts them) rather
than catching up in a burst. `submit` is the Shipper's, which only appends to the
local spool, so a slow network never delays collection.
"""

from __future__ import annotations

import logging
import math
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, replace
from typing import Any, Protocol

from agent.cwagent_config import AgentConfig
from agent.host import HostProbe
from agent.inputs import INPUTS
from agent.inputs._base import CycleContext, MetricInput, static_dimensions
from watchkeeper.events import Kind, MetricDatum, metric_block
from watchkeeper.wire import Envelope, make_envelope

log = logging.getLogger(__name__)

# Boot time is the wall clock less the time since boot, so clock adjustments (and the whole
# seconds of recorded btime) may move it by a second without a reboot.
_BOOT_TIME_TOLERANCE_S = 1.0


class Clock(Protocol):
    def time(self) -> float:
        """Wall-clock seconds since the epoch: sample timestamps."""

    def monotonic(self) -> float:
        """Seconds that never go backwards: how long a cycle took."""


class SystemClock:
    def time(self) -> float:
        return time.time()

    def monotonic(self) -> float:
        return time.monotonic()


@dataclass
class _Scheduled:
    name: str
    input: MetricInput[Any]
    interval: int
    next_due: float

    @property
    def resolution(self) -> int:
        # CloudWatch: collected more often than once a minute = high resolution.
        return 1 if self.interval < 60 else 60


@dataclass
class LoopStats:
    cycles: int = 0
    envelopes: int = 0
    missed_ticks: int = 0
    input_errors: int = 0
    submit_errors: int = 0
    resets: int = 0
    last_cycle_s: float = 0.0


def boundary_at_or_after(now: float, interval: int) -> float:
    return math.ceil(now / interval) * interval


class MetricsLoop:
    def __init__(
        self,
        config: AgentConfig,
        probe: HostProbe,
        submit: Callable[[Envelope], object],
        clock: Clock | None = None,
        *,
        agent_id: str,
        host: str,
    ) -> None:
        self._probe = probe
        self._submit = submit
        self._clock = clock or SystemClock()
        self._agent_id = agent_id
        self._host = host
        metrics = config.metrics
        self._namespace = metrics.namespace if metrics else "CWAgent"
        self._dimensions = {} if config.agent.omit_hostname else {"host": host}
        self._dimensions.update(static_dimensions(metrics.append_dimensions) if metrics else {})
        self._rollups = [tuple(sorted(names)) for names in metrics.aggregation_dimensions] if metrics else []
        start = self._clock.time()
        self._inputs = [
            _Scheduled(name, INPUTS[name].build(section), config.interval_of(section),
                       boundary_at_or_after(start, config.interval_of(section)))
            for name, section in (metrics.inputs() if metrics else [])
        ]
        self._boot_time: float | None = None
        self.stats = LoopStats()
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None

    def next_due(self) -> float:
        """Wall-clock time of the next boundary at which some input is due."""
        return min((item.next_due for item in self._inputs), default=math.inf)

    def run_due(self) -> Envelope | None:
        """Collect every input due now and submit their metrics as one envelope (None when nothing to ship)."""
        started = self._clock.monotonic()
        now = self._clock.time()
        self._detect_reboot()
        datums: list[MetricDatum] = []
        for item in self._inputs:
            if item.next_due - now > item.interval:
                # The wall clock went backwards: realign instead of sleeping until the old boundary.
                item.next_due = boundary_at_or_after(now, item.interval)
            if item.next_due > now:
                continue
            boundary = math.floor(now / item.interval) * item.interval
            self.stats.missed_ticks += round((boundary - item.next_due) / item.interval)
            item.next_due = boundary + item.interval
            datums += self._collect(item, boundary)
        self.stats.cycles += 1
        self.stats.last_cycle_s = self._clock.monotonic() - started
        if not datums:
            return None
        envelope = make_envelope(Kind.METRICS, self._agent_id, self._host,
                                 [metric_block(self._with_rollups(datums))])
        try:
            self._submit(envelope)
        except Exception:  # the loop must outlive a failing spool; the failure is logged and counted
            self.stats.submit_errors += 1
            log.exception("submitting a metrics batch failed")
            return None
        self.stats.envelopes += 1
        return envelope

    def _detect_reboot(self) -> None:
        boot_time = self._probe.boot_time()
        if self._boot_time is not None and abs(boot_time - self._boot_time) > _BOOT_TIME_TOLERANCE_S:
            log.warning("boot time changed (%s -> %s): counters re-prime", self._boot_time, boot_time)
            for item in self._inputs:
                item.input.reset()
            self.stats.resets += 1
        self._boot_time = boot_time

    def _collect(self, item: _Scheduled, boundary: float) -> list[MetricDatum]:
        context = CycleContext(self._namespace, boundary, self._dimensions, item.resolution)
        try:
            return item.input.collect(self._probe, context)
        except Exception:  # one failing input (a vanished mount, a denied /proc read) must not stop the others
            self.stats.input_errors += 1
            log.exception("input %s failed", item.name)
            return []

    def _with_rollups(self, datums: list[MetricDatum]) -> list[MetricDatum]:
        """aggregation_dimensions: each datum again under every dimension subset it fully carries."""
        if not self._rollups:
            return datums  # the usual case: no dict of dimensions per datum just to find nothing
        out = list(datums)
        for datum in datums:
            present = dict(datum.dimensions)
            for names in self._rollups:
                if all(name in present for name in names):
                    reduced = tuple((name, present[name]) for name in names)
                    if reduced != datum.dimensions:
                        out.append(replace(datum, dimensions=reduced))
        return out

    def start(self) -> None:
        self._thread = threading.Thread(target=self._run, name="metrics-loop", daemon=True)
        self._thread.start()

    def running(self) -> bool:
        return self._thread is not None and self._thread.is_alive()

    def stop(self, timeout: float | None = None) -> None:
        self._stop.set()
        if self._thread is not None:
            self._thread.join(timeout)

    def _run(self) -> None:
        while not self._stop.wait(self._seconds_to_next()):
            self.run_due()

    def _seconds_to_next(self) -> float | None:
        due = self.next_due()
        return None if due == math.inf else max(0.0, due - self._clock.time())
