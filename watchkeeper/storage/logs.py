"""Log events: the item the agent ships and the rows the collector stores.

One item is a *run*: consecutive events of one file within a batch, stored
column-wise so that a batch of 10,000 lines is a few lists instead of 10,000 dicts.
The messages of a run travel as one string, joined by newlines (`text`), whenever no
message holds a newline itself (every run but multi-line events): the agent decodes a
whole chunk at once and never makes one Python object per line, and the collector
splits the string at C speed. Runs of multi-line events carry the list (`messages`).
`timestamps_ms` is empty when every event was stamped with the read time (no
timestamp_format), which is then `ingestion_ms`. Items in the first shape (always
`messages`, always `timestamps_ms`) are read as well; docs/logs-agent.md has both.

An event's identity is (host, file_id, offset): a line re-read after a crash has the
same identity, and the logs table's sorting key ends with it, so the
ReplacingMergeTree folds the copies into one row. The timestamp takes no part in it:
a line without a parsed timestamp gets its read time, which differs on a re-read.
"""

from __future__ import annotations

import re
from bisect import bisect_right
from dataclasses import dataclass
from itertools import accumulate, repeat
from operator import add
from typing import Any

from watchkeeper.errors import WireError
from watchkeeper.storage.engine import Columns
from watchkeeper.wire import Envelope

LOG_COLUMNS = ("log_group", "log_stream", "host", "file", "file_id", "file_offset", "ts", "timestamp_ms",
               "ingestion_ms", "severity", "message", "retention_in_days")
GROUP_COLUMNS = ("name", "retention_in_days", "created")
STREAM_COLUMNS = ("log_group", "log_stream", "hour", "first_event_ms", "last_event_ms", "last_ingestion_ms")
_FIELDS = ("log_group", "log_stream", "file", "file_id", "retention_in_days", "ingestion_ms", "offsets",
           "timestamps_ms", "text or messages")


@dataclass(frozen=True, slots=True)
class LogRun:
    """Consecutive events from one file: offsets[i] and message i (and timestamps_ms[i], if any) are event i."""

    log_group: str
    log_stream: str
    file: str
    file_id: str
    retention_in_days: int
    ingestion_ms: int
    offsets: list[int]
    timestamps_ms: list[int]
    """One per event, or empty: every event was stamped with ingestion_ms."""
    messages: list[str] | str
    """The messages, or all of them joined by newlines when none holds a newline itself."""

    def to_item(self) -> dict[str, Any]:
        item: dict[str, Any] = {
            "log_group": self.log_group,
            "log_stream": self.log_stream,
            "file": self.file,
            "file_id": self.file_id,
            "retention_in_days": self.retention_in_days,
            "ingestion_ms": self.ingestion_ms,
            "offsets": self.offsets,
            "timestamps_ms": self.timestamps_ms,
        }
        item["text" if isinstance(self.messages, str) else "messages"] = self.messages
        return item

    def message_chars(self) -> int:
        return len(self.messages) if isinstance(self.messages, str) else sum(map(len, self.messages))

    def part(self, start: int, stop: int) -> LogRun:
        """Events start..stop-1 as a run of their own (for cutting a run too big for one envelope)."""
        messages = self.message_list()[start:stop]
        return LogRun(self.log_group, self.log_stream, self.file, self.file_id, self.retention_in_days,
                      self.ingestion_ms, self.offsets[start:stop], self.timestamps_ms[start:stop],
                      "\n".join(messages) if isinstance(self.messages, str) else messages)

    def message_list(self) -> list[str]:
        return self.messages.split("\n") if isinstance(self.messages, str) else self.messages

    def timestamp_list(self) -> list[int]:
        return self.timestamps_ms or [self.ingestion_ms] * len(self.offsets)

    @classmethod
    def from_item(cls, item: Any, where: str) -> LogRun:
        """Validate one item; raises WireError naming the item, the field, what was found and what is allowed."""
        if not isinstance(item, dict):
            raise WireError(f"{where}: found {type(item).__name__}; allowed: an object with fields {', '.join(_FIELDS)}")
        if "text" in item and "messages" in item:
            raise WireError(f"{where}: found both text and messages; allowed: one of them")
        text_field = "text" if "text" in item else "messages"
        for name, kind in (("log_group", str), ("log_stream", str), ("file", str), ("file_id", str),
                           ("retention_in_days", int), ("ingestion_ms", int), ("offsets", list),
                           ("timestamps_ms", list), (text_field, str if text_field == "text" else list)):
            value = item.get(name)
            if not isinstance(value, kind) or isinstance(value, bool):
                raise WireError(f"{where}.{name}: found {type(value).__name__} {_short(value)}; "
                                f"allowed: {kind.__name__}")
        if not item["log_group"]:
            raise WireError(f"{where}.log_group: found an empty string; allowed: a log group name")
        offsets: list[int] = item["offsets"]
        count = len(offsets)
        _check_values(offsets, f"{where}.offsets", int, "a non-negative int")
        if offsets and min(offsets) < 0:
            index = next(i for i, offset in enumerate(offsets) if offset < 0)
            raise WireError(f"{where}.offsets[{index}]: found int {offsets[index]}; allowed: a non-negative int")
        timestamps: list[int] = item["timestamps_ms"]
        if timestamps:
            _check_count(timestamps, f"{where}.timestamps_ms", count,
                         "one per offset, or none (every event stamped at ingestion_ms)")
            _check_values(timestamps, f"{where}.timestamps_ms", int, "an int (epoch milliseconds)")
        messages: list[str] | str = item[text_field]
        if isinstance(messages, str):
            lines = messages.count("\n") + 1 if count or messages else 0
            if lines != count:
                raise WireError(f"{where}.text: found {lines} lines; allowed: {count}, one per offset")
        else:
            _check_count(messages, f"{where}.messages", count, "one per offset")
            _check_values(messages, f"{where}.messages", str, "str")
        return cls(item["log_group"], item["log_stream"], item["file"], item["file_id"], item["retention_in_days"],
                   item["ingestion_ms"], offsets, timestamps, messages)


