"""Log events: the item the agent ships and the rows the collector stores.

One item is a *run*: consecutive events of one file within a batch, stored
column-wise (offsets, timestamps, messages) so that a batch of 10,000 lines is three
lists instead of 10,000 dicts; that is what keeps the agent near disk speed.

An event's identity is (host, file_id, offset): a line re-read after a crash gets the
same event_id, so the ReplacingMergeTree folds the copies into one row. The
timestamp takes no part in it: a line without a parsed timestamp gets its read time,
which differs on a re-read.
"""

from __future__ import annotations

import hashlib
import re
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from watchkeeper.errors import WireError
from watchkeeper.storage.engine import Columns
from watchkeeper.wire import Envelope

LOG_COLUMNS = ("log_group", "log_stream", "host", "file", "file_id", "file_offset", "ts", "timestamp_ms",
               "ingestion_ms", "severity", "message", "event_id", "retention_in_days")
GROUP_COLUMNS = ("name", "retention_in_days", "created")
STREAM_COLUMNS = ("log_group", "log_stream", "hour", "first_event_ms", "last_event_ms", "last_ingestion_ms")


@dataclass(frozen=True, slots=True)
class LogRun:
    """Consecutive events from one file: offsets[i], timestamps_ms[i] and messages[i] are event i."""

    log_group: str
    log_stream: str
    file: str
    file_id: str
    retention_in_days: int
    ingestion_ms: int
    offsets: list[int]
    timestamps_ms: list[int]
    messages: list[str]

    def to_item(self) -> dict[str, Any]:
        return {
            "log_group": self.log_group,
            "log_stream": self.log_stream,
            "file": self.file,
            "file_id": self.file_id,
            "retention_in_days": self.retention_in_days,
            "ingestion_ms": self.ingestion_ms,
            "offsets": self.offsets,
            "timestamps_ms": self.timestamps_ms,
            "messages": self.messages,
        }

    @classmethod
    def from_item(cls, item: Any, where: str) -> LogRun:
        """Validate one item; raises WireError naming the item, the field, what was found and what is allowed."""
        if not isinstance(item, dict):
            raise WireError(f"{where}: found {type(item).__name__}; allowed: an object with fields "
                            f"{', '.join(cls.__slots__)}")
        for name, kind in (("log_group", str), ("log_stream", str), ("file", str), ("file_id", str),
                           ("retention_in_days", int), ("ingestion_ms", int), ("offsets", list),
                           ("timestamps_ms", list), ("messages", list)):
            value = item.get(name)
            if not isinstance(value, kind) or isinstance(value, bool):
                raise WireError(f"{where}.{name}: found {type(value).__name__} {_short(value)}; "
                                f"allowed: {kind.__name__}")
        if not item["log_group"]:
            raise WireError(f"{where}.log_group: found an empty string; allowed: a log group name")
        count = len(item["offsets"])
        _check_values(item, "offsets", count, where, _is_offset, "a non-negative int")
        _check_values(item, "timestamps_ms", count, where, _is_int, "an int (epoch milliseconds)")
        _check_values(item, "messages", count, where, _is_str, "str")
        return cls(**{name: item[name] for name in cls.__slots__})


def _is_int(value: Any) -> bool:
    return isinstance(value, int) and not isinstance(value, bool)


def _is_offset(value: Any) -> bool:
    return _is_int(value) and value >= 0


def _is_str(value: Any) -> bool:
    return isinstance(value, str)


def _check_values(item: dict[str, Any], name: str, count: int, where: str, valid: Callable[[Any], bool],
                  allowed: str) -> None:
    values = item[name]
    if len(values) != count:
        raise WireError(f"{where}.{name}: found {len(values)} values; allowed: {count}, one per offset")
    if all(map(valid, values)):
        return
    index = next(i for i, value in enumerate(values) if not valid(value))
    raise WireError(f"{where}.{name}[{index}]: found {type(values[index]).__name__} {_short(values[index])}; "
                    f"allowed: {allowed}")


def _short(value: Any) -> str:
    text = repr(value)
    return text if len(text) <= 40 else text[:37] + "..."


def log_event_id(host: str, file_id: str, offset: int) -> int:
    """The stable 63-bit id of the event starting at offset in one file identity on one host."""
    digest = hashlib.blake2b(f"{host}\x00{file_id}\x00{offset}".encode(), digest_size=8)
    return int.from_bytes(digest.digest(), "big") >> 1


SEVERITIES = {"FATAL": "FATAL", "CRITICAL": "FATAL", "CRIT": "FATAL", "EMERG": "FATAL", "ALERT": "FATAL",
              "PANIC": "FATAL", "ERROR": "ERROR", "ERR": "ERROR", "SEVERE": "ERROR", "WARNING": "WARN",
              "WARN": "WARN", "NOTICE": "INFO", "INFO": "INFO", "DEBUG": "DEBUG", "TRACE": "TRACE"}
# An upper-case level word, or level=/"level":/severity= followed by a level in any case.
_LEVEL = re.compile(
    r"\b(FATAL|CRITICAL|CRIT|EMERG|ALERT|PANIC|ERROR|ERR|SEVERE|WARNING|WARN|NOTICE|INFO|DEBUG|TRACE)\b"
    r"|(?i:\b(?:level|severity|lvl)\"?\s*[=:]\s*\"?)([A-Za-z]+)"
)
SEVERITY_SCAN_CHARS = 256


def detect_severity(message: str) -> str:
    """The level named near the start of message (ERROR, WARN, INFO, DEBUG, TRACE, FATAL), else ''."""
    match = _LEVEL.search(message, 0, SEVERITY_SCAN_CHARS)
    if match is None:
        return ""
    return SEVERITIES.get((match.group(1) or match.group(2)).upper(), "")


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
        logs["log_group"] += [run.log_group] * count
        logs["log_stream"] += [run.log_stream] * count
        logs["host"] += [host] * count
        logs["file"] += [run.file] * count
        logs["file_id"] += [run.file_id] * count
        logs["file_offset"] += run.offsets
        logs["ts"] += [ms // 1000 for ms in run.timestamps_ms]
        logs["timestamp_ms"] += run.timestamps_ms
        logs["ingestion_ms"] += [run.ingestion_ms] * count
        logs["severity"] += [detect_severity(message) for message in run.messages]
        logs["message"] += run.messages
        logs["event_id"] += [log_event_id(host, run.file_id, offset) for offset in run.offsets]
        logs["retention_in_days"] += [run.retention_in_days] * count
        groups[run.log_group] = run.retention_in_days
        first, last = min(run.timestamps_ms), max(run.timestamps_ms)
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
