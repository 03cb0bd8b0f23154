"""Runs the host change feeds on one thread: poll each, hand the records on, then save all positions."""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

from agent.audit.feeds.accounts import AccountsFeed
from agent.audit.feeds.base import Feed, FeedContext
from agent.audit.feeds.cron import CronFeed
from agent.audit.feeds.journal import JournalFeed
from agent.audit.feeds.logins import LoginsFeed
from agent.audit.feeds.packages import PackagesFeed
from agent.audit.feeds.systemd import SystemdFeed
from agent.audit.redaction import Redactor
from agent.audit.statefile import load_json, save_json
from audit.record import iso_time
from watchkeeper.config.settings import AuditFeedsSettings

log = logging.getLogger(__name__)

STATE_FILE = "audit_feeds_state.json"
STATE_VERSION = 1
Emit = Callable[[list[dict[str, Any]]], None]


def standard_feeds(settings: AuditFeedsSettings, context: FeedContext, redactor: Redactor) -> list[Feed]:
    feeds: list[Feed] = [
        PackagesFeed(context, settings.dpkg_log, settings.apt_history_log),
        LoginsFeed(context, settings.auth_logs),
        AccountsFeed(context, settings.passwd_file, settings.group_file, settings.shadow_file),
        SystemdFeed(context, settings.systemd_dirs),
        CronFeed(context, settings.cron_paths, redactor),
    ]
    if settings.journal:
        feeds.append(JournalFeed(context))
    return feeds


class FeedRunner:
    def __init__(self, feeds: list[Feed], state_dir: Path, emit: Emit, poll_interval_s: float,
                 history_on_first_start: bool = True) -> None:
        self.feeds = feeds
        state_dir.mkdir(parents=True, exist_ok=True)
        self.state_path = state_dir / STATE_FILE
        self._emit = emit
        self._interval = poll_interval_s
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None
        self._saved: dict[str, Any] = load_json(self.state_path, STATE_VERSION) or {}
        for feed in feeds:
            feed.restore(self._saved.get(feed.name))
        # A feed with no saved position reads its logs from the start; without history, what happened
        # before this first start is passed over, so a new install does not replay years of dpkg and auth logs.
        started = iso_time(time.time())
        self._history_cutoff: dict[str, str] = {} if history_on_first_start else {
            feed.name: started for feed in feeds if feed.name not in self._saved}

    def poll_once(self) -> None:
        """One round over every feed; a feed whose records could not be handed on is rolled back to its saved state."""
        for feed in self.feeds:
            try:
                records = self._after_cutoff(feed.name, feed.poll())
                if records:
                    self._emit(records)
            except Exception:  # noqa: BLE001 - one broken feed must not stop the others; it retries next round
                log.exception("audit feed %s failed; it resumes from its saved position next round", feed.name)
                feed.restore(self._saved.get(feed.name))
                continue
            self._saved[feed.name] = feed.saved()
            self._history_cutoff.pop(feed.name, None)
        save_json(self.state_path, STATE_VERSION, self._saved)

    def _after_cutoff(self, name: str, records: list[dict[str, Any]]) -> list[dict[str, Any]]:
        cutoff = self._history_cutoff.get(name)
        if cutoff is None:
            return records
        kept = [record for record in records if record["eventTime"] >= cutoff]
        if len(kept) < len(records):
            log.info("audit feed %s: first start, %d earlier entries passed over (history_on_first_start = false)",
                     name, len(records) - len(kept))
        return kept

    def start(self) -> None:
        self.poll_once()
        self._stop.clear()
        self._thread = threading.Thread(target=self._run, name="audit-feeds", daemon=True)
        self._thread.start()

    def stop(self) -> None:
        self._stop.set()
        if self._thread is not None:
            self._thread.join()
            self._thread = None

    def _run(self) -> None:
        while not self._stop.wait(self._interval):
            self.poll_once()
