"""Delivery apart from evaluation: a bounded queue, worker threads, retries with exponential backoff.

The evaluator only submits; it never waits for a receiver. Workers take one
attempt at a time (each bounded by the transport's timeout); a failed attempt
is not retried by the worker that made it but parked in a timer heap until its
backoff elapses, so a dead receiver holds a worker for one timeout per attempt
and never the queue. Every attempt is an Action history item. When every
action of a transition is finished (delivered or given up), it is marked
finished, so a restarted evaluator re-queues only unfinished transitions. Both
go through the Bookkeeper (bookkeeping.py), which writes them in batches.
"""

from __future__ import annotations

import heapq
import itertools
import logging
import queue
import threading
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass

from alarms import history
from alarms.notify.bookkeeping import Bookkeeper
from alarms.notify.message import AlarmMessage
from watchkeeper.config.settings import AlarmsSettings
from watchkeeper.errors import DeliveryError

log = logging.getLogger(__name__)

Deliver = Callable[[str, AlarmMessage], str]
Clock = Callable[[], float]


@dataclass(frozen=True, slots=True)
class _Job:
    uri: str
    message: AlarmMessage
    attempt: int


class Dispatcher:
    def __init__(self, deliver: Deliver, bookkeeper: Bookkeeper, clock: Clock, settings: AlarmsSettings) -> None:
        self._deliver = deliver
        self._bookkeeper = bookkeeper
        self._clock = clock
        self._settings = settings
        self._queue: queue.Queue[_Job | None] = queue.Queue(settings.queue_size)
        self._delayed: list[tuple[float, int, _Job]] = []
        self._sequence = itertools.count()
        self._wakeup = threading.Condition()
        self._remaining: dict[tuple[str, int], int] = {}
        self._busy = 0
        self._stopping = False
        self._threads: list[threading.Thread] = []
        self.overflowed = 0

    def _now_ms(self) -> int:
        return int(self._clock() * 1000)

    def submit(self, message: AlarmMessage, uris: Sequence[str]) -> None:
        """Queue one transition's actions; never blocks (a full queue counts an overflow)."""
        key = (message.alarm_name, message.transition_id)
        with self._wakeup:
            self._remaining[key] = self._remaining.get(key, 0) + len(uris)
        if not uris:
            self._bookkeeper.done(*key)
        for uri in uris:
            self._enqueue(_Job(uri, message, 1))

    def _enqueue(self, job: _Job) -> None:
        try:
            self._queue.put_nowait(job)
        except queue.Full:
            with self._wakeup:
                self.overflowed += 1
                dropped = self.overflowed
            log.warning("alarm notification queue full (%d places): dropped %s for %s (%d dropped so far)",
                        self._settings.queue_size, job.uri, job.message.alarm_name, dropped)
            self._bookkeeper.record([history.action_failed(job.message.alarm_name, job.uri, job.message.changed_ms,
                                                self._now_ms(), "notification queue full", job.attempt,
                                                job.attempt, None)])
            self._finish(job)

    def _finish(self, job: _Job) -> None:
        key = (job.message.alarm_name, job.message.transition_id)
        with self._wakeup:
            self._remaining[key] -= 1
            done = self._remaining[key] == 0
            if done:
                del self._remaining[key]
        if done:
            self._bookkeeper.done(*key)

    def has(self, alarm_name: str, transition_id: int) -> bool:
        """Whether actions of this transition are still queued, waiting or in flight here."""
        with self._wakeup:
            return (alarm_name, transition_id) in self._remaining

    def idle(self) -> bool:
        """Nothing queued, waiting for a retry, being delivered, or waiting to be recorded."""
        with self._wakeup:
            delivering = bool(self._remaining) or self._busy > 0
        return not delivering and not self._bookkeeper.pending()

    def flush(self) -> None:
        """Write the history and finished marks of what is done so far (before reading them back)."""
        self._bookkeeper.flush()

    def start(self) -> None:
        self._bookkeeper.start()
        self._threads = [threading.Thread(target=self._work, name=f"alarm-notify-{i}", daemon=True)
                         for i in range(self._settings.workers)]
        self._threads.append(threading.Thread(target=self._release_retries, name="alarm-notify-retries",
                                              daemon=True))
        for thread in self._threads:
            thread.start()

    def stop(self) -> None:
        """Stop after the attempts in flight and record them; queued work is left to the next start (it is not
        marked done)."""
        with self._wakeup:
            self._stopping = True
            self._wakeup.notify_all()
        while True:
            try:
                self._queue.get_nowait()
            except queue.Empty:
                break
        for _ in range(self._settings.workers):
            self._queue.put(None)
        for thread in self._threads:
            thread.join()
        self._threads = []
        self._bookkeeper.stop()

    def _work(self) -> None:
        while (job := self._queue.get()) is not None:
            with self._wakeup:
                self._busy += 1
            try:
                self._attempt(job)
            finally:
                with self._wakeup:
                    self._busy -= 1

    def _attempt(self, job: _Job) -> None:
        message = job.message
        attempts = self._settings.retries + 1
        try:
            outcome = self._deliver(job.uri, message)
        except DeliveryError as error:
            reason = str(error)
        except Exception as error:  # a transport bug must not kill the worker; it counts as a failed attempt
            log.exception("alarm action %s crashed", job.uri)
            reason = f"{type(error).__name__}: {error}"
        else:
            self._bookkeeper.record([history.action_succeeded(message.alarm_name, job.uri, message.changed_ms, self._now_ms(),
                                                   outcome, message.json_bytes())])
            self._finish(job)
            return
        retry_in = None
        if job.attempt < attempts and not self._stopping:
            retry_in = min(self._settings.backoff_initial_s * 2 ** (job.attempt - 1), self._settings.backoff_max_s)
        self._bookkeeper.record([history.action_failed(message.alarm_name, job.uri, message.changed_ms, self._now_ms(), reason,
                                            job.attempt, attempts, retry_in)])
        if retry_in is None:
            self._finish(job)
            return
        with self._wakeup:
            heapq.heappush(self._delayed, (time.monotonic() + retry_in, next(self._sequence),
                                           _Job(job.uri, message, job.attempt + 1)))
            self._wakeup.notify_all()

    def _release_retries(self) -> None:
        """Move retries whose backoff has elapsed back into the queue."""
        with self._wakeup:
            while not self._stopping:
                if not self._delayed:
                    self._wakeup.wait()
                    continue
                due = self._delayed[0][0] - time.monotonic()
                if due > 0:
                    self._wakeup.wait(due)
                    continue
                _, _, job = heapq.heappop(self._delayed)
                self._wakeup.release()
                try:
                    self._enqueue(job)
                finally:
                    self._wakeup.acquire()
