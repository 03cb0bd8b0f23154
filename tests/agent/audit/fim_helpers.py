"""Shared pieces of the file integrity tests: a monitor on a temporary tree and a collecting emit."""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

from agent.audit.fim import FileIntegrityMonitor
from watchkeeper.config.settings import AuditFilesSettings

HOST = "web-1"
INSTALLATION = "123456789012"


class Collected:
    """A list-collecting emit, with a way to wait for records (events arrive on the monitor's thread)."""

    def __init__(self) -> None:
        self.records: list[dict[str, Any]] = []
        self._changed = threading.Condition()

    def __call__(self, records: list[dict[str, Any]]) -> None:
        with self._changed:
            self.records.extend(records)
            self._changed.notify_all()

    def wait_for(self, predicate: Callable[[list[dict[str, Any]]], bool], timeout: float = 20.0) -> list[dict[str, Any]]:
        deadline = time.monotonic() + timeout
        with self._changed:
            while not predicate(self.records):
                left = deadline - time.monotonic()
                assert left > 0, f"records never satisfied the condition; got {self.names()}"
                self._changed.wait(left)
            return list(self.records)

    def names(self) -> list[tuple[str, str]]:
        return [(r["eventName"], r["requestParameters"]["path"]) for r in self.records]

    def named(self, event_name: str, path: Path) -> list[dict[str, Any]]:
        return [r for r in self.records if r["eventName"] == event_name and r["requestParameters"]["path"] == str(path)]

    def wait_named(self, event_name: str, path: Path) -> dict[str, Any]:
        self.wait_for(lambda _: bool(self.named(event_name, path)))
        return self.named(event_name, path)[-1]


def monitor(watched: Path, state: Path, emit: Collected, **overrides: Any) -> FileIntegrityMonitor:
    settings = AuditFilesSettings(paths=[str(watched)], **{"coalesce_s": 0.2, **overrides})
    return FileIntegrityMonitor(settings, HOST, INSTALLATION, state, emit)