def _check_count(values: list[Any], where: str, count: int, allowed: str) -> None:
    if len(values) != count:
        raise WireError(f"{where}: found {len(values)} values; allowed: {count}, {allowed}")


def _check_values(values: list[Any], where: str, kind: type, allowed: str) -> None:
    """Every value is exactly of `kind` (bool is not an int here): one C-speed pass over the types."""
    if set(map(type, values)) <= {kind}:
        return
    index = next(i for i, value in enumerate(values) if type(value) is not kind)
    raise WireError(f"{where}[{index}]: found {type(values[index]).__name__} {_short(values[index])}; "
                    f"allowed: {allowed}")


def _short(value: Any) -> str:
    text = repr(value)
    return text if len(text) <= 40 else text[:37] + "..."


SEVERITIES = {"FATAL": "FATAL", "CRITICAL": "FATAL", "CRIT": "FATAL", "EMERG": "FATAL", "ALERT": "FATAL",
              "PANIC": "FATAL", "ERROR": "ERROR", "ERR": "ERROR", "SEVERE": "ERROR", "WARNING": "WARN",
              "WARN": "WARN", "NOTICE": "INFO", "INFO": "INFO", "DEBUG": "DEBUG", "TRACE": "TRACE"}
# An upper-case level word, or level=/"level":/severity= followed by a level in any case.
_LEVEL = re.compile(
    r"\b(FATAL|CRITICAL|CRIT|EMERG|ALERT|PANIC|ERROR|ERR|SEVERE|WARNING|WARN|NOTICE|INFO|DEBUG|TRACE)\b"
    r"|(?i:\b(?:level|severity|lvl)\"?\s*[=:]\s*\"?)([A-Za-z]+)"
)
# Every match of _LEVEL holds one of these, case-folded (ERR is in ERROR, sev in SEVERE and severity...).
# Most lines (access logs, say) hold none: a few substring searches reject them at C speed, about
# 20 times faster than the regex, which then runs on the few candidates only.
_LEVEL_HINTS = ("err", "warn", "info", "debug", "trace", "fatal", "crit", "emerg", "alert", "panic", "sev",
                "notice", "lev", "lvl")
