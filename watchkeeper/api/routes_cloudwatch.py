"""CloudWatch metric actions: PutMetricData, GetMetricStatistics, ListMetrics, with AWS's shapes and rules.

Requests are validated by the models below with the limits CloudWatch documents
(1,000 metrics per PutMetricData, 150 Values, StorageResolution 1 or 60,
timestamps at most two weeks old and two hours ahead, 1,440 datapoints per
GetMetricStatistics, ...). Every problem of a request is reported at once, as
AWS's error codes (MissingParameter, InvalidParameterValue,
InvalidParameterCombination) in `{"__type", "message"}`.
"""

from __future__ import annotations

import base64
import binascii
import math
import time
from datetime import UTC, datetime
from typing import Annotated, Any, Literal

import orjson
from fastapi import APIRouter, Depends, Request
from pydantic import Field, field_validator, model_validator
from pydantic_core import PydanticCustomError

from watchkeeper.api._routing import COMBINATION, aws_route
from watchkeeper.api.context import ApiContext, context
from watchkeeper.config import Strict
from watchkeeper.config.settings import RetentionSettings
from watchkeeper.errors import ApiError
from watchkeeper.events import Dimensions, Kind, MetricDatum, metric_block, normalise_dimensions
from watchkeeper.storage.metrics import write_metrics
from watchkeeper.storage.metrics_query import (
    Datapoint,
    DimensionFilter,
    SeriesKey,
    fetch_statistics,
    list_series,
    resolution_at,
    tier_for,
)
from watchkeeper.wire import make_envelope

MAX_DATAPOINTS = 1440
LIST_PAGE_SIZE = 500
RECENTLY_ACTIVE_SECONDS = 3 * 3600
MAX_TIMESTAMP_AGE = 14 * 86_400
MAX_TIMESTAMP_LEAD = 2 * 3600

UnitName = Literal[
    "Seconds", "Microseconds", "Milliseconds", "Bytes", "Kilobytes", "Megabytes", "Gigabytes", "Terabytes",
    "Bits", "Kilobits", "Megabits", "Gigabits", "Terabits", "Percent", "Count", "Bytes/Second",
    "Kilobytes/Second", "Megabytes/Second", "Gigabytes/Second", "Terabytes/Second", "Bits/Second",
    "Kilobits/Second", "Megabits/Second", "Gigabits/Second", "Terabits/Second", "Count/Second", "None",
]
StatisticName = Literal["SampleCount", "Average", "Sum", "Minimum", "Maximum"]
# CloudWatch rejects NaN, infinities and magnitudes beyond 2^360.
MetricValue = Annotated[float, Field(allow_inf_nan=False, ge=-(2.0**360), le=2.0**360)]
NamespaceText = Annotated[str, Field(min_length=1, max_length=255, pattern=r"^[^:]")]
MetricNameText = Annotated[str, Field(min_length=1, max_length=255)]
DimensionName = Annotated[str, Field(min_length=1, max_length=255)]
DimensionValue = Annotated[str, Field(min_length=1, max_length=1024)]
# p0.0 .. p100, up to 10 decimals (the trimmed-mean forms tm/wm/tc/ts are not offered).
Percentile = Annotated[str, Field(pattern=r"^p(100(\.0{1,10})?|\d{1,2}(\.\d{1,10})?)$")]


def _combination(message: str) -> PydanticCustomError:
    return PydanticCustomError(COMBINATION, message)


def _as_utc(moment: datetime) -> datetime:
    """Times without a zone are UTC, as in AWS's API."""
    return moment if moment.tzinfo is not None else moment.replace(tzinfo=UTC)


class Dimension(Strict):
    Name: DimensionName
    Value: DimensionValue


def _dimension_set(dimensions: list[Dimension]) -> list[Dimension]:
    names = [d.Name for d in dimensions]
    repeated = sorted({n for n in names if names.count(n) > 1})
    if repeated:
        raise ValueError(f"dimension names must be unique; repeated: {', '.join(repeated)}")
    return dimensions


DimensionList = Annotated[list[Dimension], Field(max_length=30)]


class StatisticSet(Strict):
    SampleCount: MetricValue = Field(gt=0)
    Sum: MetricValue
    Minimum: MetricValue
    Maximum: MetricValue

    @model_validator(mode="after")
    def _ordered(self) -> StatisticSet:
        if self.Minimum > self.Maximum:
            raise ValueError(f"Minimum ({self.Minimum}) must not exceed Maximum ({self.Maximum})")
        return self


