"""`watchkeeper metrics ...`: PutMetricData, GetMetricStatistics and ListMetrics, shaped like the aws CLI."""

from __future__ import annotations

from typing import Any

import click

from watchkeeper.cli._args import ListOption, json_file, pairs
from watchkeeper.cli._args import dimensions as parse_dimensions
from watchkeeper.cli._client import client_from
from watchkeeper.cli._output import echo_answer
from watchkeeper.cli._times import TimeParam

SERVICE = "cloudwatch"
_NUMERIC_KEYS = {"Value", "StorageResolution", "SampleCount", "Sum", "Minimum", "Maximum"}


def _numbers(fields: dict[str, str], option: str) -> dict[str, Any]:
    out: dict[str, Any] = dict(fields)
    for key in _NUMERIC_KEYS & fields.keys():
        try:
            out[key] = float(fields[key]) if key != "StorageResolution" else int(fields[key])
        except ValueError:
            raise click.BadParameter(f"{key}: found {fields[key]!r}; allowed: a number", param_hint=option) from None
    return out


def _metric_data(entries: tuple[str, ...]) -> list[Any]:
    data: list[Any] = []
    for entry in entries:
        if entry.startswith("file://"):
            loaded = json_file(entry, "--metric-data")
            data.extend(loaded if isinstance(loaded, list) else [loaded])
        else:
            data.append(_numbers(pairs(entry, "--metric-data"), "--metric-data"))
    return data


@click.group("metrics")
def command() -> None:
    """CloudWatch-style metrics: put-metric-data, get-metric-statistics, list-metrics."""


@command.command("put-metric-data")
@click.option("--namespace", required=True)
@click.option("--metric-data", cls=ListOption,
              help="file://data.json (AWS's MetricData list) or MetricName=x,Value=1,Unit=Count.")
@click.option("--metric-name")
@click.option("--value", type=float)
@click.option("--statistic-values", help="SampleCount=n,Sum=s,Minimum=lo,Maximum=hi")
@click.option("--dimensions", cls=ListOption, help="Name=host,Value=web-1 ... or host=web-1,role=db")
@click.option("--timestamp", type=TimeParam(), help="Default: now.")
@click.option("--unit")
@click.option("--storage-resolution", type=click.Choice(["1", "60"]))
@click.pass_context
def put_metric_data(ctx: click.Context, namespace: str, metric_data: tuple[str, ...], metric_name: str | None,
                    value: float | None, statistic_values: str | None, dimensions: tuple[str, ...],
                    timestamp: str | None, unit: str | None, storage_resolution: str | None) -> None:
    """Publish metric data points (PutMetricData)."""
    if metric_data and metric_name:
        raise click.UsageError("give either --metric-data or --metric-name (with --value), not both")
    if metric_data:
        data = _metric_data(metric_data)
    elif metric_name:
        datum: dict[str, Any] = {"MetricName": metric_name, "Dimensions": parse_dimensions(dimensions)}
        if value is not None:
            datum["Value"] = value
        if statistic_values:
            datum["StatisticValues"] = _numbers(pairs(statistic_values, "--statistic-values"),
                                                "--statistic-values")
        optional = {"Timestamp": timestamp, "Unit": unit,
                    "StorageResolution": int(storage_resolution) if storage_resolution else None}
        datum.update((k, v) for k, v in optional.items() if v is not None)
        data = [datum]
    else:
        raise click.UsageError("give --metric-data, or --metric-name with --value or --statistic-values")
    echo_answer(ctx, client_from(ctx).call(SERVICE, "PutMetricData", {"Namespace": namespace, "MetricData": data}))


@command.command("get-metric-statistics")
@click.option("--namespace", required=True)
@click.option("--metric-name", required=True)
@click.option("--dimensions", cls=ListOption, help="Name=host,Value=web-1 ... (the exact set published)")
@click.option("--start-time", type=TimeParam(), required=True, help="ISO-8601, epoch seconds, now, -15m, -2h...")
@click.option("--end-time", type=TimeParam(), default="now", show_default=True)
@click.option("--period", type=int, required=True, help="Seconds: 1, 5, 10, 30 or a multiple of 60.")
@click.option("--statistics", cls=ListOption, help="SampleCount Average Sum Minimum Maximum")
@click.option("--extended-statistics", cls=ListOption, help="Percentiles: p50 p99 p99.9")
@click.option("--unit")
@click.pass_context
def get_metric_statistics(ctx: click.Context, namespace: str, metric_name: str, dimensions: tuple[str, ...],
                          start_time: str, end_time: str, period: int, statistics: tuple[str, ...],
                          extended_statistics: tuple[str, ...], unit: str | None) -> None:
    """Statistics of one metric per period (GetMetricStatistics)."""
    body: dict[str, Any] = {"Namespace": namespace, "MetricName": metric_name,
                            "Dimensions": parse_dimensions(dimensions), "StartTime": start_time,
                            "EndTime": end_time, "Period": period}
    if statistics:
        body["Statistics"] = list(statistics)
    if extended_statistics:
        body["ExtendedStatistics"] = list(extended_statistics)
    if unit:
        body["Unit"] = unit
    answer = client_from(ctx).call(SERVICE, "GetMetricStatistics", body)
    # CloudWatch leaves datapoints unordered; people and scripts want them in time order.
    answer["Datapoints"] = sorted(answer.get("Datapoints", []), key=lambda point: str(point.get("Timestamp")))
    echo_answer(ctx, answer)


@command.command("list-metrics")
@click.option("--namespace")
@click.option("--metric-name")
@click.option("--dimensions", cls=ListOption, help="Name=host[,Value=web-1] ... (without Value: any value)")
@click.option("--recently-active", type=click.Choice(["PT3H"]))
@click.option("--next-token", help="Continue from a previous page (default: fetch every page).")
@click.option("--max-pages", type=int, default=0, help="Stop after this many pages (0: all), as aws's paging.")
@click.pass_context
def list_metrics(ctx: click.Context, namespace: str | None, metric_name: str | None, dimensions: tuple[str, ...],
                 recently_active: str | None, next_token: str | None, max_pages: int) -> None:
    """Metrics matching the filters (ListMetrics), following NextToken like the aws CLI."""
    body: dict[str, Any] = {"Dimensions": parse_dimensions(dimensions)}
    optional = {"Namespace": namespace, "MetricName": metric_name, "RecentlyActive": recently_active}
    body.update((k, v) for k, v in optional.items() if v is not None)
    client = client_from(ctx)
    metrics: list[Any] = []
    pages = 0
    while True:
        answer = client.call(SERVICE, "ListMetrics", {**body, **({"NextToken": next_token} if next_token else {})})
        metrics.extend(answer.get("Metrics", []))
        pages += 1
        next_token = answer.get("NextToken")
        if not next_token or pages == max_pages:
            break
    echo_answer(ctx, {"Metrics": metrics, **({"NextToken": next_token} if next_token else {})})