SEVERITY_SCAN_CHARS = 256


def detect_severity(message: str) -> str:
    """The level named near the start of message (ERROR, WARN, INFO, DEBUG, TRACE, FATAL), else ''."""
    head = message[:SEVERITY_SCAN_CHARS]
    folded = head.casefold()
    for hint in _LEVEL_HINTS:
        if hint in folded:
            break
    else:
        return ""
    match = _LEVEL.search(head)
    if match is None:
        return ""
    return SEVERITIES.get((match.group(1) or match.group(2)).upper(), "")


def severities(messages: list[str], text: str) -> list[str]:
    """detect_severity of every message, where text is the messages joined by one character each.

    The hints are looked for in the whole text at once (a few str.find calls over the run);
    only the messages holding one in their scanned head are examined further. Text that is
    not ASCII is examined message by message: folding its case may change its length.
    """
    if not text.isascii():
        return list(map(detect_severity, messages))
    folded = text.lower()
    starts = list(accumulate(map(add, map(len, messages), repeat(1)), initial=0))
    out = [""] * len(messages)
    for hint in _LEVEL_HINTS:
        found = folded.find(hint)
        while found >= 0:
            index = bisect_right(starts, found) - 1
            if found + len(hint) <= starts[index] + SEVERITY_SCAN_CHARS and not out[index]:
                out[index] = detect_severity(messages[index])
            found = folded.find(hint, starts[index + 1])
    return out


def to_rows(envelope: Envelope) -> dict[str, Columns]:
    """Rows for the logs, log_groups and log_streams tables from one LOGS envelope."""
    logs: dict[str, list[Any]] = {name: [] for name in LOG_COLUMNS}
    groups: dict[str, int] = {}
    streams: dict[tuple[str, str, int], list[int]] = {}
    host = envelope.host
    created = int(envelope.created)
    for index, item in enumerate(envelope.items):
        run = LogRun.from_item(item, f"batch {envelope.batch_id} item {index}")
        count = len(run.offsets)
        if not count:
            continue
        messages = run.message_list()
        logs["log_group"] += [run.log_group] * count
        logs["log_stream"] += [run.log_stream] * count
        logs["host"] += [host] * count
        logs["file"] += [run.file] * count
        logs["file_id"] += [run.file_id] * count
        logs["file_offset"] += run.offsets
        timestamps = run.timestamp_list()
        logs["ts"] += [ms // 1000 for ms in timestamps] if run.timestamps_ms else [run.ingestion_ms // 1000] * count
        logs["timestamp_ms"] += timestamps
        logs["ingestion_ms"] += [run.ingestion_ms] * count
        logs["severity"] += severities(messages, run.messages if isinstance(run.messages, str) else "\n".join(messages))
        logs["message"] += messages
        logs["retention_in_days"] += [run.retention_in_days] * count
        groups[run.log_group] = run.retention_in_days
        first, last = min(timestamps), max(timestamps)
        hour = run.ingestion_ms // 3_600_000 * 3600
        known = streams.setdefault((run.log_group, run.log_stream, hour), [first, last, run.ingestion_ms])
        known[0] = min(known[0], first)
        known[1] = max(known[1], last)
        known[2] = max(known[2], run.ingestion_ms)
    return {
        "logs": logs,
        "log_groups": {"name": list(groups), "retention_in_days": list(groups.values()),
                       "created": [created] * len(groups)},
        "log_streams": {
            "log_group": [key[0] for key in streams],
            "log_stream": [key[1] for key in streams],
            "hour": [key[2] for key in streams],
            "first_event_ms": [value[0] for value in streams.values()],
            "last_event_ms": [value[1] for value in streams.values()],
            "last_ingestion_ms": [value[2] for value in streams.values()],
        },
    }
