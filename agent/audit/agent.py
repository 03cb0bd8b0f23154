"""The audit sources of one server: file integrity and host change feeds, shipped as audit envelopes.

    agent = AuditAgent(settings, host, agent_id, state_dir, shipper.submit)
    agent.start()   # baseline (synchronous), then threads
    ...
    agent.stop()
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from pathlib import Path
from typing import Any

from agent.audit.feeds.base import FeedContext
from agent.audit.feeds.runner import FeedRunner, standard_feeds
from agent.audit.fim import FileIntegrityMonitor
from agent.audit.redaction import Redactor
from watchkeeper.config.settings import Settings
from watchkeeper.events import Kind
from watchkeeper.wire import Envelope, make_envelope

log = logging.getLogger(__name__)

MAX_RECORDS_PER_ENVELOPE = 500  # a rescan of a changed tree can find thousands: keep envelopes well under Kafka's limit


class AuditAgent:
    def __init__(self, settings: Settings, host: str, agent_id: str, state_dir: Path,
                 submit: Callable[[Envelope], Any]) -> None:
        audit = settings.audit
        self.host = host
        self.agent_id = agent_id
        self._submit = submit
        self.files = FileIntegrityMonitor(audit.files, host, audit.installation_id, state_dir, self.emit)
        self.feeds: FeedRunner | None = None
        if audit.feeds.enabled:
            context = FeedContext(host, audit.installation_id)
            feeds = standard_feeds(audit.feeds, context, Redactor(audit.files.redact_patterns))
            self.feeds = FeedRunner(feeds, state_dir, self.emit, audit.feeds.poll_interval_s,
                                    audit.feeds.history_on_first_start)

    def emit(self, records: list[dict[str, Any]]) -> None:
        """Hand records to the shipper (a durable local append) in bounded envelopes."""
        for start in range(0, len(records), MAX_RECORDS_PER_ENVELOPE):
            chunk = records[start:start + MAX_RECORDS_PER_ENVELOPE]
            self._submit(make_envelope(Kind.AUDIT, self.agent_id, self.host, chunk))

    def start(self) -> None:
        self.files.start()
        if self.feeds is not None:
            self.feeds.start()
        log.info("audit sources started (file integrity %s, host feeds %s)",
                 "polling" if self.files.polling else "inotify", "on" if self.feeds else "off")

    def stop(self) -> None:
        if self.feeds is not None:
            self.feeds.stop()
        self.files.stop()
