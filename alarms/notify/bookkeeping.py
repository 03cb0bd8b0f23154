"""Delivery bookkeeping in batches: the dispatcher's Action history items and finished-transition marks.

Workers hand every attempt's history item and every finished transition to the
Bookkeeper, which writes them from its own thread, one insert per table per
batch: as soon as `batch_items` are waiting, else every `interval_s`. With
thousands of transitions in a cycle that is a few inserts instead of one per
attempt, and, when the store has its own connection (see
AlarmService), none of them waits for or delays the evaluation cycle.

Order: a batch writes its history items before its finished marks, and
batches are written one at a time, so a transition is never marked finished
before the history of its attempts is stored. What a crash loses is the
batch not yet written: its transitions count as unfinished and a restarted
evaluator sends them again (at least once, never silently dropped).
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable, Sequence

from alarms.store import ActionsDone, AlarmStore, HistoryItem
from watchkeeper.errors import WatchkeeperError

log = logging.getLogger(__name__)

Clock = Callable[[], float]


class Bookkeeper:
    def __init__(self, store: AlarmStore, clock: Clock, batch_items: int = 1000, interval_s: float = 1.0) -> None:
        self._store = store
        self._clock = clock
        self._batch_items = batch_items
        self._interval_s = interval_s
        self._history: list[HistoryItem] = []
        self._done: list[ActionsDone] = []
        self._changed = threading.Condition()
        self._writing = threading.Lock()  # one batch at a time keeps history ahead of its finished marks
        self._in_flight = 0
        self._stopping = False
        self._thread: threading.Thread | None = None

    def record(self, items: Sequence[HistoryItem]) -> None:
        """Queue Action history items."""
        with self._changed:
            self._history.extend(items)
            self._wake_if_full()

    def done(self, name: str, transition_id: int) -> None:
        """Queue the mark that every action of this transition is finished."""
        with self._changed:
            self._done.append(ActionsDone(name, transition_id, int(self._clock() * 1000)))
            self._wake_if_full()

    def _wake_if_full(self) -> None:
        if len(self._history) + len(self._done) >= self._batch_items:
            self._changed.notify_all()

    def pending(self) -> bool:
        """Whether something is queued or being written."""
        with self._changed:
            return bool(self._history or self._done or self._in_flight)

    def flush(self) -> None:
        """Write everything queued now; on a storage error it stays queued and the error is raised."""
        with self._writing:
            with self._changed:
                history, done = self._history, self._done
                self._history, self._done = [], []
                self._in_flight += 1
            try:
                self._store.append_history(history)
                self._store.mark_actions_done(done)
            except BaseException:
                with self._changed:
                    self._history[:0] = history
                    self._done[:0] = done
                raise
            finally:
                with self._changed:
                    self._in_flight -= 1

    def start(self) -> None:
        self._stopping = False
        self._thread = threading.Thread(target=self._run, name="alarm-bookkeeping", daemon=True)
        self._thread.start()

    def stop(self) -> None:
        """Write what is queued and stop (a storage error is logged: the rest is re-sent after a restart)."""
        with self._changed:
            self._stopping = True
            self._changed.notify_all()
        if self._thread is not None:
            self._thread.join()
            self._thread = None

    def _run(self) -> None:
        while True:
            with self._changed:
                self._changed.wait_for(lambda: self._stopping or len(self._history) + len(self._done)
                                       >= self._batch_items, self._interval_s)
                stopping = self._stopping
            try:
                self.flush()
            except WatchkeeperError as error:  # ClickHouse away: the batch stays queued for the next try
                log.warning("alarm delivery bookkeeping not written (will retry): %s", error)
            except Exception:  # a bug must not end bookkeeping for good; the batch stays queued
                log.exception("alarm delivery bookkeeping crashed (will retry)")
            if stopping:
                return
