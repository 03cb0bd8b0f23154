"""`watchkeeper alarms ...`: alarm commands.

Offline commands (no server, no storage): `evaluate` (dry run of one alarm
against given datapoints) and `test` (alarm unit-test files). Commands backed
by the API, shaped like the aws CLI (put-metric-alarm, describe-alarms, ...,
apply for GitOps, and the silences) take their endpoint from
ctx.obj["endpoint"] set by the root group.
"""

from __future__ import annotations

import json
import os
from collections.abc import Callable
from pathlib import Path
from typing import Any, cast

import click

from alarms.dryrun import dry_run, load_json_argument, observed_from_put_metric_data, parse_time
from alarms.model import STATE_VALUES, StateValue, load_metric_alarm
from alarms.gitops import load_directory
from alarms.testfile import run_test_file
from watchkeeper.cli._args import ListOption, json_file
from watchkeeper.cli._args import dimensions as parse_dimensions
from watchkeeper.cli._client import client_from
from watchkeeper.cli._output import echo_answer
from watchkeeper.cli._times import TimeParam
from watchkeeper.errors import ConfigError, Problem


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


# Commands backed by the API (alarms.service through watchkeeper/api/routes_alarms.py) ----------------------

SERVICE = "cloudwatch"


def _call(ctx: click.Context, action: str, body: dict[str, Any]) -> None:
    """POST the action with the options that were given (None = not given) and print the answer."""
    given = {key: value for key, value in body.items() if value is not None and value != ()}
    echo_answer(ctx, client_from(ctx).call(SERVICE, action, given))


def _input_json(argument: str | None) -> dict[str, Any]:
    if argument is None:
        return {}
    data = json_file(argument, "--cli-input-json")
    if not isinstance(data, dict):
        raise ConfigError([Problem(argument.removeprefix("file://"), "", "found a JSON "
                                   f"{type(data).__name__}; allowed an object (the request body)")])
    return data


def _merge(base: dict[str, Any], flags: dict[str, Any]) -> dict[str, Any]:
    """--cli-input-json, with every flag that was given taking precedence (as the aws CLI does)."""
    return {**base, **{key: list(value) if isinstance(value, tuple) else value for key, value in flags.items()
                       if value is not None and value != ()}}


def _actions_options(function: Callable[..., None]) -> Callable[..., None]:
    for name in ("--insufficient-data-actions", "--ok-actions", "--alarm-actions"):
        function = click.option(name, cls=ListOption, help="Action URIs: http(s)://, slack+https://, mailto:, "
                                                           "exec:")(function)
    function = click.option("--actions-enabled/--no-actions-enabled", default=None)(function)
    function = click.option("--alarm-description")(function)
    function = click.option("--alarm-name")(function)
    return click.option("--cli-input-json", help="file://request.json: the whole request body.")(function)


def _common(alarm_name: str | None, alarm_description: str | None, actions_enabled: bool | None,
            alarm_actions: tuple[str, ...], ok_actions: tuple[str, ...],
            insufficient_data_actions: tuple[str, ...]) -> dict[str, Any]:
    return {"AlarmName": alarm_name, "AlarmDescription": alarm_description, "ActionsEnabled": actions_enabled,
            "AlarmActions": alarm_actions, "OKActions": ok_actions,
            "InsufficientDataActions": insufficient_data_actions}


