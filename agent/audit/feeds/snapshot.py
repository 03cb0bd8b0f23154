"""Feeds that compare a file-derived state with the last one seen (accounts, systemd, cron).

The first run has nothing to compare with and only records the state; after a
restart the first poll compares with the saved state, so what changed while the
agent was down is found and marked foundAtStart.
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from typing import Any

from agent.audit.feeds.base import FeedContext


class SnapshotFeed(ABC):
    name = "snapshot"

    def __init__(self, context: FeedContext) -> None:
        self.context = context
        self.previous: Any | None = None
        self._first_poll = True

    def restore(self, saved: Any | None) -> None:
        self.previous = saved
        self._first_poll = True

    def saved(self) -> Any:
        return self.previous

    def poll(self) -> list[dict[str, Any]]:
        current = self.read()
        previous, self.previous = self.previous, current
        found_at_start, self._first_poll = self._first_poll, False
        if previous is None or previous == current:
            return []
        records = self.compare(previous, current)
        if found_at_start:
            for record in records:
                record.setdefault("additionalEventData", {})["foundAtStart"] = True
        return records

    @abstractmethod
    def read(self) -> Any:
        """The current state, JSON-able."""

    @abstractmethod
    def compare(self, previous: Any, current: Any) -> list[dict[str, Any]]:
        """Records for the differences."""
