"""The amazon-cloudwatch-agent JSON file: AWS's own samples load, errors are all reported, `config check`."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner

from agent.cwagent_config import load_agent_config
from agent.inputs import INPUTS
from agent.inputs.cpu import CpuConfig
from agent.inputs.disk import DiskConfig
from watchkeeper.cli.main import cli
from watchkeeper.errors import ConfigError

EC2_DIMENSIONS = {"ImageId": "${aws:ImageId}", "InstanceId": "${aws:InstanceId}",
                  "InstanceType": "${aws:InstanceType}", "AutoScalingGroupName": "${aws:AutoScalingGroupName}"}

# The configuration wizard's predefined metric sets, as the CloudWatch user guide shows them.
WIZARD_BASIC = {
    "agent": {"metrics_collection_interval": 60, "run_as_user": "cwagent"},
    "metrics": {
        "append_dimensions": EC2_DIMENSIONS,
        "metrics_collected": {
            "disk": {"measurement": ["used_percent"], "metrics_collection_interval": 60, "resources": ["*"]},
            "mem": {"measurement": ["mem_used_percent"], "metrics_collection_interval": 60},
        },
    },
}
WIZARD_STANDARD = {
    "agent": {"metrics_collection_interval": 60, "run_as_user": "root"},
    "metrics": {
        "append_dimensions": EC2_DIMENSIONS,
        "metrics_collected": {
            "cpu": {"measurement": ["cpu_usage_idle", "cpu_usage_iowait", "cpu_usage_user", "cpu_usage_system"],
                    "metrics_collection_interval": 60, "resources": ["*"], "totalcpu": False},
            "disk": {"measurement": ["used_percent", "inodes_free"], "metrics_collection_interval": 60,
                     "resources": ["*"]},
            "diskio": {"measurement": ["io_time"], "metrics_collection_interval": 60, "resources": ["*"]},
            "mem": {"measurement": ["mem_used_percent"], "metrics_collection_interval": 60},
            "swap": {"measurement": ["swap_used_percent"], "metrics_collection_interval": 60},
        },
    },
}
WIZARD_ADVANCED = {
    "agent": {"metrics_collection_interval": 10, "run_as_user": "cwagent"},
    "metrics": {
        "aggregation_dimensions": [["InstanceId"]],
        "append_dimensions": EC2_DIMENSIONS,
        "metrics_collected": {
            "cpu": {"measurement": ["cpu_usage_idle", "cpu_usage_iowait", "cpu_usage_user", "cpu_usage_system"],
                    "metrics_collection_interval": 10, "resources": ["*"], "totalcpu": False},
            "disk": {"measurement": ["used_percent", "inodes_free"], "metrics_collection_interval": 10,
                     "resources": ["*"]},
            "diskio": {"measurement": ["io_time", "write_bytes", "read_bytes", "writes", "reads"],
                       "metrics_collection_interval": 10, "resources": ["*"]},
            "mem": {"measurement": ["mem_used_percent"], "metrics_collection_interval": 10},
            "netstat": {"measurement": ["tcp_established", "tcp_time_wait"], "metrics_collection_interval": 10},
            "swap": {"measurement": ["swap_used_percent"], "metrics_collection_interval": 10},
        },
    },
}
# The user guide's complete Linux example.
COMPLETE_LINUX = {
    "agent": {"metrics_collection_interval": 10,
              "logfile": "/opt/aws/amazon-cloudwatch-agent/logs/amazon-cloudwatch-agent.log"},
    "metrics": {
        "metrics_collected": {
            "cpu": {"resources": ["*"],
                    "measurement": [{"name": "cpu_usage_idle", "rename": "CPU_USAGE_IDLE", "unit": "Percent"},
                                    {"name": "cpu_usage_nice", "unit": "Percent"}, "cpu_usage_guest"],
                    "totalcpu": False, "metrics_collection_interval": 10,
                    "append_dimensions": {"customized_dimension_key_1": "customized_dimension_value_1",
                                          "customized_dimension_key_2": "customized_dimension_value_2"}},
            "disk": {"resources": ["/", "/tmp"],
                     "measurement": [{"name": "free", "rename": "DISK_FREE", "unit": "Gigabytes"}, "total", "used"],
                     "ignore_file_system_types": ["sysfs", "devtmpfs"], "metrics_collection_interval": 60,
                     "append_dimensions": {"customized_dimension_key_3": "customized_dimension_value_3",
                                           "customized_dimension_key_4": "customized_dimension_value_4"}},
            "diskio": {"resources": ["*"], "measurement": ["reads", "writes", "read_time", "write_time", "io_time"],
                       "metrics_collection_interval": 60},
            "swap": {"measurement": ["swap_used", "swap_free", "swap_used_percent"]},
            "mem": {"measurement": ["mem_used", "mem_cached", "mem_total"], "metrics_collection_interval": 1},
            "net": {"resources": ["eth0"], "measurement": ["bytes_sent", "bytes_recv", "drop_in", "drop_out"]},
            "netstat": {"measurement": ["tcp_established", "tcp_syn_sent", "tcp_close"],
                        "metrics_collection_interval": 60},
            "processes": {"measurement": ["running", "sleeping", "dead"]},
        },
        "append_dimensions": EC2_DIMENSIONS,
        "aggregation_dimensions": [["ImageId"], ["InstanceId", "InstanceType"], ["d1"], []],
        "force_flush_interval": 30,
    },
    "logs": {
        "logs_collected": {"files": {"collect_list": [
            {"file_path": "/opt/aws/amazon-cloudwatch-agent/logs/amazon-cloudwatch-agent.log",
             "log_group_name": "amazon-cloudwatch-agent.log", "log_stream_name": "amazon-cloudwatch-agent.log",
             "timezone": "UTC"},
            {"file_path": "/opt/aws/amazon-cloudwatch-agent/logs/test.log", "log_group_name": "test.log",
             "log_stream_name": "test.log", "timezone": "Local"},
        ]}},
        "log_stream_name": "my_log_stream_name",
        "force_flush_interval": 15,
    },
}


def write(tmp_path: Path, data: Any, name: str = "amazon-cloudwatch-agent.json") -> Path:
    path = tmp_path / name
    path.write_text(json.dumps(data) if not isinstance(data, str) else data)
    return path


@pytest.mark.parametrize("sample", [WIZARD_BASIC, WIZARD_STANDARD, WIZARD_ADVANCED, COMPLETE_LINUX])
def test_aws_samples_load_and_ec2_dimensions_only_warn(tmp_path: Path, sample: dict[str, Any]) -> None:
    config, warnings = load_agent_config(write(tmp_path, sample))
    assert config.metrics is not None
    assert [name for name, _ in config.metrics.inputs()] == sorted(sample["metrics"]["metrics_collected"])
    dimension_warnings = [w for w in warnings if w.path.startswith("metrics.append_dimensions.")]
    assert sorted(w.path.rsplit(".", 1)[1] for w in dimension_warnings) == sorted(EC2_DIMENSIONS)
    assert all("dropped" in w.message for w in dimension_warnings)


def test_complete_example_values(tmp_path: Path) -> None:
    config, _ = load_agent_config(write(tmp_path, COMPLETE_LINUX))
    assert config.metrics is not None and config.logs is not None
    sections = dict(config.metrics.inputs())
    cpu, disk, mem = sections["cpu"], sections["disk"], sections["mem"]
    assert isinstance(cpu, CpuConfig) and isinstance(disk, DiskConfig)
    assert [(p.metric_name, p.unit) for p in cpu.plan()] == [
        ("CPU_USAGE_IDLE", "Percent"), ("cpu_usage_nice", "Percent"), ("cpu_usage_guest", "Percent")]
    assert not cpu.totalcpu and cpu.resources == ["*"]
    assert disk.plan()[0].metric_name == "DISK_FREE" and disk.plan()[0].unit == "Gigabytes"
    assert config.interval_of(mem) == 1 and config.interval_of(sections["net"]) == 10
    assert config.metrics.namespace == "CWAgent" and config.metrics.force_flush_interval == 30
    entries = config.logs.collect_list()
    assert [e.timezone for e in entries] == ["UTC", "Local"] and entries[0].encoding == "utf-8"
    assert config.logs.force_flush_interval == 15 and config.logs.log_stream_name == "my_log_stream_name"


def test_logs_entry_keys_and_defaults(tmp_path: Path) -> None:
    entry = {"file_path": "/var/log/app/**.log", "timestamp_format": "%Y-%m-%d %H:%M:%S",
             "multi_line_start_pattern": "{timestamp_format}", "encoding": "iso8859-15",
             "filters": [{"type": "exclude", "expression": "DEBUG"}, {"type": "include", "expression": "^\\d+"}],
             "retention_in_days": 14, "auto_removal": True, "publish_multi_logs": True}
    config, warnings = load_agent_config(write(tmp_path, {"logs": {"logs_collected": {"files": {
        "collect_list": [entry, {"file_path": "/tmp/TestLogFile.log.2017-07-11-14"}]}}}}))
    assert warnings == [] and config.logs is not None
    first, second = config.logs.collect_list()
    assert [f.type for f in first.filters] == ["exclude", "include"] and first.retention_in_days == 14
    assert second.resolved_log_group_name() == "/tmp/TestLogFile.log"
    assert second.timezone == "Local" and second.retention_in_days is None


def test_every_problem_reported_at_once_with_key_paths(tmp_path: Path) -> None:
    bad = {
        "agent": {"metrics_collection_interval": "often", "colour": "blue"},
        "metrics": {"metrics_collected": {"cpu": {"measurement": ["usage_idle", "usage_everything"]},
                                          "gpu": {"measurement": ["x"]}, "mem": {}}},
        "logs": {"logs_collected": {"files": {"collect_list": [
            {"file_path": "/a", "retention_in_days": 10, "timezone": "PST",
             "filters": [{"type": "drop", "expression": "(unclosed"}]}]}}},
    }
    with pytest.raises(ConfigError) as caught:
        load_agent_config(write(tmp_path, bad))
    paths = {problem.path: problem.message for problem in caught.value.problems}
    assert set(paths) == {
        "agent.metrics_collection_interval", "agent.colour", "metrics.metrics_collected.cpu.measurement",
        "metrics.metrics_collected.gpu", "metrics.metrics_collected.mem.measurement",
        "logs.logs_collected.files.collect_list[0].retention_in_days",
        "logs.logs_collected.files.collect_list[0].timezone",
        "logs.logs_collected.files.collect_list[0].filters[0].type",
        "logs.logs_collected.files.collect_list[0].filters[0].expression",
    }
    assert "'often'" in paths["agent.metrics_collection_interval"]
    assert "allowed keys:" in paths["metrics.metrics_collected.gpu"]
    assert all(name in paths["metrics.metrics_collected.gpu"] for name in INPUTS)
    assert "usage_everything" in paths["metrics.metrics_collected.cpu.measurement"]
    assert "14" in paths["logs.logs_collected.files.collect_list[0].retention_in_days"]
    assert "regular expression" in paths["logs.logs_collected.files.collect_list[0].filters[0].expression"]
    assert all(problem.source.endswith("amazon-cloudwatch-agent.json") for problem in caught.value.problems)


def test_aws_only_keys_and_unsupported_sections_are_warnings(tmp_path: Path) -> None:
    config, warnings = load_agent_config(write(tmp_path, {
        "agent": {"region": "eu-west-1", "credentials": {"role_arn": "arn:aws:iam::1:role/x"}},
        "metrics": {"endpoint_override": "https://example.invalid", "metrics_collected": {
            "statsd": {"service_address": ":8125"}, "collectd": {}, "procstat": [{"exe": "nginx"}],
            "cpu": {"measurement": ["usage_idle"], "append_dimensions": {"InstanceId": "${aws:InstanceId}"}}}},
        "logs": {"logs_collected": {"windows_events": {"collect_list": []}}, "credentials": {}},
    }))
    assert [w.path for w in warnings] == [
        "agent.credentials", "agent.region", "logs.credentials", "logs.logs_collected.windows_events",
        "metrics.endpoint_override", "metrics.metrics_collected.collectd",
        "metrics.metrics_collected.cpu.append_dimensions.InstanceId", "metrics.metrics_collected.procstat",
        "metrics.metrics_collected.statsd",
    ]
    assert config.metrics is not None and [name for name, _ in config.metrics.inputs()] == ["cpu"]


def test_invalid_json_names_line_and_column(tmp_path: Path) -> None:
    with pytest.raises(ConfigError) as caught:
        load_agent_config(write(tmp_path, '{\n  "agent": {\n    "debug": true,\n  }\n}'))
    assert str(caught.value).endswith("not valid JSON: Expecting property name enclosed in double quotes "
                                      "at line 4 column 3")


@pytest.mark.parametrize(("content", "expected"), [
    ("[1, 2]", "found a JSON list; allowed: a JSON object"),
    (b"\xff\xfe{}", "not UTF-8 text"),
])
def test_not_an_object_or_not_text(tmp_path: Path, content: str | bytes, expected: str) -> None:
    path = tmp_path / "agent.json"
    path.write_bytes(content if isinstance(content, bytes) else content.encode())
    with pytest.raises(ConfigError, match=expected):
        load_agent_config(path)


def test_config_check_reports_every_file_at_once(tmp_path: Path) -> None:
    good_json = write(tmp_path, WIZARD_BASIC, "good.json")
    good_toml = write(tmp_path, '[kafka]\nbootstrap_servers = ["127.0.0.1:9092"]\n', "good.toml")
    bad_toml = write(tmp_path, "[kafka\nx = 1\n", "bad.toml")
    wrong_toml = write(tmp_path, '[kafka]\ncompression = "brotli"\nspeed = 3\n', "wrong.toml")
    bad_json = write(tmp_path, '{"agent": {"debug": "yes", }', "bad.json")
    unknown_json = write(tmp_path, {"metrics": {"metrics_collected": {"cpu": {"measurement": ["usage_idle"],
                                                                              "resource": ["*"]}}}}, "unknown.json")
    missing = tmp_path / "missing.json"
    directory = tmp_path / "adir.toml"
    directory.mkdir()
    files = [good_json, good_toml, bad_toml, wrong_toml, bad_json, unknown_json, missing, directory]
    result = CliRunner().invoke(cli, ["config", "check", *map(str, files)])
    assert result.exit_code == 2, result.output
    assert result.exception is None or isinstance(result.exception, SystemExit)
    assert f"OK {good_json}" in result.stdout and f"OK {good_toml}" in result.stdout
    errors = [line for line in result.stderr.splitlines() if line.startswith("error: ")]
    assert any(f"{bad_toml}: not valid TOML" in line for line in errors)
    assert any(f"{wrong_toml}: kafka.compression: found 'brotli'" in line for line in errors)
    assert any(f"{wrong_toml}: kafka.speed: unknown key" in line for line in errors)
    assert any(f"{bad_json}: not valid JSON" in line and "line 1 column" in line for line in errors)
    assert any(f"{unknown_json}: metrics.metrics_collected.cpu.resource: unknown key" in line for line in errors)
    assert any(f"{missing}: file not found" in line for line in errors)
    assert any(f"{directory}: cannot be read" in line for line in errors)
    assert len(errors) == 7
    assert sum(line.startswith("warning: ") for line in result.stderr.splitlines()) == len(EC2_DIMENSIONS) + 1
    assert "Traceback" not in result.output


def test_config_check_all_good_exits_zero(tmp_path: Path) -> None:
    result = CliRunner().invoke(cli, ["config", "check", str(write(tmp_path, COMPLETE_LINUX))])
    assert result.exit_code == 0 and result.stdout.startswith("OK ")
