"""Which paths may have changed: watchdog's inotify events reduced to a set of dirty paths.

The log tailer's watcher (agent/logs/watcher.py) only says "something changed"; file
integrity needs to know where, so a change in a large tree costs a stat of one path,
not a scan of the tree. Events are hints, never the truth: the monitor stats each
dirty path itself, and a periodic full rescan catches whatever inotify lost (queue
overflow, filesystems without inotify). If inotify cannot be set up (no instance left,
max_user_watches reached) the watcher reports `polling` and the monitor scans on a
timer instead.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable

from watchdog.events import DirModifiedEvent, FileSystemEvent, FileSystemEventHandler
from watchdog.observers.api import BaseObserver

log = logging.getLogger(__name__)

# Opening or reading a file changes nothing; a directory's "modified" only repeats its entries' own events.
IGNORED_EVENTS = frozenset({"opened", "closed_no_write"})


def _as_str(path: bytes | str) -> str:
    return path.decode(errors="surrogateescape") if isinstance(path, bytes) else path


class DirtyPaths(FileSystemEventHandler):  # type: ignore[misc]  # watchdog is untyped
    """Collects the paths events name; wait() blocks until there is at least one."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._paths: set[str] = set()
        self.arrived = threading.Event()
        self.last_event = 0.0  # time.monotonic() of the newest event, for coalescing bursts

    def on_any_event(self, event: FileSystemEvent) -> None:
        if event.event_type in IGNORED_EVENTS or isinstance(event, DirModifiedEvent):
            return
        with self._lock:
            self._paths.add(_as_str(event.src_path))
            if event.dest_path:
                self._paths.add(_as_str(event.dest_path))
            self.last_event = time.monotonic()
        self.arrived.set()

    def take(self) -> set[str]:
        with self._lock:
            paths, self._paths = self._paths, set()
            self.arrived.clear()
        return paths


def inotify_observer() -> BaseObserver:
    from watchdog.observers.inotify import InotifyObserver

    return InotifyObserver()


class PathWatcher:
    """inotify through watchdog, or nothing (polling) when inotify is unavailable or exhausted."""

    def __init__(self, use_inotify: bool, observer_factory: Callable[[], BaseObserver] = inotify_observer) -> None:
        self.dirty = DirtyPaths()
        self.polling = not use_inotify
        self._watched: set[tuple[str, bool]] = set()
        self._observer: BaseObserver | None = None
        if use_inotify:
            try:
                self._observer = observer_factory()
                self._observer.start()
            except OSError as error:
                self._fall_back(error)

    def watch(self, targets: list[tuple[str, bool]]) -> None:
        """Watch each (directory, recursive) not watched yet; missing ones are tried again next call."""
        for target in targets:
            if self._observer is None:
                return
            if target in self._watched:
                continue
            try:
                self._observer.schedule(self.dirty, target[0], recursive=target[1])
            except FileNotFoundError:
                continue
            except OSError as error:
                self._fall_back(error)
                return
            self._watched.add(target)

    def _fall_back(self, error: OSError) -> None:
        # ENOSPC (max_user_watches), EMFILE (max_user_instances): a partial watch would miss
        # changes silently, so the whole monitor polls instead and says so once.
        log.warning("inotify cannot watch the audited paths (%s); polling instead (raise "
                    "fs.inotify.max_user_watches / max_user_instances to get events again)", error)
        self.polling = True
        self.close()

    def wait(self, timeout: float) -> bool:
        """Block until an event arrives or timeout passes; True when there are dirty paths."""
        return self.dirty.arrived.wait(timeout)

    def close(self) -> None:
        if self._observer is not None:
            observer, self._observer = self._observer, None
            observer.stop()
            if observer.is_alive():
                observer.join()
