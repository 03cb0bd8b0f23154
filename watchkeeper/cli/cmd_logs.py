"""`watchkeeper logs ...`: CloudWatch Logs actions shaped like the aws CLI, and `logs tail` for people."""

from __future__ import annotations

import re
import time
from collections.abc import Iterator
from datetime import UTC, datetime
from typing import Any

import click

from watchkeeper.cli._args import ListOption, json_file, pairs
from watchkeeper.cli._client import ApiClient, client_from
from watchkeeper.cli._output import echo_answer
from watchkeeper.cli._times import ALLOWED, parse_time

SERVICE = "logs"
# Epoch values at or beyond this are milliseconds (the aws CLI's logs times), below it seconds.
_MS_THRESHOLD = 10**11
_DURATION = re.compile(r"^\d+(?:\.\d+)?[smhdw]$")


class MillisParam(click.ParamType[int]):
    """A time as epoch milliseconds: epoch ms (as the aws CLI takes), epoch seconds, ISO-8601, now, -15m."""

    name = "time"

    def convert(self, value: Any, param: click.Parameter | None, ctx: click.Context | None) -> int:
        text = str(value).strip()
        if text.isdigit() and int(text) >= _MS_THRESHOLD:
            return int(text)
        try:
            return int(parse_time(text).timestamp() * 1000)
        except ValueError:
            self.fail(f"found {text!r}; allowed: epoch milliseconds, or {ALLOWED}", param, ctx)


def _body(**fields: Any) -> dict[str, Any]:
    """The request body: the given fields that are set (empty lists and None left out)."""
    return {name: value for name, value in fields.items() if value is not None and value != []}


def _pages(client: ApiClient, action: str, body: dict[str, Any]) -> Iterator[dict[str, Any]]:
    """Every page of an action, following nextToken as the aws CLI does."""
    token = body.get("nextToken")
    while True:
        answer = client.call(SERVICE, action, {**body, **({"nextToken": token} if token else {})})
        yield answer
        token = answer.get("nextToken")
        if not token:
            return


def _all_pages(ctx: click.Context, action: str, body: dict[str, Any], key: str) -> None:
    echo_answer(ctx, {key: [item for page in _pages(client_from(ctx), action, body) for item in page[key]]})


@click.group("logs")
def command() -> None:
    """CloudWatch Logs: filter-log-events, describe-log-groups/-streams, metric filters, tail."""


@command.command("filter-log-events")
@click.option("--log-group-name")
@click.option("--log-group-identifier", help="A log group name or ARN (instead of --log-group-name).")
@click.option("--log-stream-names", cls=ListOption, help="Only these streams: --log-stream-names a b c")
@click.option("--log-stream-name-prefix")
@click.option("--filter-pattern", help="CloudWatch Logs filter pattern syntax (see docs/filter-patterns.md).")
@click.option("--start-time", type=MillisParam(), help="Inclusive: epoch ms, ISO-8601, -15m...")
@click.option("--end-time", type=MillisParam(), help="Inclusive: epoch ms, ISO-8601, now...")
@click.option("--limit", type=click.IntRange(1, 10_000), help="One page of at most N events (with nextToken). "
              "Without it, every page is fetched.")
@click.option("--next-token", help="Continue from a previous page.")
@click.pass_context
def filter_log_events(ctx: click.Context, log_group_name: str | None, log_group_identifier: str | None,
                      log_stream_names: tuple[str, ...], log_stream_name_prefix: str | None,
                      filter_pattern: str | None, start_time: int | None, end_time: int | None, limit: int | None,
                      next_token: str | None) -> None:
    """Events of a log group that match a filter pattern, oldest first (FilterLogEvents)."""
    body = _body(logGroupName=log_group_name, logGroupIdentifier=log_group_identifier,
                 logStreamNames=list(log_stream_names), logStreamNamePrefix=log_stream_name_prefix,
                 filterPattern=filter_pattern, startTime=start_time, endTime=end_time, limit=limit,
                 nextToken=next_token)
    client = client_from(ctx)
    if limit is not None:
        echo_answer(ctx, client.call(SERVICE, "FilterLogEvents", body))
        return
    pages = list(_pages(client, "FilterLogEvents", body))
    echo_answer(ctx, {"events": [event for page in pages for event in page["events"]],
                      "searchedLogStreams": pages[-1]["searchedLogStreams"]})


@command.command("describe-log-groups")
@click.option("--log-group-name-prefix")
@click.pass_context
def describe_log_groups(ctx: click.Context, log_group_name_prefix: str | None) -> None:
    """Log groups, by name (DescribeLogGroups)."""
    _all_pages(ctx, "DescribeLogGroups", _body(logGroupNamePrefix=log_group_name_prefix), "logGroups")


@command.command("describe-log-streams")
@click.option("--log-group-name")
@click.option("--log-group-identifier")
@click.option("--log-stream-name-prefix")
@click.option("--order-by", type=click.Choice(["LogStreamName", "LastEventTime"]))
@click.option("--descending", is_flag=True, default=None)
@click.pass_context
def describe_log_streams(ctx: click.Context, log_group_name: str | None, log_group_identifier: str | None,
                         log_stream_name_prefix: str | None, order_by: str | None, descending: bool | None) -> None:
    """The streams of a log group (DescribeLogStreams)."""
    _all_pages(ctx, "DescribeLogStreams", _body(logGroupName=log_group_name, logGroupIdentifier=log_group_identifier,
                                                logStreamNamePrefix=log_stream_name_prefix, orderBy=order_by,
                                                descending=descending), "logStreams")


