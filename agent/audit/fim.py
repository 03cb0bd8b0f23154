"""File integrity monitoring: the audited files' state, kept current, every change recorded once.

Every change is found the same way: take the last known state of some paths, stat
(and where needed hash) them now, and record the differences. What varies is which
paths and when:
- at start, all of them against the snapshot saved last time (changes made while the
  agent was down are marked foundAtStart);
- on inotify events, the paths the events named, once they have been quiet for
  coalesce_s (a burst of writes becomes one event carrying the final state);
- every rescan_interval_s (poll_interval_s when polling), all of them again, which
  catches whatever events were lost.
The snapshot is saved after records were handed to `emit`; a crash in between re-finds
the same changes at start, and their event ids (derived from path and states) are the
same, so the collector keeps them once.
"""

from __future__ import annotations

import fnmatch
import hashlib
import logging
import threading
import time
from collections.abc import Callable, Mapping, Set
from pathlib import Path
from typing import Any

from watchdog.observers.api import BaseObserver

from agent.audit.changes import ChangeKind, FileChange, changes_between
from agent.audit.contentstore import ContentStore
from agent.audit.diffs import TextDiff, text_diff
from agent.audit.file_events import Detection, file_record
from agent.audit.filestate import FileState
from agent.audit.redaction import Redactor
from agent.audit.scanner import Scanner
from agent.audit.scope import Scope
from agent.audit.statefile import load_json, save_json
from agent.audit.watch import PathWatcher, inotify_observer
from watchkeeper.config.settings import AuditFilesSettings

log = logging.getLogger(__name__)

SNAPSHOT_FILE = "audit_files_snapshot.json"
SNAPSHOT_VERSION = 1
SNAPSHOT_SAVE_EVERY_S = 5.0  # a large tree's snapshot is megabytes: not rewritten on every single change
STOP_CHECK_S = 0.5
MAX_COALESCE_FACTOR = 10  # a file written without pause is still reported every 10 x coalesce_s

Emit = Callable[[list[dict[str, Any]]], None]
DIFFABLE = (ChangeKind.CREATE, ChangeKind.MODIFY, ChangeKind.DELETE)


