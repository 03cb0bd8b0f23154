"""The amazon-cloudwatch-agent JSON configuration file, read as operators already have it.

Sections: `agent`, `metrics` (metrics_collected holds one section per input in
agent/inputs) and `logs` (the log tailer reads LogsSection / CollectListEntry /
LogFilter). Keys of AWS's that make no sense off EC2 (credentials, region,
endpoint_override, ${aws:...} dimensions) are accepted with a warning and have
no effect; unknown keys are errors. `load_agent_config` reports every problem at once.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterator
from pathlib import Path
from typing import TYPE_CHECKING, Any, Literal

from pydantic import Field, create_model, field_validator

from agent.inputs import INPUTS
from agent.inputs._base import AWS_PLACEHOLDER, InputConfig
from watchkeeper.config import Strict, validate
from watchkeeper.errors import ConfigError, Problem

# CloudWatch Logs' PutRetentionPolicy values; -1 keeps the log group's events forever.
RETENTION_DAYS = (-1, 1, 3, 5, 7, 14, 30, 60, 90, 120, 150, 180, 365, 400, 545, 731, 1096, 1827, 2192, 2557,
                  2922, 3288, 3653)
RetentionDays = Literal[-1, 1, 3, 5, 7, 14, 30, 60, 90, 120, 150, 180, 365, 400, 545, 731, 1096, 1827, 2192, 2557,
                        2922, 3288, 3653]

# The encodings the CloudWatch agent documents for collect_list[].encoding.
Encoding = Literal[
    "ascii", "big5", "euc-jp", "euc-kr", "gbk", "gb18030", "ibm866", "iso2022-jp", "iso8859-2", "iso8859-3",
    "iso8859-4", "iso8859-5", "iso8859-6", "iso8859-7", "iso8859-8", "iso8859-8-i", "iso8859-10", "iso8859-13",
    "iso8859-14", "iso8859-15", "iso8859-16", "koi8-r", "koi8-u", "macintosh", "shift_jis", "utf-8", "utf-16",
    "windows-874", "windows-1250", "windows-1251", "windows-1252", "windows-1253", "windows-1254", "windows-1255",
    "windows-1256", "windows-1257", "windows-1258", "x-mac-cyrillic",
]

TIMESTAMP_FORMAT_PATTERN = "{timestamp_format}"


class Credentials(Strict):
    """An IAM role for another AWS account: accepted, unused (Watchkeeper ships to its own Kafka)."""

    role_arn: str | None = None


def _compiles(value: str | None) -> str | None:
    if value is not None and value != TIMESTAMP_FORMAT_PATTERN:
        try:
            re.compile(value)
        except re.error as error:
            raise ValueError(f"not a valid regular expression: {error}") from None
    return value


# ---- logs --------------------------------------------------------------------------------------------


class LogFilter(Strict):
    """One collect_list filter: keep (include) or drop (exclude) lines matching a regular expression."""

    type: Literal["include", "exclude"] = Field(description="include keeps only matching events; exclude drops them.")
    expression: str = Field(min_length=1, description="A regular expression searched in each log event.")

    _regex = field_validator("expression")(_compiles)


class CollectListEntry(Strict):
    """logs.logs_collected.files.collect_list[]: one set of files to tail."""

    file_path: str = Field(min_length=1, max_length=4096,
                           description="Path or glob (`*`, and `**` across directories) of the files to tail.")
    log_group_name: str | None = Field(
        default=None, min_length=1, max_length=512, pattern=r"^[A-Za-z0-9_\-/.#{}]+$",
        description="Log group; {hostname}, {local_hostname}, {ip_address}, {instance_id} expand. "
        "Defaults to file_path up to its last dot.",
    )
    log_stream_name: str | None = Field(
        default=None, min_length=1, max_length=512,
        description="Log stream; same variables as log_group_name. Defaults to logs.log_stream_name.",
    )
    log_group_class: Literal["STANDARD", "INFREQUENT_ACCESS"] | None = Field(
        default=None, description="CloudWatch Logs pricing class: accepted, no effect here."
    )
    timestamp_format: str | None = Field(
        default=None, min_length=1,
        description="strftime-like format (%Y %m %d %H %M %S %b %-d %p %Z %z...) of the timestamp in each "
        "event; without it, events get the time they were read.",
    )
    timezone: Literal["UTC", "Local"] = Field(default="Local", description="Zone of timestamps without an offset.")
    multi_line_start_pattern: str | None = Field(
        default=None, min_length=1,
        description="Regular expression of a line that starts an event ({timestamp_format} = the timestamp's "
        "pattern); other lines join the previous event.",
    )
    encoding: Encoding = Field(default="utf-8", description="Text encoding of the file.")
    filters: list[LogFilter] = Field(default_factory=list, description="Applied in order; an event must pass all.")
    retention_in_days: RetentionDays | None = Field(
        default=None, description="Days the log group keeps events (CloudWatch Logs' allowed values; -1 = forever)."
    )
    auto_removal: bool = Field(default=False, description="Delete a file once it is fully read and a newer one "
                                                          "matching the same file_path appears.")
    publish_multi_logs: bool = Field(default=False, description="Tail every matching file, each to its own "
                                                                "stream, instead of only the newest.")

    _regex = field_validator("multi_line_start_pattern")(_compiles)

    def resolved_log_group_name(self) -> str:
        """The CloudWatch agent's default: the file path up to its final dot."""
        if self.log_group_name:
            return self.log_group_name
        head, dot, tail = self.file_path.rpartition(".")
        return head if dot and "/" not in tail else self.file_path


