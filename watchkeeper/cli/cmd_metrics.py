"""`watchkeeper metrics ...`: PutMetricData, GetMetricStatistics and ListMetrics, shaped like the aws CLI."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import click
import orjson

from watchkeeper.cli._client import client_from
from watchkeeper.cli._output import echo_answer
from watchkeeper.cli._times import TimeParam
from watchkeeper.errors import ConfigError, Problem

SERVICE = "cloudwatch"
_NUMERIC_KEYS = {"Value", "StorageResolution", "SampleCount", "Sum", "Minimum", "Maximum"}


class _ListOption(click.Option):
    """An option that takes one or more values as the aws CLI's lists do: `--statistics Average Maximum`.

    The values run up to the next token that starts with `--`; repeating the option adds more.
    """

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        kwargs["multiple"] = True
        super().__init__(*args, **kwargs)

    def add_to_parser(self, parser: Any, ctx: click.Context) -> None:
        super().add_to_parser(parser, ctx)
        option = next(parser._long_opt[name] for name in self.opts if name in parser._long_opt)
        take_one = option.process

        def take_many(value: str, state: Any) -> None:
            take_one(value, state)
            while state.rargs and not state.rargs[0].startswith("--"):
                take_one(state.rargs.pop(0), state)

        option.process = take_many


def _pairs(text: str, option: str) -> dict[str, str]:
    """The aws CLI shorthand `Key=value,Key2=value2` as a dict."""
    out = {}
    for part in text.split(","):
        key, sep, value = part.partition("=")
        if not sep or not key:
            raise click.BadParameter(f"found {text!r}; allowed: Key=value pairs separated by commas", param_hint=option)
        out[key.strip()] = value
    return out


def _numbers(fields: dict[str, str], option: str) -> dict[str, Any]:
    out: dict[str, Any] = dict(fields)
    for key in _NUMERIC_KEYS & fields.keys():
        try:
            out[key] = float(fields[key]) if key != "StorageResolution" else int(fields[key])
        except ValueError:
            raise click.BadParameter(f"{key}: found {fields[key]!r}; allowed: a number", param_hint=option) from None
    return out


def _dimensions(texts: tuple[str, ...], option: str = "--dimensions") -> list[dict[str, str]]:
    """`Name=host,Value=web-1` (one dimension) or `host=web-1,role=db` (several), as the aws CLI accepts."""
    out = []
    for text in texts:
        fields = _pairs(text, option)
        if fields.keys() == {"Name", "Value"} or fields.keys() == {"Name"}:
            out.append(fields)
        else:
            out.extend({"Name": name, "Value": value} for name, value in fields.items())
    return out


def _json_file(argument: str, option: str) -> Any:
    """The JSON in file://path, or ConfigError naming the file."""
    path = Path(argument.removeprefix("file://"))
    try:
        return orjson.loads(path.read_bytes())
    except FileNotFoundError:
        raise ConfigError([Problem(str(path), "", f"file not found (given to {option})")]) from None
    except OSError as error:
        raise ConfigError([Problem(str(path), "", f"cannot be read: {error.strerror}")]) from None
    except orjson.JSONDecodeError as error:
        raise ConfigError([Problem(str(path), "", f"not valid JSON: {error}")]) from None


def _metric_data(entries: tuple[str, ...]) -> list[Any]:
    data: list[Any] = []
    for entry in entries:
        if entry.startswith("file://"):
            loaded = _json_file(entry, "--metric-data")
            data.extend(loaded if isinstance(loaded, list) else [loaded])
        else:
            data.append(_numbers(_pairs(entry, "--metric-data"), "--metric-data"))
    return data


@click.group("metrics")
def command() -> None:
    """CloudWatch-style metrics: put-metric-data, get-metric-statistics, list-metrics."""


@command.command("put-metric-data")
@click.option("--namespace", required=True)
@click.option("--metric-data", cls=_ListOption,
              help="file://data.json (AWS's MetricData list) or MetricName=x,Value=1,Unit=Count.")
@click.option("--metric-name")
@click.option("--value", type=float)
@click.option("--statistic-values", help="SampleCount=n,Sum=s,Minimum=lo,Maximum=hi")
@click.option("--dimensions", cls=_ListOption, help="Name=host,Value=web-1 ... or host=web-1,role=db")
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
        datum: dict[str, Any] = {"MetricName": metric_name, "Dimensions": _dimensions(dimensions)}
        if value is not None:
            datum["Value"] = value
        if statistic_values:
            datum["StatisticValues"] = _numbers(_pairs(statistic_values, "--statistic-values"),
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
@click.option("--dimensions", cls=_ListOption, help="Name=host,Value=web-1 ... (the exact set published)")
@click.option("--start-time", type=TimeParam(), required=True, help="ISO-8601, epoch seconds, now, -15m, -2h...")
@click.option("--end-time", type=TimeParam(), default="now", show_default=True)
@click.option("--period", type=int, required=True, help="Seconds: 1, 5, 10, 30 or a multiple of 60.")
@click.option("--statistics", cls=_ListOption, help="SampleCount Average Sum Minimum Maximum")
@click.option("--extended-statistics", cls=_ListOption, help="Percentiles: p50 p99 p99.9")
@click.option("--unit")
@click.pass_context
def get_metric_statistics(ctx: click.Context, namespace: str, metric_name: str, dimensions: tuple[str, ...],
                          start_time: str, end_time: str, period: int, statistics: tuple[str, ...],
                          extended_statistics: tuple[str, ...], unit: str | None) -> None:
    """Statistics of one metric per period (GetMetricStatistics)."""
    body: dict[str, Any] = {"Namespace": namespace, "MetricName": metric_name,
                            "Dimensions": _dimensions(dimensions), "StartTime": start_time,
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
@click.option("--dimensions", cls=_ListOption, help="Name=host[,Value=web-1] ... (without Value: any value)")
@click.option("--recently-active", type=click.Choice(["PT3H"]))
@click.option("--next-token", help="Continue from a previous page (default: fetch every page).")
@click.option("--max-pages", type=int, default=0, help="Stop after this many pages (0: all), as aws's paging.")
@click.pass_context
def list_metrics(ctx: click.Context, namespace: str | None, metric_name: str | None, dimensions: tuple[str, ...],
                 recently_active: str | None, next_token: str | None, max_pages: int) -> None:
    """Metrics matching the filters (ListMetrics), following NextToken like the aws CLI."""
    body: dict[str, Any] = {"Dimensions": _dimensions(dimensions)}
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