class FileIntegrityMonitor:
    def __init__(self, settings: AuditFilesSettings, host: str, installation_id: str, state_dir: Path, emit: Emit,
                 observer_factory: Callable[[], BaseObserver] = inotify_observer) -> None:
        self.settings = settings
        self.host = host
        self.installation_id = installation_id
        self.scope = Scope(settings.paths, settings.exclude)
        self.scanner = Scanner(self.scope)
        self.redactor = Redactor(settings.redact_patterns)
        state_dir.mkdir(parents=True, exist_ok=True)
        self.snapshot_path = state_dir / SNAPSHOT_FILE
        self.known: dict[str, FileState] = {}
        self.content = ContentStore(state_dir, settings.content_store_max_bytes, self._referenced)
        self._emit = emit
        self._observer_factory = observer_factory
        self.watcher: PathWatcher | None = None
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None
        self._unsaved = False
        self._saved_at = 0.0

    # ----- lifecycle ------------------------------------------------------------------------

    def start(self) -> None:
        """Watch first, then take the baseline, so nothing changed in between goes unseen; then run."""
        self.watcher = PathWatcher(self.settings.watch_mode == "auto", self._observer_factory)
        self.watcher.watch(self.scope.watch_targets())
        self.baseline()
        self._stop.clear()
        self._thread = threading.Thread(target=self._run, name="audit-fim", daemon=True)
        self._thread.start()

    def stop(self) -> None:
        """Record what events already named, save the snapshot, stop watching."""
        self._stop.set()
        if self._thread is not None:
            self._thread.join()
            self._thread = None
        if self.watcher is not None:
            self._reconcile_dirty()
            self.watcher.close()
            self.watcher = None
        self._save(force=True)

    @property
    def polling(self) -> bool:
        return self.watcher is None or self.watcher.polling

    # ----- finding changes --------------------------------------------------------------------

    def baseline(self) -> None:
        """Compare the tree with the saved snapshot; the first run only records the state it finds."""
        saved = load_json(self.snapshot_path, SNAPSHOT_VERSION)
        if saved is None:
            found = self.scanner.scan_all({})
            self._remember(found.keys(), found, {})
            log.info("audit: first baseline of %d files (no earlier snapshot: nothing to compare with)", len(found))
            self._save(force=True)
            return
        self.known = {path: FileState.from_json(row) for path, row in saved.items()}
        found = self.scanner.scan_all(self.known)
        self._record(set(self.known) | set(found), found, Detection("baseline", time.time()))
        self._save(force=True)

    def rescan(self, method: str) -> None:
        found = self.scanner.scan_all(self.known)
        self._record(set(self.known) | set(found), found, Detection(method, time.time()))

    def _reconcile_dirty(self) -> None:
        assert self.watcher is not None
        paths = self.watcher.dirty.take()
        if paths:
            covered, found = self.scanner.scan_paths(paths, self.known)
            self._record(covered, found, Detection("inotify", time.time()))

    def _record(self, covered: Set[str], found: dict[str, FileState], detection: Detection) -> None:
        """Emit the changes among the covered paths, then make found their known state."""
        changes = changes_between(self.known, found, covered)
        contents = self._current_contents(found, changes)
        records = [file_record(change, self._diff(change, contents), detection, self.host, self.installation_id)
                   for change in changes]
        if records:
            self._emit(records)
        self._remember(covered, found, contents)

    def _remember(self, covered: Set[str], found: Mapping[str, FileState], contents: Mapping[str, bytes]) -> None:
        for path in covered:
            state = found.get(path)
            if state is None:
                if self.known.pop(path, None) is not None:
                    self._unsaved = True
                continue
            if self.known.get(path) != state:
                self._unsaved = True
                self.known[path] = state
                if not self.content.has(state.sha256):
                    content = contents.get(path) or self._read_small(path, state)
                    if content is not None:
                        self.content.put(state.sha256, content)

    # ----- contents and diffs -----------------------------------------------------------------

    def _read_small(self, path: str, state: FileState) -> bytes | None:
        """The file's content if it is a small regular file still matching state's hash, else None."""
        if state.is_symlink or state.size > self.settings.diff_max_bytes or self._secret(path):
            return None
        try:
            with open(path, "rb") as handle:
                content = handle.read(self.settings.diff_max_bytes + 1)
        except OSError:
            return None
        return content if hashlib.sha256(content).hexdigest() == state.sha256 else None

    def _current_contents(self, found: Mapping[str, FileState], changes: list[FileChange]) -> dict[str, bytes]:
        contents = {}
        for change in changes:
            if change.kind in DIFFABLE and change.after is not None:
                content = self._read_small(change.path, change.after)
                if content is not None:
                    contents[change.path] = content
        return contents

    def _diff(self, change: FileChange, contents: Mapping[str, bytes]) -> TextDiff | None:
        if change.kind not in DIFFABLE or any(s is not None and s.is_symlink for s in (change.before, change.after)):
            return None
        if self._secret(change.path):
            return TextDiff(None, omitted="no_diff")
        limit = self.settings.diff_max_bytes
        if any(s is not None and s.size > limit for s in (change.before, change.after)):
            return TextDiff(None, omitted=f"larger than diff_max_bytes ({limit})")
        before = self.content.get(change.before.sha256) if change.before else b""
        after = contents.get(change.path) if change.after else b""
        if before is None:
            return TextDiff(None, omitted="previous content unknown")
        if after is None:
            return TextDiff(None, omitted="changed again while being read")
        return text_diff(before, after, change.path if change.before else "/dev/null",
                         change.path if change.after else "/dev/null", self.redactor)

    def _secret(self, path: str) -> bool:
        return any(fnmatch.fnmatchcase(path, pattern) for pattern in self.settings.no_diff)

    def _referenced(self) -> set[str]:
        return {state.sha256 for state in self.known.values()}

    # ----- the thread -------------------------------------------------------------------------

    def _run(self) -> None:
        assert self.watcher is not None
        watcher = self.watcher
        next_full = time.monotonic() + self._full_scan_interval()
        while not self._stop.is_set():
            try:
                remaining = next_full - time.monotonic()
                if remaining <= 0:
                    watcher.watch(self.scope.watch_targets())  # roots that appeared since
                    self.rescan("poll" if watcher.polling else "rescan")
                    next_full = time.monotonic() + self._full_scan_interval()
                elif watcher.wait(min(remaining, STOP_CHECK_S)):
                    self._settle(watcher)
                    self._reconcile_dirty()
                self._save(force=False)
            except Exception:  # noqa: BLE001 - the monitor must outlive one bad pass; the next rescan retries
                log.exception("audit: file integrity pass failed; retrying at the next event or rescan")
                self._stop.wait(STOP_CHECK_S)

    def _full_scan_interval(self) -> float:
        return self.settings.poll_interval_s if self.polling else self.settings.rescan_interval_s

    def _settle(self, watcher: PathWatcher) -> None:
        """Wait until events have been quiet for coalesce_s (at most MAX_COALESCE_FACTOR times that)."""
        quiet = self.settings.coalesce_s
        give_up = time.monotonic() + quiet * MAX_COALESCE_FACTOR
        while not self._stop.is_set():
            now = time.monotonic()
            left = min(watcher.dirty.last_event + quiet, give_up) - now
            if left <= 0:
                return
            self._stop.wait(left)

    def _save(self, force: bool) -> None:
        if not self._unsaved or (not force and time.monotonic() - self._saved_at < SNAPSHOT_SAVE_EVERY_S):
            return
        save_json(self.snapshot_path, SNAPSHOT_VERSION, {path: state.to_json() for path, state in self.known.items()})
        self._unsaved = False
        self._saved_at = time.monotonic()