class MetricDatumIn(Strict):
    """One entry of PutMetricData's MetricData: exactly one of Value, Values (+Counts), StatisticValues."""

    MetricName: MetricNameText
    Dimensions: DimensionList = Field(default_factory=list)
    Timestamp: datetime | None = Field(default=None, description="ISO-8601 or epoch seconds; default: now.")
    Value: MetricValue | None = None
    Values: list[MetricValue] | None = Field(default=None, max_length=150)
    Counts: list[Annotated[float, Field(allow_inf_nan=False, ge=0)]] | None = Field(default=None, max_length=150)
    StatisticValues: StatisticSet | None = None
    Unit: UnitName = "None"
    StorageResolution: Literal[1, 60] = 60

    _unique_dimensions = field_validator("Dimensions")(_dimension_set)

    @field_validator("Timestamp")
    @classmethod
    def _recent(cls, value: datetime | None) -> datetime | None:
        if value is None:
            return None
        value = _as_utc(value)
        age = time.time() - value.timestamp()
        if age > MAX_TIMESTAMP_AGE:
            raise ValueError("must be no more than two weeks in the past")
        if age < -MAX_TIMESTAMP_LEAD:
            raise ValueError("must be no more than two hours in the future")
        return value

    @model_validator(mode="after")
    def _one_value_form(self) -> MetricDatumIn:
        given = [name for name in ("Value", "Values", "StatisticValues") if getattr(self, name) is not None]
        if len(given) != 1:
            raise _combination("exactly one of Value, Values or StatisticValues must be given; "
                               f"found {', '.join(given) or 'none'}")
        if self.Counts is not None:
            if self.Values is None:
                raise _combination("Counts requires Values")
            if len(self.Counts) != len(self.Values):
                raise _combination(f"Counts has {len(self.Counts)} entries; Values has {len(self.Values)}; "
                                   "they must be equally long")
        return self

    def to_data(self, namespace: str, now: float) -> list[MetricDatum]:
        """The statistic sets this entry stands for: one per value (count c), or the set itself."""
        dimensions = normalise_dimensions([(d.Name, d.Value) for d in self.Dimensions])
        ts = self.Timestamp.timestamp() if self.Timestamp is not None else now

        def datum(count: float, total: float, low: float, high: float) -> MetricDatum:
            return MetricDatum(namespace, self.MetricName, dimensions, ts, count, total, low, high, self.Unit,
                               self.StorageResolution)

        if self.StatisticValues is not None:
            stats = self.StatisticValues
            return [datum(stats.SampleCount, stats.Sum, stats.Minimum, stats.Maximum)]
        values = self.Values if self.Values is not None else [self.Value or 0.0]
        counts = self.Counts or [1.0] * len(values)
        # A zero count records that a value did not occur: it carries no observation.
        return [datum(c, v * c, v, v) for v, c in zip(values, counts, strict=True) if c > 0]


class PutMetricDataRequest(Strict):
    Namespace: NamespaceText
    MetricData: list[MetricDatumIn] = Field(min_length=1, max_length=1000)

    @field_validator("Namespace")
    @classmethod
    def _not_reserved(cls, value: str) -> str:
        if value.startswith("AWS/"):
            raise ValueError("namespaces starting with AWS/ are reserved")
        return value


class GetMetricStatisticsRequest(Strict):
    Namespace: NamespaceText
    MetricName: MetricNameText
    Dimensions: DimensionList = Field(default_factory=list)
    StartTime: datetime = Field(description="Inclusive; ISO-8601 or epoch seconds.")
    EndTime: datetime = Field(description="Exclusive; ISO-8601 or epoch seconds.")
    Period: int = Field(ge=1, description="Seconds: 1, 5, 10, 30 or a multiple of 60.")
    Statistics: list[StatisticName] | None = Field(default=None, min_length=1, max_length=5)
    ExtendedStatistics: list[Percentile] | None = Field(default=None, min_length=1, max_length=10)
    Unit: UnitName | None = None

    _unique_dimensions = field_validator("Dimensions")(_dimension_set)

    @field_validator("StartTime", "EndTime")
    @classmethod
    def _utc(cls, value: datetime) -> datetime:
        return _as_utc(value)

    @field_validator("Period")
    @classmethod
    def _period(cls, value: int) -> int:
        if value not in (1, 5, 10, 30) and value % 60:
            raise ValueError(f"found {value}; allowed: 1, 5, 10, 30 or a multiple of 60")
        return value

    @model_validator(mode="after")
    def _consistent(self) -> GetMetricStatisticsRequest:
        if (self.Statistics is None) == (self.ExtendedStatistics is None):
            raise _combination("specify either Statistics or ExtendedStatistics, but not both")
        if self.StartTime >= self.EndTime:
            raise _combination("StartTime must be earlier than EndTime")
        return self


class DimensionFilterIn(Strict):
    Name: DimensionName
    Value: DimensionValue | None = Field(default=None, description="Omitted: any value of Name matches.")


class ListMetricsRequest(Strict):
    Namespace: NamespaceText | None = None
    MetricName: MetricNameText | None = None
    Dimensions: list[DimensionFilterIn] = Field(default_factory=list, max_length=10)
    NextToken: str | None = None
    RecentlyActive: Literal["PT3H"] | None = Field(default=None, description="Only series with data in 3 hours.")


router = APIRouter(prefix="/v1/cloudwatch", tags=["cloudwatch"], route_class=aws_route())
Context = Annotated[ApiContext, Depends(context)]


