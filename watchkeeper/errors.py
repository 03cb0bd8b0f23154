"""Every exception Watchkeeper raises on purpose, in one place.

WatchkeeperError
├── ConfigError          a configuration file or request is invalid; carries every problem found
│   └── FilterPatternError  a CloudWatch Logs filter pattern does not parse; points at the column
├── WireError            a Kafka record or spool entry cannot be decoded as an envelope
├── TransportError       Kafka or the spool failed
│   └── SpoolFullError   the spool had to drop its oldest segment to make room
├── StorageError         ClickHouse (server or chdb) refused or failed a statement
│   └── StorageUnavailable  the server cannot be reached at all (retry later)
├── ApiError             an API call was refused; maps to an HTTP status and an AWS-style code
└── DeliveryError        an alarm notification could not be delivered (retried, then recorded in history)

Callers at the edge (the CLI, the API) turn these into clear messages and exit
codes; nothing below the edge prints.
"""

from __future__ import annotations

from dataclasses import dataclass


class WatchkeeperError(Exception):
    """Base of every error Watchkeeper raises on purpose."""


@dataclass(frozen=True)
class Problem:
    """One thing wrong with an input: where, what was found, what is allowed."""

    source: str
    path: str
    message: str

    def __str__(self) -> str:
        where = f"{self.source}: {self.path}" if self.path else self.source
        return f"{where}: {self.message}"


class ConfigError(WatchkeeperError):
    """An input (file or request) is invalid. Holds every problem, not just the first."""

    def __init__(self, problems: list[Problem]) -> None:
        self.problems = problems
        super().__init__("\n".join(str(p) for p in problems))


class FilterPatternError(ConfigError):
    """A filter pattern is malformed: names the 1-based column and shows the pattern with a caret.

    A ConfigError so that the CLI and the API report it like any other bad input.
    """

    def __init__(self, pattern: str, column: int, reason: str, source: str = "filter pattern") -> None:
        self.pattern = pattern
        self.column = column
        self.reason = reason
        pointer = f"{reason}\n    {pattern}\n    {' ' * (column - 1)}^"
        super().__init__([Problem(source, f"column {column}", pointer)])


class WireError(WatchkeeperError):
    """A record could not be decoded or validated as a Watchkeeper envelope."""


class TransportError(WatchkeeperError):
    """Kafka or the local spool failed to take or give a batch."""


class SpoolFullError(TransportError):
    """The spool reached its byte bound and dropped its oldest segment."""


class StorageError(WatchkeeperError):
    """ClickHouse or chdb refused or failed a statement."""


class StorageUnavailable(StorageError):
    """The ClickHouse server could not be reached; the caller should retry later."""


class ApiError(WatchkeeperError):
    """An API request was refused, with an AWS-style error code and an HTTP status."""

    def __init__(self, code: str, message: str, status: int = 400) -> None:
        self.code = code
        self.message = message
        self.status = status
        super().__init__(f"{code}: {message}")


class DeliveryError(WatchkeeperError):
    """One attempt to deliver an alarm notification failed; the message says why (HTTP status, SMTP reply,
    exit code, timeout). The notification dispatcher retries it and records every attempt in alarm history."""
