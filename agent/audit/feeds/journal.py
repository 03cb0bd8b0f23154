"""Units started, stopped and failed, from systemd's catalogued journal messages.

When a start or stop job finishes, systemd (PID 1, or a user's manager) logs a
message with a fixed MESSAGE_ID and the fields UNIT (USER_UNIT for a user manager),
JOB_TYPE and JOB_RESULT. Only those entries are read (`journalctl MESSAGE_ID=...`),
after the `__CURSOR` of the last one handed on; the first start begins at "now" so
history is not replayed. The "Starting..."/"Stopping..." messages are not events: the
job's outcome is in its done message.

The journal entry does not say who asked for the job (systemctl talks to PID 1 over
D-Bus; the requester is not logged), so the identity is the systemd manager itself.
Without `journalctl` or a readable journal (most containers) the feed logs that once
and records nothing; enabled/disabled units still come from the systemd feed.
"""

from __future__ import annotations

import logging
import shutil
import subprocess
import time
from typing import Any

import orjson

from agent.audit.feeds.base import FeedContext
from agent.audit.feeds.systemd import SOURCE

log = logging.getLogger(__name__)

UNIT_STARTED = "39f53479d3a045ac8e11786248231fbf"
UNIT_STOPPED = "9d1aaa27d60140bd96365438aad20286"
UNIT_FAILED = "be02cf6855d2428ba40df7e9d022f03d"
EVENT_NAMES = {UNIT_STARTED: "StartUnit", UNIT_STOPPED: "StopUnit", UNIT_FAILED: "FailUnit"}
SYSTEMD_MANAGER = {"type": "Service", "principalId": "systemd", "identitySource": "journal"}
JOURNALCTL_TIMEOUT_S = 120


def field(entry: dict[str, Any], name: str) -> str | None:
    """A journal field as text: `-o json` gives non-UTF-8 values as byte arrays and repeated fields as lists."""
    value = entry.get(name)
    if isinstance(value, str):
        return value
    if isinstance(value, list) and value and all(isinstance(b, int) for b in value):
        return bytes(value).decode("utf-8", errors="replace")
    return None


def unit_record(context: FeedContext, entry: dict[str, Any]) -> dict[str, Any] | None:
    """The record of a unit's start/stop/failure journal entry; None for any other entry."""
    event_name = EVENT_NAMES.get(field(entry, "MESSAGE_ID") or "")
    cursor = field(entry, "__CURSOR")
    system_unit = field(entry, "UNIT")
    unit = system_unit or field(entry, "USER_UNIT")
    realtime_us = field(entry, "__REALTIME_TIMESTAMP")
    if event_name is None or cursor is None or unit is None or realtime_us is None:
        return None
    request: dict[str, Any] = {"unit": unit, "jobType": field(entry, "JOB_TYPE")}
    if system_unit is None:
        request["userUnit"] = True
    extra: dict[str, Any] = {"jobResult": field(entry, "JOB_RESULT"), "message": field(entry, "MESSAGE"),
                             "journalHostname": field(entry, "_HOSTNAME"), "journalCursor": cursor}
    for name, key in (("_PID", "pid"), ("_UID", "uid")):
        value = field(entry, name)
        if value is not None and value.isdigit():
            extra[key] = int(value)
    error = (field(entry, "JOB_RESULT") or "failed", field(entry, "MESSAGE") or "") if event_name == "FailUnit" else None
    return context.record(
        source=SOURCE, name=event_name, identity=dict(SYSTEMD_MANAGER), resource_type="Host::SystemdUnit",
        resource_name=unit, event_time=int(realtime_us) / 1_000_000, id_parts=("journal", cursor),
        request=request, extra=extra, error=error, agent_part="journal")


def journal_readable(journalctl: str) -> bool:
    """Whether journalctl runs and shows at least one entry (an absent or unreadable journal shows none)."""
    try:
        shown = subprocess.run([journalctl, "-o", "json", "--no-pager", "-n", "1"], capture_output=True,
                               timeout=JOURNALCTL_TIMEOUT_S, check=False)
    except (OSError, subprocess.TimeoutExpired):
        return False
    return shown.returncode == 0 and bool(shown.stdout.strip())


class JournalFeed:
    """Position: the last handed-on entry's cursor, or before the first one the time the feed first started."""

    name = "journal"

    def __init__(self, context: FeedContext) -> None:
        self.context = context
        self.journalctl = shutil.which("journalctl")
        self._available: bool | None = None
        self.cursor: str | None = None
        self.since_s = int(time.time())

    def restore(self, saved: Any | None) -> None:
        self.cursor = saved.get("cursor") if saved else None
        self.since_s = int(saved["since_s"]) if saved else int(time.time())

    def saved(self) -> Any:
        return {"cursor": self.cursor, "since_s": self.since_s}

    def poll(self) -> list[dict[str, Any]]:
        journalctl = self._readable_journalctl()
        if journalctl is None:
            return []
        position = f"--after-cursor={self.cursor}" if self.cursor else f"--since=@{self.since_s}"
        matches = [f"MESSAGE_ID={message_id}" for message_id in EVENT_NAMES]
        shown = subprocess.run([journalctl, "-o", "json", "--no-pager", "--quiet", position, *matches],
                               capture_output=True, timeout=JOURNALCTL_TIMEOUT_S, check=False)
        if shown.returncode != 0:
            raise RuntimeError(f"journalctl exited with {shown.returncode}: {shown.stderr.decode(errors='replace')}")
        records = []
        for line in shown.stdout.splitlines():
            entry = orjson.loads(line)
            record = unit_record(self.context, entry)
            if record is not None:
                records.append(record)
            self.cursor = field(entry, "__CURSOR") or self.cursor
        return records

    def _readable_journalctl(self) -> str | None:
        """journalctl's path if the journal can be read; checked once (the first time logs why not)."""
        if self._available is None:
            self._available = self.journalctl is not None and journal_readable(self.journalctl)
            if not self._available:
                log.info("no readable systemd journal (journalctl %s): units started/stopped are not recorded; "
                         "they need journald", "missing" if self.journalctl is None else "shows no entries")
        return self.journalctl if self._available else None
