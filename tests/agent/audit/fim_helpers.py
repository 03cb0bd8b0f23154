"""Shared pieces of the file integrity tests: a monitor on a temporary tree and a collecting emit."""

from __future__ import annotations

import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

from agent.audit.fim import FileIntegrityMonitor
from watchkeeper.config.settings import AuditFilesSettings

HOST = "web-1"
INSTALLATION = "123456789012"


def eventually(condition: Callable[[], bool], what: str, limit_s: float = 30.0) -> None:
    """Wait for a state the system must reach (events arrive on other threads); the limit only bounds a hung test."""
    deadline = time.monotonic() + limit_s
    while not condition():
        assert time.monotonic() < deadline, f"never happened: {what}"
        time.sleep(0.05)


class Collected:
    """A list-collecting emit (records arrive on the monitor's thread; list.extend is atomic)."""

    def __init__(self) -> None:
        self.records: list[dict[str, Any]] = []

    def __call__(self, records: list[dict[str, Any]]) -> None:
        self.records.extend(records)

    def wait_for(self, predicate: Callable[[list[dict[str, Any]]], bool]) -> None:
        eventually(lambda: predicate(list(self.records)), f"the expected records; got {self.names()}")

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