@command.command("put-metric-alarm")
@_actions_options
@click.option("--metric-name")
@click.option("--namespace")
@click.option("--statistic", type=click.Choice(["SampleCount", "Average", "Sum", "Minimum", "Maximum"]))
@click.option("--extended-statistic", help="A percentile such as p99.")
@click.option("--dimensions", cls=ListOption, help="Name=host,Value=web-1 ... or host=web-1,role=db")
@click.option("--period", type=int)
@click.option("--unit")
@click.option("--evaluation-periods", type=int)
@click.option("--datapoints-to-alarm", type=int)
@click.option("--threshold", type=float)
@click.option("--comparison-operator")
@click.option("--treat-missing-data", type=click.Choice(["missing", "ignore", "breaching", "notBreaching"]))
@click.option("--evaluate-low-sample-count-percentile", type=click.Choice(["evaluate", "ignore"]))
@click.pass_context
def put_metric_alarm(ctx: click.Context, cli_input_json: str | None, alarm_name: str | None,
                     alarm_description: str | None, actions_enabled: bool | None, alarm_actions: tuple[str, ...],
                     ok_actions: tuple[str, ...], insufficient_data_actions: tuple[str, ...],
                     metric_name: str | None, namespace: str | None, statistic: str | None,
                     extended_statistic: str | None, dimensions: tuple[str, ...], period: int | None,
                     unit: str | None, evaluation_periods: int | None, datapoints_to_alarm: int | None,
                     threshold: float | None, comparison_operator: str | None, treat_missing_data: str | None,
                     evaluate_low_sample_count_percentile: str | None) -> None:
    """Create or replace a metric alarm (PutMetricAlarm)."""
    flags = _common(alarm_name, alarm_description, actions_enabled, alarm_actions, ok_actions,
                    insufficient_data_actions)
    flags.update({"MetricName": metric_name, "Namespace": namespace, "Statistic": statistic,
                  "ExtendedStatistic": extended_statistic,
                  "Dimensions": parse_dimensions(dimensions) if dimensions else None, "Period": period,
                  "Unit": unit, "EvaluationPeriods": evaluation_periods, "DatapointsToAlarm": datapoints_to_alarm,
                  "Threshold": threshold, "ComparisonOperator": comparison_operator,
                  "TreatMissingData": treat_missing_data,
                  "EvaluateLowSampleCountPercentile": evaluate_low_sample_count_percentile})
    _call(ctx, "PutMetricAlarm", _merge(_input_json(cli_input_json), flags))


@command.command("put-composite-alarm")
@_actions_options
@click.option("--alarm-rule")
@click.option("--actions-suppressor")
@click.option("--actions-suppressor-wait-period", type=int)
@click.option("--actions-suppressor-extension-period", type=int)
@click.pass_context
def put_composite_alarm(ctx: click.Context, cli_input_json: str | None, alarm_name: str | None,
                        alarm_description: str | None, actions_enabled: bool | None, alarm_actions: tuple[str, ...],
                        ok_actions: tuple[str, ...], insufficient_data_actions: tuple[str, ...],
                        alarm_rule: str | None, actions_suppressor: str | None,
                        actions_suppressor_wait_period: int | None,
                        actions_suppressor_extension_period: int | None) -> None:
    """Create or replace a composite alarm (PutCompositeAlarm)."""
    flags = _common(alarm_name, alarm_description, actions_enabled, alarm_actions, ok_actions,
                    insufficient_data_actions)
    flags.update({"AlarmRule": alarm_rule, "ActionsSuppressor": actions_suppressor,
                  "ActionsSuppressorWaitPeriod": actions_suppressor_wait_period,
                  "ActionsSuppressorExtensionPeriod": actions_suppressor_extension_period})
    _call(ctx, "PutCompositeAlarm", _merge(_input_json(cli_input_json), flags))


@command.command("describe-alarms")
@click.option("--alarm-names", cls=ListOption)
@click.option("--alarm-name-prefix")
@click.option("--alarm-types", cls=ListOption, type=click.Choice(["MetricAlarm", "CompositeAlarm"]))
@click.option("--state-value", type=click.Choice(STATE_VALUES))
@click.option("--action-prefix")
@click.option("--max-records", type=int)
@click.option("--next-token")
@click.pass_context
def describe_alarms(ctx: click.Context, alarm_names: tuple[str, ...], alarm_name_prefix: str | None,
                    alarm_types: tuple[str, ...], state_value: str | None, action_prefix: str | None,
                    max_records: int | None, next_token: str | None) -> None:
    """List alarms with their state (DescribeAlarms); metric alarms only unless --alarm-types says otherwise."""
    _call(ctx, "DescribeAlarms", {"AlarmNames": list(alarm_names) or None, "AlarmNamePrefix": alarm_name_prefix,
                                  "AlarmTypes": list(alarm_types) or None, "StateValue": state_value,
                                  "ActionPrefix": action_prefix, "MaxRecords": max_records,
                                  "NextToken": next_token})