class FilesSection(Strict):
    """logs.logs_collected.files"""

    collect_list: list[CollectListEntry] = Field(min_length=1)


class LogsCollected(Strict):
    """logs.logs_collected"""

    files: FilesSection | None = None
    windows_events: dict[str, Any] | None = Field(default=None, description="Windows only: accepted, ignored.")


class LogsSection(Strict):
    """logs: which files are tailed and shipped as log events."""

    logs_collected: LogsCollected
    log_stream_name: str | None = Field(default=None, min_length=1, max_length=512,
                                        description="Stream of entries that name none; defaults to {hostname}.")
    force_flush_interval: int = Field(default=5, ge=1, description="Seconds events may wait before shipping.")
    endpoint_override: str | None = Field(default=None, description="AWS endpoint: accepted, no effect here.")
    credentials: Credentials | None = Field(default=None, description="AWS role: accepted, no effect here.")

    def collect_list(self) -> list[CollectListEntry]:
        files = self.logs_collected.files
        return list(files.collect_list) if files else []


# ---- agent -------------------------------------------------------------------------------------------


class AgentSection(Strict):
    """agent: settings of the whole agent."""

    metrics_collection_interval: int = Field(default=60, ge=1,
                                             description="Seconds between samples; under 60 = high resolution.")
    omit_hostname: bool = Field(default=False, description="Leave out the host dimension.")
    logfile: str | None = Field(default=None, description="Where the agent logs; empty = stderr.")
    debug: bool = Field(default=False, description="Log debug messages.")
    region: str | None = Field(default=None, description="AWS region: accepted, no effect here.")
    credentials: Credentials | None = Field(default=None, description="AWS role: accepted, no effect here.")
    run_as_user: str | None = Field(default=None, description="Accepted, no effect: start the agent as that user.")
    usage_data: bool | None = Field(default=None, description="AWS usage telemetry: accepted, no effect here.")


# ---- metrics -----------------------------------------------------------------------------------------

_NOT_YET = ("procstat", "statsd", "collectd")

if TYPE_CHECKING:
    MetricsCollected = Strict
else:
    # One optional key per registered input, so adding an input adds its section here too.
    MetricsCollected = create_model(
        "MetricsCollected",
        __base__=Strict,
        __doc__="metrics.metrics_collected: one section per input.",
        **{name: (spec.config | None, None) for name, spec in INPUTS.items()},
        **{name: (Any, Field(default=None, description="Accepted with a warning: not supported yet."))
           for name in _NOT_YET},
    )


class MetricsSection(Strict):
    """metrics: what is collected and how it is published."""

    namespace: str = Field(default="CWAgent", min_length=1, max_length=255)
    append_dimensions: dict[str, str] = Field(
        default_factory=dict, description="Dimensions added to every metric; ${aws:...} values are dropped."
    )
    aggregation_dimensions: list[list[str]] = Field(
        default_factory=list,
        description="Dimension sets to also publish every metric under (roll-ups); [] = no dimension at all.",
    )
    force_flush_interval: int = Field(default=60, ge=1, description="Seconds metrics may wait before shipping.")
    endpoint_override: str | None = Field(default=None, description="AWS endpoint: accepted, no effect here.")
    credentials: Credentials | None = Field(default=None, description="AWS role: accepted, no effect here.")
    metrics_collected: MetricsCollected

    def inputs(self) -> list[tuple[str, InputConfig]]:
        """The configured host-metrics sections, by input name."""
        found = ((name, getattr(self.metrics_collected, name)) for name in INPUTS)
        return [(name, config) for name, config in found if config is not None]