@router.post("/PutMetricData")
def put_metric_data(body: PutMetricDataRequest, request: Request, ctx: Context) -> dict[str, Any]:
    now = time.time()
    items = [metric_block([datum for entry in body.MetricData for datum in entry.to_data(body.Namespace, now)])]
    client = request.client.host if request.client else "api"
    # One envelope per call: its batch id names the event ids, as for agents' batches.
    envelope = make_envelope(Kind.METRICS, agent_id="api", host=client, items=items)
    write_metrics(ctx.engine, [(envelope.batch_id, envelope.items)])
    return {}


def _dimensions_of(dimensions: list[Dimension]) -> Dimensions:
    return normalise_dimensions([(d.Name, d.Value) for d in dimensions])


def _datapoint_json(point: Datapoint, body: GetMetricStatisticsRequest, percentiles: dict[str, float]) -> dict[str, Any]:
    values: dict[str, float] = {"SampleCount": point.sample_count, "Average": point.average, "Sum": point.sum,
                                "Minimum": point.minimum, "Maximum": point.maximum}
    out: dict[str, Any] = {"Timestamp": iso_time(point.timestamp)}
    out.update((name, values[name]) for name in body.Statistics or ())
    if body.ExtendedStatistics:
        out["ExtendedStatistics"] = {label: point.percentiles[p] for label, p in percentiles.items()
                                     if p in point.percentiles}
    out["Unit"] = point.unit
    return out


def _checked_range(body: GetMetricStatisticsRequest, now: int, retention: RetentionSettings) -> tuple[int, int]:
    """[start, end) with start rounded down as CloudWatch does (to the minute, 5 minutes or hour by the
    data's age), after checking Period against the resolution kept for that age and the datapoint limit."""
    start = int(body.StartTime.timestamp())
    resolution = resolution_at(start, now, retention)
    start -= start % max(60, resolution)
    if body.Period % resolution:
        raise ApiError(COMBINATION, f"data from {iso_time(start)} is kept at {resolution} s resolution; "
                                    f"Period {body.Period} must be a multiple of {resolution}")
    end = math.ceil(body.EndTime.timestamp())
    requested = math.ceil((end - start) / body.Period)
    if requested > MAX_DATAPOINTS:
        raise ApiError(COMBINATION, f"You have requested up to {requested} datapoints, which exceeds the limit "
                                    f"of {MAX_DATAPOINTS}. You may reduce the datapoints requested by increasing "
                                    "Period, or decreasing the time range.")
    return start, end


@router.post("/GetMetricStatistics")
def get_metric_statistics(body: GetMetricStatisticsRequest, ctx: Context) -> dict[str, Any]:
    now = int(time.time())
    start, end = _checked_range(body, now, ctx.settings.retention)
    percentiles = {label: float(label[1:]) for label in body.ExtendedStatistics or ()}
    key = SeriesKey(body.Namespace, body.MetricName, _dimensions_of(body.Dimensions))
    found = fetch_statistics(ctx.engine, [key], start, end, body.Period,
                             percentiles=sorted(set(percentiles.values())), unit=body.Unit,
                             tier=tier_for(start, now, ctx.settings.retention))
    points = found.get(key.fingerprint, [])
    return {"Label": body.MetricName, "Datapoints": [_datapoint_json(p, body, percentiles) for p in points]}


def iso_time(epoch: int) -> str:
    return datetime.fromtimestamp(epoch, UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def _encode_token(offset: int) -> str:
    return base64.urlsafe_b64encode(orjson.dumps({"offset": offset})).decode()


def _decode_token(token: str) -> int:
    try:
        offset = orjson.loads(base64.urlsafe_b64decode(token.encode()))["offset"]
    except (binascii.Error, ValueError, TypeError, KeyError, orjson.JSONDecodeError):
        offset = None
    if not isinstance(offset, int) or offset < 0:
        raise ApiError("InvalidNextToken", f"NextToken {token!r} was not returned by ListMetrics")
    return offset


@router.post("/ListMetrics")
def list_metrics(body: ListMetricsRequest, ctx: Context) -> dict[str, Any]:
    offset = _decode_token(body.NextToken) if body.NextToken else 0
    active_since = int(time.time()) - RECENTLY_ACTIVE_SECONDS if body.RecentlyActive else None
    # One row beyond the page tells whether another page exists.
    found = list_series(ctx.engine, body.Namespace, body.MetricName,
                        [DimensionFilter(d.Name, d.Value) for d in body.Dimensions], active_since,
                        offset=offset, limit=LIST_PAGE_SIZE + 1)
    out: dict[str, Any] = {"Metrics": [
        {"Namespace": s.namespace, "MetricName": s.metric_name,
         "Dimensions": [{"Name": name, "Value": value} for name, value in s.dimensions]}
        for s in found[:LIST_PAGE_SIZE]
    ]}
    if len(found) > LIST_PAGE_SIZE:
        out["NextToken"] = _encode_token(offset + LIST_PAGE_SIZE)
    return out

