"""What to tail and how: the tailer's own view of one collect_list entry.

The CloudWatch-agent config models map onto this (agent/logs/from_config.py);
the tailer itself only ever sees a TailSpec, validated on creation so
a bad pattern or encoding is reported with the entry it came from.
"""

from __future__ import annotations

import codecs
import re
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Literal

from agent.logs.timestamps import TimestampParser
from watchkeeper.errors import ConfigError, Problem

TIMESTAMP_START = "{timestamp_format}"


@dataclass(frozen=True)
class LineFilter:
    """CloudWatch agent filter: include = the event must match, exclude = it must not."""

    type: Literal["include", "exclude"]
    expression: str


@dataclass(frozen=True)
class TailSpec:
    """One set of files (a glob) and how their lines become events."""

    file_path: str
    log_group: str
    log_stream: str
    timestamp_format: str | None = None
    timezone: Literal["Local", "UTC"] = "Local"
    multi_line_start_pattern: str | None = None
    encoding: str = "utf-8"
    filters: tuple[LineFilter, ...] = ()
    retention_in_days: int = 0
    max_line_bytes: int = 256 * 1024
    source: str = "logs.logs_collected.files.collect_list"


@dataclass(frozen=True)
class CompiledSpec:
    """A TailSpec with its patterns compiled; built by compile_spec, which reports every problem."""

    spec: TailSpec
    timestamp: TimestampParser | None
    start_pattern: re.Pattern[str] | None
    filters: tuple[tuple[bool, re.Pattern[str]], ...] = field(default=())

    def keeps(self, message: str) -> bool:
        """True when the event passes every include and exclude filter, in order."""
        return all(bool(pattern.search(message)) == include for include, pattern in self.filters)


def compile_spec(spec: TailSpec) -> CompiledSpec:
    problems: list[Problem] = []

    def bad(key: str, message: str) -> None:
        problems.append(Problem(spec.source, key, message))

    try:
        codec = codecs.lookup(spec.encoding)
        if "\n".encode(codec.name) != b"\n":
            bad("encoding", f"found {spec.encoding!r}; allowed: an ASCII-compatible encoding (utf-8, latin-1, "
                            "cp1252, shift_jis, gbk, ...): lines are split on the byte 0x0A")
    except LookupError:
        bad("encoding", f"found {spec.encoding!r}; allowed: a Python codec name such as utf-8 or latin-1")
    if spec.max_line_bytes < 1024:
        bad("max_line_bytes", f"found {spec.max_line_bytes}; allowed: at least 1024")
    timestamp = None
    if spec.timestamp_format:
        try:
            timestamp = TimestampParser(spec.timestamp_format, spec.timezone)
        except ValueError as error:
            bad("timestamp_format", str(error))
    start_pattern = None
    if spec.multi_line_start_pattern == TIMESTAMP_START:
        if timestamp is None:
            bad("multi_line_start_pattern", f"found {TIMESTAMP_START!r} but timestamp_format is not set; "
                                            "allowed: a regex, or {timestamp_format} with timestamp_format")
        else:
            start_pattern = re.compile("^" + timestamp.pattern.pattern)
    elif spec.multi_line_start_pattern:
        start_pattern = _regex(spec.multi_line_start_pattern, "multi_line_start_pattern", bad)
    filters = []
    for index, line_filter in enumerate(spec.filters):
        if line_filter.type not in ("include", "exclude"):
            bad(f"filters[{index}].type", f"found {line_filter.type!r}; allowed: include, exclude")
        pattern = _regex(line_filter.expression, f"filters[{index}].expression", bad)
        if pattern is not None:
            filters.append((line_filter.type == "include", pattern))
    if problems:
        raise ConfigError(problems)
    return CompiledSpec(spec, timestamp, start_pattern, tuple(filters))


def _regex(expression: str, key: str, bad: Callable[[str, str], None]) -> re.Pattern[str] | None:
    try:
        return re.compile(expression)
    except re.error as error:
        bad(key, f"found {expression!r}: not a valid regular expression ({error}); allowed: a Python regex")
        return None
