"""The CloudWatch agent's `logs` section -> TailSpecs and TailOptions.

Stream and group names expand {hostname}, {local_hostname}, {ip_address} and
{instance_id}; off EC2 the instance id is the host name, which is what names a
server here. retention_in_days -1 (CloudWatch's "never expire") is 0 in storage.
"""

from __future__ import annotations

from dataclasses import replace

from agent.cwagent_config import LogsSection
from agent.logs.options import TailOptions
from agent.logs.spec import LineFilter, TailSpec

SOURCE = "logs.logs_collected.files.collect_list"


def expand(name: str, hostname: str, ip_address: str) -> str:
    return (name.replace("{hostname}", hostname).replace("{local_hostname}", hostname)
            .replace("{ip_address}", ip_address).replace("{instance_id}", hostname))


def tail_specs(section: LogsSection, hostname: str, ip_address: str) -> list[TailSpec]:
    files = section.logs_collected.files
    if files is None:
        return []
    default_stream = section.log_stream_name or "{hostname}"
    return [
        TailSpec(
            file_path=entry.file_path,
            log_group=expand(entry.resolved_log_group_name(), hostname, ip_address),
            log_stream=expand(entry.log_stream_name or default_stream, hostname, ip_address),
            timestamp_format=entry.timestamp_format,
            timezone=entry.timezone,
            multi_line_start_pattern=entry.multi_line_start_pattern,
            encoding=entry.encoding,
            filters=tuple(LineFilter(f.type, f.expression) for f in entry.filters),
            retention_in_days=max(entry.retention_in_days or 0, 0),
            source=f"{SOURCE}[{index}]",
        )
        for index, entry in enumerate(files.collect_list)
    ]


def tail_options(section: LogsSection, base: TailOptions = TailOptions()) -> TailOptions:
    return replace(base, flush_interval_s=float(section.force_flush_interval))
