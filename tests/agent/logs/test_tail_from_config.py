"""collect_list entries become TailSpecs the tailer accepts."""

from __future__ import annotations

from agent.cwagent_config import LogsSection
from agent.logs.from_config import tail_options, tail_specs
from agent.logs.spec import LineFilter, compile_spec


def test_collect_list_maps_names_defaults_and_filters() -> None:
    section = LogsSection.model_validate({
        "logs_collected": {"files": {"collect_list": [
            {"file_path": "/var/log/app.log", "retention_in_days": -1,
             "filters": [{"type": "exclude", "expression": "health"}]},
            {"file_path": "/srv/**/*.log", "log_group_name": "web-{hostname}", "log_stream_name": "{ip_address}",
             "timestamp_format": "%Y-%m-%d %H:%M:%S", "multi_line_start_pattern": "{timestamp_format}",
             "retention_in_days": 30},
        ]}},
        "log_stream_name": "{instance_id}-default",
        "force_flush_interval": 2,
    })
    first, second = tail_specs(section, "web-1", "10.0.0.5")
    assert (first.log_group, first.log_stream, first.retention_in_days) == ("/var/log/app", "web-1-default", 0)
    assert first.filters == (LineFilter("exclude", "health"),)
    assert (second.log_group, second.log_stream, second.retention_in_days) == ("web-web-1", "10.0.0.5", 30)
    assert second.source == "logs.logs_collected.files.collect_list[1]"
    assert compile_spec(second).start_pattern is not None
    assert tail_options(section).flush_interval_s == 2.0
