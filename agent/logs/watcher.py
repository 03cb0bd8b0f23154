"""When to look at the files again: inotify events (watchdog) or plain polling, one interface.

The tailer never trusts events alone: it reads every tracked file on every wakeup and
re-expands its globs at least every rescan interval, so a lost event (an overflowed
inotify queue, a network filesystem without inotify) delays a line, never loses it.
If inotify cannot be set up (watch or instance limits), the watcher falls back to
polling by itself and says so once.
"""

from __future__ import annotations

import logging
import threading
from typing import Protocol

from watchdog.events import FileSystemEvent, FileSystemEventHandler
from watchdog.observers.api import BaseObserver

from agent.logs.options import WatchMode

log = logging.getLogger(__name__)


class ChangeSource(Protocol):
    @property
    def polling(self) -> bool:
        """True when no events arrive and the caller must look on its own, every poll interval."""

    def watch(self, directory: str, recursive: bool) -> None:
        """Report changes below directory from now on (a missing directory is retried by the caller)."""

    def wait(self, timeout: float) -> bool:
        """Block until something changes or timeout passes; True when files may have appeared or gone."""

    def close(self) -> None: ...


class PollingChanges:
    """No events: the caller checks every file every poll interval."""

    def __init__(self) -> None:
        self._stop = threading.Event()

    @property
    def polling(self) -> bool:
        return True

    def watch(self, directory: str, recursive: bool) -> None:
        return None

    def wait(self, timeout: float) -> bool:
        self._stop.wait(timeout)
        return False

    def close(self) -> None:
        self._stop.set()


class _Handler(FileSystemEventHandler):  # type: ignore[misc]  # watchdog ships no types
    def __init__(self, owner: InotifyChanges) -> None:
        self.owner = owner

    def on_any_event(self, event: FileSystemEvent) -> None:
        if event.event_type not in ("modified", "opened", "closed_no_write", "closed"):
            self.owner.listing_changed = True
        self.owner.wakeup.set()


class InotifyChanges:
    """watchdog's inotify observer; falls back to polling when inotify fails."""

    def __init__(self, observer: BaseObserver | None = None) -> None:
        from watchdog.observers.inotify import InotifyObserver

        self.wakeup = threading.Event()
        self.listing_changed = False
        self.watched: set[tuple[str, bool]] = set()
        self.failed = False
        self._handler = _Handler(self)
        self._observer = observer or InotifyObserver()
        self._observer.start()

    @property
    def polling(self) -> bool:
        return self.failed

    def watch(self, directory: str, recursive: bool) -> None:
        if self.failed or (directory, recursive) in self.watched:
            return
        try:
            self._observer.schedule(self._handler, directory, recursive=recursive)
        except FileNotFoundError:
            return
        except OSError as error:
            self.failed = True
            log.warning("inotify cannot watch %s (%s); polling instead", directory, error)
            return
        self.watched.add((directory, recursive))

    def wait(self, timeout: float) -> bool:
        self.wakeup.wait(timeout)
        self.wakeup.clear()
        changed, self.listing_changed = self.listing_changed, False
        return changed

    def close(self) -> None:
        self._observer.stop()
        self._observer.join()


def open_changes(mode: WatchMode) -> ChangeSource:
    """The change source for a watch mode; inotify that cannot start at all becomes polling."""
    if mode == "poll":
        return PollingChanges()
    try:
        return InotifyChanges()
    except OSError as error:
        log.warning("inotify is unavailable (%s); polling instead", error)
        return PollingChanges()