@command.command("describe-alarm-history")
@click.option("--alarm-name")
@click.option("--history-item-type", type=click.Choice(["ConfigurationUpdate", "StateUpdate", "Action"]))
@click.option("--start-date", type=TimeParam())
@click.option("--end-date", type=TimeParam())
@click.option("--max-records", type=int)
@click.option("--next-token")
@click.option("--scan-by", type=click.Choice(["TimestampDescending", "TimestampAscending"]))
@click.pass_context
def describe_alarm_history(ctx: click.Context, alarm_name: str | None, history_item_type: str | None,
                           start_date: str | None, end_date: str | None, max_records: int | None,
                           next_token: str | None, scan_by: str | None) -> None:
    """Configuration updates, state updates and actions of alarms, newest first (DescribeAlarmHistory)."""
    _call(ctx, "DescribeAlarmHistory", {"AlarmName": alarm_name, "HistoryItemType": history_item_type,
                                        "StartDate": start_date, "EndDate": end_date, "MaxRecords": max_records,
                                        "NextToken": next_token, "ScanBy": scan_by})


def _names_command(name: str, action: str, doc: str) -> None:
    @command.command(name, help=doc)
    @click.option("--alarm-names", cls=ListOption, required=True)
    @click.pass_context
    def run(ctx: click.Context, alarm_names: tuple[str, ...]) -> None:
        _call(ctx, action, {"AlarmNames": list(alarm_names)})


_names_command("delete-alarms", "DeleteAlarms", "Delete alarms; their history stays (DeleteAlarms).")
_names_command("enable-alarm-actions", "EnableAlarmActions", "Run the alarms' actions again (EnableAlarmActions).")
_names_command("disable-alarm-actions", "DisableAlarmActions",
               "Stop running the alarms' actions; states still change (DisableAlarmActions).")


@command.command("set-alarm-state")
@click.option("--alarm-name", required=True)
@click.option("--state-value", type=click.Choice(STATE_VALUES), required=True)
@click.option("--state-reason", required=True)
@click.option("--state-reason-data", help="JSON.")
@click.pass_context
def set_alarm_state(ctx: click.Context, alarm_name: str, state_value: str, state_reason: str,
                    state_reason_data: str | None) -> None:
    """Force a state until the next evaluation; actions run as for any transition (SetAlarmState)."""
    _call(ctx, "SetAlarmState", {"AlarmName": alarm_name, "StateValue": state_value, "StateReason": state_reason,
                                 "StateReasonData": state_reason_data})


@command.command("apply")
@click.argument("directory", type=click.Path(path_type=Path))
@click.pass_context
def apply_command(ctx: click.Context, directory: Path) -> None:
    """GitOps: validate every *.json alarm in DIRECTORY (all problems at once), then create or update them;
    unchanged alarms are left untouched."""
    alarms = load_directory(directory)
    _call(ctx, "ApplyAlarms", {"Alarms": [a.model_dump(mode="json", exclude_none=True) for a in alarms],
                               "Source": str(directory)})


@command.command("create-silence")
@click.option("--matcher-type", type=click.Choice(["exact", "prefix", "regex"]), default="exact", show_default=True)
@click.option("--matcher-value", required=True, help="The alarm name, name prefix, or regex (full match).")
@click.option("--starts-at", type=TimeParam(), help="Default: now.")
@click.option("--ends-at", type=TimeParam(), required=True)
@click.option("--comment", required=True)
@click.option("--created-by", default=lambda: os.environ.get("USER", "unknown"), show_default="$USER")
@click.pass_context
def create_silence(ctx: click.Context, matcher_type: str, matcher_value: str, starts_at: str | None, ends_at: str,
                   comment: str, created_by: str) -> None:
    """Mute the actions of matching alarms for a window; muted actions are recorded in history."""
    _call(ctx, "CreateSilence", {"Matcher": {"Type": matcher_type, "Value": matcher_value}, "StartsAt": starts_at,
                                 "EndsAt": ends_at, "Comment": comment, "CreatedBy": created_by})


@command.command("list-silences")
@click.option("--status", type=click.Choice(["pending", "active", "expired"]))
@click.pass_context
def list_silences(ctx: click.Context, status: str | None) -> None:
    """Silences, oldest first, with their status."""
    _call(ctx, "ListSilences", {"Status": status})


@command.command("expire-silence")
@click.option("--silence-id", required=True)
@click.pass_context
def expire_silence(ctx: click.Context, silence_id: str) -> None:
    """End a silence now."""
    _call(ctx, "ExpireSilence", {"SilenceId": silence_id})
