"""The tail loop: find files, read them, batch events, submit, and only then save offsets.

Order of a flush, which is what makes a crash safe at any instant:
1. a file identity seen for the first time is saved (at offset 0) before any of its
   events leave, so a restart names the file with the same file_id;
2. the batch is submitted (the spool appends and fsyncs it, or Kafka acknowledges), as one
   envelope or, when it would encode too big for Kafka, several (agent/logs/batching.py);
3. the offsets just past the submitted events are saved atomically.
A crash between 2 and 3 re-reads those events on restart; their event ids are the
same, so ClickHouse keeps one copy. Nothing is ever skipped.
"""

from __future__ import annotations

import logging
import os
import threading
import time
from collections.abc import Callable, Iterable
from pathlib import Path

from agent.logs.batching import envelope_batches
from agent.logs.discovery import WarnOnce, matching_files, open_for_tailing, rotated_siblings, watch_root
from agent.logs.offsets import Checkpoint, OffsetStore
from agent.logs.options import TailOptions
from agent.logs.spec import CompiledSpec, TailSpec, compile_spec
from agent.logs.tracked import TrackedFile
from agent.logs.watcher import ChangeSource, open_changes
from watchkeeper.errors import TransportError
from watchkeeper.events import Kind
from watchkeeper.storage.logs import LogRun
from watchkeeper.wire import Envelope, make_envelope

log = logging.getLogger(__name__)
Submit = Callable[[Envelope], object]
RETRY_DELAY_S = 1.0
# The longest wait between looks at the stop flag (and so the longest a stop takes).
STOP_CHECK_S = 1.0


