"""`watchkeeper alarms ...`: alarm commands.

Offline commands (no server, no storage) live here now: `evaluate` (dry run of
one alarm against given datapoints) and `test` (alarm unit-test files).
Commands backed by the API (put-metric-alarm, describe-alarms, ...) are added
to the same `command` group with @command.command(...); they take their
endpoint from ctx.obj["endpoint"] set by the root group.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import cast

import click

from alarms.dryrun import dry_run, load_json_argument, observed_from_put_metric_data, parse_time
from alarms.model import STATE_VALUES, StateValue, load_metric_alarm
from alarms.testfile import run_test_file


@click.group("alarms")
def command() -> None:
    """CloudWatch-style metric and composite alarms."""


@command.command("evaluate")
@click.option("--alarm", "alarm_arg", required=True, help="The alarm in PutMetricAlarm JSON: file://a.json or inline.")
@click.option("--metric-data", "data_arg", required=True,
              help="Datapoints in PutMetricData JSON ({Namespace, MetricData: [...]}): file://d.json or inline.")
@click.option("--at", "at_arg", required=True, help="Evaluate as of this time: ISO 8601 (2024-05-01T12:00:00Z) "
                                                     "or epoch seconds.")
@click.option("--state-value", type=click.Choice(STATE_VALUES), default="INSUFFICIENT_DATA", show_default=True,
              help="The alarm's state before this evaluation.")
def evaluate_command(alarm_arg: str, data_arg: str, at_arg: str, state_value: str) -> None:
    """Evaluate one alarm against the given datapoints, touching no storage; print the resulting state."""
    alarm_source = alarm_arg[len("file://"):] if alarm_arg.startswith("file://") else "--alarm"
    data_source = data_arg[len("file://"):] if data_arg.startswith("file://") else "--metric-data"
    alarm = load_metric_alarm(load_json_argument(alarm_arg, "--alarm"), alarm_source)
    data = observed_from_put_metric_data(load_json_argument(data_arg, "--metric-data"), data_source)
    at = parse_time(at_arg, "--at", "")
    result = dry_run(alarm, data, at, cast(StateValue, state_value), alarm_source)
    click.echo(json.dumps(result.as_output(), indent=2))


@command.command("test")
@click.argument("files", nargs=-1, required=True, type=click.Path(path_type=Path))
@click.pass_context
def test_command(ctx: click.Context, files: tuple[Path, ...]) -> None:
    """Run alarm unit-test files (YAML or JSON); exit 1 when an expectation fails."""
    checked = 0
    failed = 0
    for path in files:
        count, failures = run_test_file(path)
        checked += count
        failed += len(failures)
        for failure in failures:
            click.echo(f"{failure}\n", err=True)
    click.echo(f"{checked - failed} of {checked} expectations passed in {len(files)} file(s)")
    if failed:
        ctx.exit(1)