@command.command("create-log-group")
@click.option("--log-group-name", required=True)
@click.pass_context
def create_log_group(ctx: click.Context, log_group_name: str) -> None:
    """Create an empty log group (CreateLogGroup); groups also appear when agents ship to them."""
    echo_answer(ctx, client_from(ctx).call(SERVICE, "CreateLogGroup", {"logGroupName": log_group_name}))


def _transformations(text: str) -> list[Any]:
    """file://t.json (AWS's list or one object) or metricName=x,metricNamespace=y,metricValue=1[,defaultValue=0]."""
    if text.startswith("file://"):
        loaded = json_file(text, "--metric-transformations")
        return loaded if isinstance(loaded, list) else [loaded]
    fields: dict[str, Any] = pairs(text, "--metric-transformations")
    if "defaultValue" in fields:
        try:
            fields["defaultValue"] = float(fields["defaultValue"])
        except ValueError:
            raise click.BadParameter(f"defaultValue: found {fields['defaultValue']!r}; allowed: a number",
                                     param_hint="--metric-transformations") from None
    return [fields]


@command.command("put-metric-filter")
@click.option("--log-group-name", required=True)
@click.option("--filter-name", required=True)
@click.option("--filter-pattern", required=True)
@click.option("--metric-transformations", required=True,
              help="metricName=Errors,metricNamespace=App,metricValue=1[,defaultValue=0][,unit=Count] or "
                   "file://transformations.json (with dimensions).")
@click.pass_context
def put_metric_filter(ctx: click.Context, log_group_name: str, filter_name: str, filter_pattern: str,
                      metric_transformations: str) -> None:
    """Create or replace a metric filter (PutMetricFilter)."""
    echo_answer(ctx, client_from(ctx).call(SERVICE, "PutMetricFilter", {
        "logGroupName": log_group_name, "filterName": filter_name, "filterPattern": filter_pattern,
        "metricTransformations": _transformations(metric_transformations)}))


@command.command("describe-metric-filters")
@click.option("--log-group-name")
@click.option("--filter-name-prefix")
@click.option("--metric-name")
@click.option("--metric-namespace")
@click.pass_context
def describe_metric_filters(ctx: click.Context, log_group_name: str | None, filter_name_prefix: str | None,
                            metric_name: str | None, metric_namespace: str | None) -> None:
    """Metric filters (DescribeMetricFilters)."""
    _all_pages(ctx, "DescribeMetricFilters", _body(logGroupName=log_group_name, filterNamePrefix=filter_name_prefix,
                                                   metricName=metric_name, metricNamespace=metric_namespace),
               "metricFilters")


@command.command("delete-metric-filter")
@click.option("--log-group-name", required=True)
@click.option("--filter-name", required=True)
@click.pass_context
def delete_metric_filter(ctx: click.Context, log_group_name: str, filter_name: str) -> None:
    """Delete a metric filter (DeleteMetricFilter); datapoints it published stay."""
    echo_answer(ctx, client_from(ctx).call(SERVICE, "DeleteMetricFilter",
                                           {"logGroupName": log_group_name, "filterName": filter_name}))


def _since_ms(text: str) -> int:
    """--since: a duration back from now (10m, 2h, 1d) or a time (ISO-8601, epoch, -15m)."""
    value = text.strip()
    try:
        moment = parse_time(f"-{value}" if _DURATION.match(value) else value)
    except ValueError:
        raise click.BadParameter(f"found {text!r}; allowed: a duration such as 10m, 2h, 1d, or {ALLOWED}",
                                 param_hint="--since") from None
    return int(moment.timestamp() * 1000)


def _line(event: dict[str, Any], detailed: bool) -> str:
    moment = datetime.fromtimestamp(event["timestamp"] / 1000, UTC).isoformat(timespec="milliseconds")
    if detailed:
        return f"{moment} {event['logStreamName']} {event['message']}"
    return f"{moment} {event['message']}"


@command.command("tail")
@click.argument("log_group_name")
@click.option("--follow", is_flag=True, help="Keep polling for new events until Ctrl-C.")
@click.option("--since", default="10m", show_default=True, help="How far back to start: 10m, 2h, 1d or a time.")
@click.option("--filter-pattern")
@click.option("--log-stream-names", cls=ListOption)
@click.option("--format", "fmt", type=click.Choice(["short", "detailed"]), default="detailed", show_default=True)
@click.option("--poll-interval", type=click.FloatRange(0.1), default=2.0, show_default=True,
              help="Seconds between polls with --follow.")
@click.pass_context
def tail(ctx: click.Context, log_group_name: str, follow: bool, since: str, filter_pattern: str | None,
         log_stream_names: tuple[str, ...], fmt: str, poll_interval: float) -> None:
    """Print a log group's events as they arrive, like `aws logs tail`; never prints an event twice.

    Each poll starts at the timestamp of the last event printed and skips what was already printed
    (events are ordered by timestamp, then event id), so events sharing a millisecond are neither
    lost nor repeated. Events that arrive later with a timestamp older than the last printed are not shown.
    """
    client = client_from(ctx)
    body = _body(logGroupName=log_group_name, filterPattern=filter_pattern, logStreamNames=list(log_stream_names))
    last: tuple[int, int] | None = None
    start = _since_ms(since)
    try:
        while True:
            for page in _pages(client, "FilterLogEvents", {**body, "startTime": last[0] if last else start}):
                for event in page["events"]:
                    key = (int(event["timestamp"]), int(event["eventId"]))
                    if last is None or key > last:
                        click.echo(_line(event, fmt == "detailed"))
                        last = key
            if not follow:
                return
            time.sleep(poll_interval)
    except KeyboardInterrupt:
        return