class Tailer:
    def __init__(self, specs: Iterable[TailSpec], submit: Submit, state_dir: Path, agent_id: str, host: str,
                 options: TailOptions = TailOptions()) -> None:
        self.specs: list[CompiledSpec] = [compile_spec(spec) for spec in specs]
        self.submit = submit
        self.agent_id = agent_id
        self.host = host
        self.options = options
        self.store = OffsetStore(state_dir)
        self.files: list[TrackedFile] = []
        self.warnings = WarnOnce()
        self._pending: list[LogRun] = []
        self._pending_bytes = 0
        self._pending_events = 0
        self._pending_since: float | None = None
        self._last_rescan = float("-inf")
        self._resume_rotated()

    # --- discovery -------------------------------------------------------------------------

    def rescan(self) -> None:
        """Re-expand the globs: pick up new files, notice rotated and deleted ones."""
        self._last_rescan = time.monotonic()
        by_inode = {(os.fstat(f.fd).st_dev, os.fstat(f.fd).st_ino): f for f in self.files}
        attached: set[int] = set()
        for spec in self.specs:
            for path in matching_files(spec.spec.file_path, self.warnings):
                try:
                    stat = os.stat(path)
                except FileNotFoundError:
                    continue
                tracked = by_inode.get((stat.st_dev, stat.st_ino))
                if tracked is not None:
                    if id(tracked) not in attached:  # renamed to another matching path, e.g. app.log.1
                        tracked.path = path
                        attached.add(id(tracked))
                    continue
                added = self._open(spec, path)
                if added is not None:
                    by_inode[(stat.st_dev, stat.st_ino)] = added
                    attached.add(id(added))
        for tracked in self.files:
            tracked.detached = id(tracked) not in attached

    def _open(self, spec: CompiledSpec, path: str) -> TrackedFile | None:
        fd = open_for_tailing(path, self.warnings)
        if fd is None:
            return None
        stat = os.fstat(fd)
        checkpoint, generation = self._checkpoint_for(fd, stat)
        tracked = TrackedFile(spec, self.options, path, fd, checkpoint, generation)
        self.files.append(tracked)
        return tracked

    def _checkpoint_for(self, fd: int, stat: os.stat_result) -> tuple[Checkpoint | None, int]:
        """The saved checkpoint of this very file (same inode and first bytes, not past its end).

        A checkpoint for the same inode whose content no longer matches (inode reuse,
        or truncated while the agent was down) is dropped; the file starts at 0 under
        a new generation, so its events never share ids with the old content.
        """
        for checkpoint in list(self.store.checkpoints.values()):
            identity = checkpoint.identity
            if not identity.same_inode(stat):
                continue
            if identity.matches(fd, stat) and checkpoint.offset <= stat.st_size:
                return checkpoint, identity.generation
            self.store.forget(identity.file_id)
            return None, identity.generation + 1
        return None, 0

    def _resume_rotated(self) -> None:
        """After a restart, find files rotated while the agent was down and finish them.

        A checkpoint whose file no longer sits at a matching path is looked for among
        its path's rotated siblings (app.log.1, ...) and read to its end from there;
        checkpoints whose file is gone for good are dropped.
        """
        self.rescan()
        claimed = {f.identity.file_id for f in self.files if f.identity is not None}
        for checkpoint in list(self.store.checkpoints.values()):
            if checkpoint.identity.file_id in claimed:
                continue
            self.store.forget(checkpoint.identity.file_id)
            spec = self._spec_for(checkpoint.path)
            # The checkpoint's own path first: a rotated file resumed after an earlier crash was saved
            # under its rotated name (app.log.1), and rotated_siblings() leaves the path itself out.
            for sibling in [checkpoint.path, *rotated_siblings(checkpoint.path)] if spec else []:
                fd = open_for_tailing(sibling, self.warnings)
                if fd is None:
                    continue
                stat = os.fstat(fd)
                if checkpoint.identity.matches(fd, stat) and checkpoint.offset <= stat.st_size:
                    assert spec is not None
                    tracked = TrackedFile(spec, self.options, sibling, fd, checkpoint)
                    tracked.detached = True
                    self.files.append(tracked)
                    self.store.put(checkpoint)
                    break
                os.close(fd)
        self.store.save()

    def _spec_for(self, path: str) -> CompiledSpec | None:
        """The spec whose glob produced this path (by the directory it watches)."""
        for spec in self.specs:
            root, _ = watch_root(spec.spec.file_path)
            if path.startswith(root.rstrip(os.sep) + os.sep):
                return spec
        return None

    # --- reading and shipping --------------------------------------------------------------

    def step(self, rescan: bool = False) -> None:
        """Read what every tracked file has; submit whenever a batch fills."""
        if rescan or time.monotonic() - self._last_rescan >= self.options.rescan_interval_s:
            self.rescan()
        for tracked in list(self.files):
            more = True
            while more:
                budget = max(self.options.batch_max_bytes - self._pending_bytes, self.options.batch_max_bytes // 8)
                runs, more = tracked.read(budget)
                self._add(runs)
                if self._pending_bytes >= self.options.batch_max_bytes \
                        or self._pending_events >= self.options.batch_max_events:
                    self.flush()
        if any(f.finished for f in self.files):
            self.flush()

    def _add(self, runs: list[LogRun]) -> None:
        for run in runs:
            self._pending.append(run)
            self._pending_events += len(run.offsets)
            self._pending_bytes += run.message_chars()
            if self._pending_since is None:
                self._pending_since = time.monotonic()

    def flush_due(self) -> bool:
        """After a step (every file read to its end): is the pending batch to be submitted now?"""
        return self._pending_since is not None and (
            time.monotonic() - self._pending_since >= self.options.flush_interval_s
            or self._pending_bytes >= self.options.caught_up_flush_bytes)

    def flush(self) -> None:
        """Submit the pending batch, then save every file's offset and let finished files go."""
        new = [f for f in self.files if f.unsaved_identity and f.identity is not None]
        for tracked in new:
            assert tracked.identity is not None
            self.store.put(Checkpoint(tracked.identity, 0, False, tracked.path))
            tracked.unsaved_identity = False
        if new:
            self.store.save()
        if self._pending:
            for runs in envelope_batches(self._pending):
                self.submit(make_envelope(Kind.LOGS, self.agent_id, self.host, [r.to_item() for r in runs]))
            self._pending = []
            self._pending_bytes = self._pending_events = 0
            self._pending_since = None
        for tracked in list(self.files):
            for file_id in tracked.retired:
                self.store.forget(file_id)
            tracked.retired.clear()
            checkpoint = tracked.checkpoint()
            if tracked.finished:
                if checkpoint is not None:
                    self.store.forget(checkpoint.identity.file_id)
                tracked.close()
                self.files.remove(tracked)
            elif checkpoint is not None:
                self.store.put(checkpoint)
        self.store.save()

    def _retry_flush(self, stop: threading.Event, error: Exception) -> None:
        """Keep the pending batch and its offsets unsaved until it is handed on: retried, never skipped."""
        while not stop.wait(RETRY_DELAY_S):
            log.warning("log batch not handed on (%s); retrying", error)
            try:
                self.flush()
                return
            except (TransportError, OSError) as again:
                error = again

    def close(self) -> None:
        for tracked in self.files:
            tracked.close()
        self.files = []

    # --- the loop --------------------------------------------------------------------------

    def watch_roots(self, changes: ChangeSource) -> None:
        for spec in self.specs:
            changes.watch(*watch_root(spec.spec.file_path))

    def run(self, stop: threading.Event, changes: ChangeSource | None = None) -> None:
        """Tail until stop is set; then ship what was read and save the offsets."""
        changes = changes or open_changes(self.options.watch)
        try:
            listing_changed = True
            while not stop.is_set():
                try:
                    if listing_changed:
                        self.watch_roots(changes)
                    self.step(rescan=listing_changed)
                    if self.flush_due():
                        self.flush()
                except (TransportError, OSError) as error:
                    self._retry_flush(stop, error)
                    continue
                timeout = self.options.poll_interval_s if changes.polling or self._pending \
                    else self.options.rescan_interval_s
                listing_changed = changes.wait(min(timeout, STOP_CHECK_S))
            try:
                self.flush()
            except (TransportError, OSError) as error:
                log.warning("last log batch not handed on at shutdown (%s); it is read again at the next "
                            "start", error)
        finally:
            changes.close()
            self.close()