class AgentConfig(Strict):
    """The whole amazon-cloudwatch-agent JSON file."""

    agent: AgentSection = Field(default_factory=AgentSection)
    metrics: MetricsSection | None = None
    logs: LogsSection | None = None
    traces: dict[str, Any] | None = Field(default=None, description="X-Ray traces: accepted, ignored.")

    def interval_of(self, section: InputConfig) -> int:
        return section.metrics_collection_interval or self.agent.metrics_collection_interval


# ---- loading -----------------------------------------------------------------------------------------


def _aws_dimension_warnings(source: str, path: str, dimensions: dict[str, str]) -> Iterator[Problem]:
    for name, value in dimensions.items():
        if AWS_PLACEHOLDER in value:
            yield Problem(source, f"{path}.{name}", f"{value} needs EC2 instance metadata; the dimension is dropped")


def warnings_for(config: AgentConfig, source: str) -> list[Problem]:
    """Everything accepted but without effect here, each naming its key."""
    accepted: list[tuple[str, object]] = [
        ("agent.region", config.agent.region), ("agent.credentials", config.agent.credentials),
        ("agent.run_as_user", config.agent.run_as_user), ("agent.usage_data", config.agent.usage_data),
        ("traces", config.traces),
    ]
    found: list[Problem] = []
    if config.metrics is not None:
        metrics = config.metrics
        accepted += [("metrics.endpoint_override", metrics.endpoint_override),
                     ("metrics.credentials", metrics.credentials)]
        accepted += [(f"metrics.metrics_collected.{name}", getattr(metrics.metrics_collected, name))
                     for name in _NOT_YET]
        found += _aws_dimension_warnings(source, "metrics.append_dimensions", metrics.append_dimensions)
        for name, section in metrics.inputs():
            found += _aws_dimension_warnings(source, f"metrics.metrics_collected.{name}.append_dimensions",
                                             section.append_dimensions)
    if config.logs is not None:
        accepted += [("logs.endpoint_override", config.logs.endpoint_override),
                     ("logs.credentials", config.logs.credentials),
                     ("logs.logs_collected.windows_events", config.logs.logs_collected.windows_events)]
    found += [Problem(source, path, "accepted but not supported here; it has no effect")
              for path, value in accepted if value is not None]
    return sorted(found, key=lambda problem: problem.path)


def _read_json(path: Path) -> Any:
    source = str(path)
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise ConfigError([Problem(source, "", "file not found")]) from None
    except IsADirectoryError:
        raise ConfigError([Problem(source, "", "is a directory, not a JSON file")]) from None
    except UnicodeDecodeError as error:
        raise ConfigError([Problem(source, "", f"not UTF-8 text: {error.reason} at byte {error.start}")]) from None
    except OSError as error:
        raise ConfigError([Problem(source, "", f"cannot be read: {error.strerror}")]) from None
    try:
        return json.loads(text)
    except json.JSONDecodeError as error:
        raise ConfigError([Problem(source, "", f"not valid JSON: {error.msg} at line {error.lineno} "
                                               f"column {error.colno}")]) from None


def load_agent_config(path: Path) -> tuple[AgentConfig, list[Problem]]:
    """Read and validate the file; returns the config and its warnings, or raises ConfigError with every error."""
    data = _read_json(path)
    if not isinstance(data, dict):
        raise ConfigError([Problem(str(path), "", f"found a JSON {type(data).__name__}; allowed: a JSON object "
                                                  "with agent, metrics and logs sections")])
    config = validate(AgentConfig, data, str(path))
    return config, warnings_for(config, str(path))


__all__ = [
    "RETENTION_DAYS", "AgentConfig", "AgentSection", "CollectListEntry", "Credentials", "FilesSection", "LogFilter",
    "LogsCollected", "LogsSection", "MetricsSection", "load_agent_config", "warnings_for",
]
