"""CloudWatch Logs actions: FilterLogEvents, DescribeLogGroups, DescribeLogStreams, CreateLogGroup and
PutMetricFilter / DescribeMetricFilters / DeleteMetricFilter, with AWS's shapes, limits and error codes.

Errors are `{"__type", "message"}` with CloudWatch Logs' codes: InvalidParameterException
for any bad request (a bad filter pattern names its column), ResourceNotFoundException,
ResourceAlreadyExistsException, LimitExceededException. Every nextToken is bound to the
parameters of the call that issued it.
"""

from __future__ import annotations

import base64
import hashlib
import time
from typing import Annotated, Any, Literal

import orjson
from fastapi import APIRouter, Depends, Request
from pydantic import Field, field_validator, model_validator
from pydantic_core import PydanticCustomError

from watchkeeper.api._audit import record_change
from watchkeeper.api._routing import aws_route
from watchkeeper.api.context import ApiContext, context
from watchkeeper.api.routes_cloudwatch import UnitName
from watchkeeper.config import Strict
from watchkeeper.errors import ApiError, FilterPatternError
from watchkeeper.logfilter import CompiledPattern, compile_pattern
from watchkeeper.metricfilters import store
from watchkeeper.metricfilters.model import Transformation, is_number, is_reference, reference_problems
from watchkeeper.storage.logs import GROUP_COLUMNS
from watchkeeper.storage.logs_query import (
    EventQuery,
    LogEvent,
    describe_groups,
    describe_streams,
    filter_events,
    group_exists,
    searched_streams,
)

INVALID = "InvalidParameterException"
NOT_FOUND = "ResourceNotFoundException"
MAX_FILTERS_PER_GROUP = 100
ARN_PREFIX = "arn:watchkeeper:logs:local:000000000000:log-group:"

LogGroupName = Annotated[str, Field(min_length=1, max_length=512, pattern=r"^[\.\-_/#A-Za-z0-9]+$")]
LogGroupIdentifier = Annotated[str, Field(min_length=1, max_length=2048, pattern=r"^[\w#+=/:,.@-]*$")]
LogStreamName = Annotated[str, Field(min_length=1, max_length=512, pattern=r"^[^:*]*$")]
FilterName = Annotated[str, Field(min_length=1, max_length=512, pattern=r"^[^:*]*$")]
FilterPattern = Annotated[str, Field(max_length=1024)]
MetricText = Annotated[str, Field(min_length=1, max_length=255, pattern=r"^[^:*$]*$")]
Timestamp = Annotated[int, Field(ge=0, description="Epoch milliseconds.")]
PageLimit = Annotated[int, Field(ge=1, le=50)]


def _combination(message: str) -> PydanticCustomError:
    return PydanticCustomError(INVALID, message)


def _group_of(identifier: str) -> str:
    """logGroupIdentifier is a name or an ARN (…:log-group:NAME or …:log-group:NAME:*)."""
    if ":log-group:" in identifier:
        return identifier.split(":log-group:", 1)[1].removesuffix(":*")
    return identifier


class _OneLogGroup(Strict):
    logGroupName: LogGroupName | None = None
    logGroupIdentifier: LogGroupIdentifier | None = None

    @model_validator(mode="after")
    def _exactly_one_group(self) -> _OneLogGroup:
        if (self.logGroupName is None) == (self.logGroupIdentifier is None):
            raise _combination("specify exactly one of logGroupName and logGroupIdentifier")
        return self

    @property
    def group(self) -> str:
        return self.logGroupName or _group_of(self.logGroupIdentifier or "")


class FilterLogEventsRequest(_OneLogGroup):
    logStreamNames: list[LogStreamName] | None = Field(default=None, min_length=1, max_length=100)
    logStreamNamePrefix: LogStreamName | None = None
    startTime: Timestamp | None = Field(default=None, description="Inclusive, epoch ms.")
    endTime: Timestamp | None = Field(default=None, description="Inclusive, epoch ms.")
    filterPattern: FilterPattern = ""
    nextToken: str | None = None
    limit: int = Field(default=10_000, ge=1, le=10_000)
    interleaved: bool | None = Field(default=None, description="Deprecated by AWS; events are always interleaved.")
    unmask: bool | None = Field(default=None, description="Accepted; nothing is masked here.")

    @model_validator(mode="after")
    def _consistent(self) -> FilterLogEventsRequest:
        if self.logStreamNames is not None and self.logStreamNamePrefix is not None:
            raise _combination("logStreamNames and logStreamNamePrefix cannot both be specified")
        if self.startTime is not None and self.endTime is not None and self.startTime > self.endTime:
            raise _combination("startTime must not be later than endTime")
        return self


class DescribeLogGroupsRequest(Strict):
    logGroupNamePrefix: LogGroupName | None = None
    nextToken: str | None = None
    limit: PageLimit = 50


class DescribeLogStreamsRequest(_OneLogGroup):
    logStreamNamePrefix: LogStreamName | None = None
    orderBy: Literal["LogStreamName", "LastEventTime"] = "LogStreamName"
    descending: bool = False
    nextToken: str | None = None
    limit: PageLimit = 50

    @model_validator(mode="after")
    def _prefix_needs_name_order(self) -> DescribeLogStreamsRequest:
        if self.orderBy == "LastEventTime" and self.logStreamNamePrefix is not None:
            raise _combination("logStreamNamePrefix cannot be specified when orderBy is LastEventTime")
        return self


class CreateLogGroupRequest(Strict):
    logGroupName: LogGroupName


class MetricTransformationIn(Strict):
    metricName: MetricText
    metricNamespace: MetricText
    metricValue: str = Field(min_length=1, max_length=100, description='"1", a number, "$.selector" or "$field".')
    defaultValue: float | None = Field(default=None, allow_inf_nan=False)
    dimensions: dict[Annotated[str, Field(min_length=1, max_length=255)],
                     Annotated[str, Field(min_length=1, max_length=255)]] = Field(default_factory=dict, max_length=3)
    unit: UnitName = "None"

    @field_validator("metricValue")
    @classmethod
    def _value_form(cls, value: str) -> str:
        if not (is_number(value) or (is_reference(value) and len(value) > 1)):
            raise ValueError('allowed: a number ("1"), a JSON selector ("$.latency") or a field ("$bytes")')
        return value

    @field_validator("dimensions")
    @classmethod
    def _dimension_references(cls, value: dict[str, str]) -> dict[str, str]:
        bad = [name for name, reference in value.items() if not is_reference(reference) or len(reference) < 2]
        if bad:
            raise ValueError(f"dimension values must be field references ($.selector or $field); not: {', '.join(bad)}")
        return value

    @model_validator(mode="after")
    def _default_or_dimensions(self) -> MetricTransformationIn:
        if self.defaultValue is not None and self.dimensions:
            raise _combination("defaultValue cannot be combined with dimensions")
        return self

    def to_transformation(self) -> Transformation:
        return Transformation(self.metricName, self.metricNamespace, self.metricValue, self.defaultValue,
                              dict(self.dimensions), self.unit)


class PutMetricFilterRequest(Strict):
    logGroupName: LogGroupName
    filterName: FilterName
    filterPattern: FilterPattern
    metricTransformations: list[MetricTransformationIn] = Field(min_length=1, max_length=1)


class DescribeMetricFiltersRequest(Strict):
    logGroupName: LogGroupName | None = None
    filterNamePrefix: FilterName | None = None
    metricName: MetricText | None = None
    metricNamespace: MetricText | None = None
    nextToken: str | None = None
    limit: PageLimit = 50

    @model_validator(mode="after")
    def _combinations(self) -> DescribeMetricFiltersRequest:
        if self.filterNamePrefix is not None and self.logGroupName is None:
            raise _combination("filterNamePrefix requires logGroupName")
        if (self.metricName is None) != (self.metricNamespace is None):
            raise _combination("metricName and metricNamespace must be specified together")
        return self


class DeleteMetricFilterRequest(Strict):
    logGroupName: LogGroupName
    filterName: FilterName


router = APIRouter(prefix="/v1/logs", tags=["logs"], route_class=aws_route(INVALID, INVALID))
Context = Annotated[ApiContext, Depends(context)]


# ---- tokens: a position bound to the parameters of the call that issued it ---------------------

def _fingerprint(body: Strict) -> str:
    # The page size may change between pages: positions do not depend on it.
    fields = body.model_dump(exclude={"nextToken", "limit"}, mode="json")
    return hashlib.sha256(orjson.dumps(fields, option=orjson.OPT_SORT_KEYS)).hexdigest()[:16]


def _token(body: Strict, position: list[int]) -> str:
    return base64.urlsafe_b64encode(orjson.dumps({"q": _fingerprint(body), "p": position})).decode()


def _position(body: Strict, token: str | None, size: int) -> list[int] | None:
    """The position in token (a list of `size` ints), or InvalidParameterException."""
    if token is None:
        return None
    try:
        data = orjson.loads(base64.urlsafe_b64decode(token.encode()))
        position, bound_to = data["p"], data["q"]
    except (ValueError, KeyError, TypeError):
        raise ApiError(INVALID, "The specified nextToken is invalid: this API did not issue it") from None
    if bound_to != _fingerprint(body):
        raise ApiError(INVALID, "The specified nextToken was issued for other parameters; "
                                "repeat the call with identical parameters")
    if not (isinstance(position, list) and len(position) == size and all(isinstance(p, int) for p in position)):
        raise ApiError(INVALID, "The specified nextToken is invalid: this API did not issue it")
    return position


def _offset(body: Strict, token: str | None) -> int:
    position = _position(body, token, 1)
    return position[0] if position else 0


# ---- actions -----------------------------------------------------------------------------------

def _pattern(text: str) -> CompiledPattern:
    try:
        return compile_pattern(text, "filterPattern")
    except FilterPatternError as error:
        raise ApiError(INVALID, f"Invalid filter pattern: {'; '.join(str(p) for p in error.problems)}") from None


def _require_group(ctx: ApiContext, name: str) -> None:
    if not group_exists(ctx.engine, name):
        raise ApiError(NOT_FOUND, f"The specified log group does not exist: {name!r}")


def _event_json(event: LogEvent) -> dict[str, Any]:
    return {"logStreamName": event.log_stream, "timestamp": event.timestamp_ms, "message": event.message,
            "ingestionTime": event.ingestion_ms, "eventId": str(event.event_id)}


@router.post("/FilterLogEvents")
def filter_log_events(body: FilterLogEventsRequest, ctx: Context) -> dict[str, Any]:
    pattern = _pattern(body.filterPattern)
    _require_group(ctx, body.group)
    position = _position(body, body.nextToken, 2)
    query = EventQuery(body.group, pattern, body.logStreamNames or (), body.logStreamNamePrefix,
                       body.startTime, body.endTime)
    page = filter_events(ctx.engine, query, body.limit, (position[0], position[1]) if position else None)
    done = page.resume_after is None
    out: dict[str, Any] = {
        "events": [_event_json(event) for event in page.events],
        "searchedLogStreams": [{"logStreamName": name, "searchedCompletely": done}
                               for name in searched_streams(ctx.engine, query)],
    }
    if page.resume_after is not None:
        out["nextToken"] = _token(body, list(page.resume_after))
    return out


@router.post("/DescribeLogGroups")
def describe_log_groups(body: DescribeLogGroupsRequest, ctx: Context) -> dict[str, Any]:
    offset = _offset(body, body.nextToken)
    found = describe_groups(ctx.engine, body.logGroupNamePrefix, offset, body.limit + 1)
    page = found[:body.limit]
    counts = store.filter_counts(ctx.engine, [group.name for group in page])
    groups = []
    for group in page:
        entry: dict[str, Any] = {"logGroupName": group.name, "creationTime": group.creation_ms}
        if group.retention_in_days:
            entry["retentionInDays"] = group.retention_in_days
        entry.update({"metricFilterCount": counts.get(group.name, 0), "arn": f"{ARN_PREFIX}{group.name}:*",
                      "logGroupArn": f"{ARN_PREFIX}{group.name}", "storedBytes": group.stored_bytes,
                      "logGroupClass": "STANDARD"})
        groups.append(entry)
    out: dict[str, Any] = {"logGroups": groups}
    if len(found) > body.limit:
        out["nextToken"] = _token(body, [offset + body.limit])
    return out


@router.post("/DescribeLogStreams")
def describe_log_streams(body: DescribeLogStreamsRequest, ctx: Context) -> dict[str, Any]:
    _require_group(ctx, body.group)
    offset = _offset(body, body.nextToken)
    found = describe_streams(ctx.engine, body.group, body.logStreamNamePrefix, body.orderBy == "LastEventTime",
                             body.descending, offset, body.limit + 1)
    out: dict[str, Any] = {"logStreams": [
        {"logStreamName": s.name, "creationTime": s.creation_ms, "firstEventTimestamp": s.first_event_ms,
         "lastEventTimestamp": s.last_event_ms, "lastIngestionTime": s.last_ingestion_ms,
         "arn": f"{ARN_PREFIX}{body.group}:log-stream:{s.name}",
         # AWS deprecated storedBytes for streams in 2019 and always reports 0.
         "storedBytes": 0}
        for s in found[:body.limit]
    ]}
    if len(found) > body.limit:
        out["nextToken"] = _token(body, [offset + body.limit])
    return out


@router.post("/CreateLogGroup")
def create_log_group(body: CreateLogGroupRequest, request: Request, ctx: Context) -> dict[str, Any]:
    if group_exists(ctx.engine, body.logGroupName):
        raise ApiError("ResourceAlreadyExistsException", f"The specified log group already exists: "
                                                         f"{body.logGroupName!r}")
    ctx.engine.insert("log_groups", dict(zip(GROUP_COLUMNS, ([body.logGroupName], [0], [int(time.time())]),
                                             strict=True)))
    record_change(request, ctx, "CreateLogGroup", ("Watchkeeper::LogGroup", body.logGroupName), body.model_dump())
    return {}


@router.post("/PutMetricFilter")
def put_metric_filter(body: PutMetricFilterRequest, request: Request, ctx: Context) -> dict[str, Any]:
    pattern = _pattern(body.filterPattern)
    transformation = body.metricTransformations[0]
    references = {f"metricTransformations[0].dimensions.{name}": ref for name, ref in transformation.dimensions.items()}
    if is_reference(transformation.metricValue):
        references["metricTransformations[0].metricValue"] = transformation.metricValue
    problems = reference_problems(pattern, references)
    if problems:
        raise ApiError(INVALID, "; ".join(problems))
    _require_group(ctx, body.logGroupName)
    existing = store.list_filters(ctx.engine, body.logGroupName)
    if len(existing) >= MAX_FILTERS_PER_GROUP and body.filterName not in {f.name for f in existing}:
        raise ApiError("LimitExceededException", f"log group {body.logGroupName!r} already has "
                                                 f"{MAX_FILTERS_PER_GROUP} metric filters, the most allowed")
    store.put_filter(ctx.engine, body.logGroupName, body.filterName, body.filterPattern,
                     [transformation.to_transformation()])
    record_change(request, ctx, "PutMetricFilter", ("Watchkeeper::MetricFilter", body.filterName),
                  body.model_dump(mode="json"))
    return {}


@router.post("/DescribeMetricFilters")
def describe_metric_filters(body: DescribeMetricFiltersRequest, ctx: Context) -> dict[str, Any]:
    offset = _offset(body, body.nextToken)
    found = store.list_filters(ctx.engine, body.logGroupName, body.filterNamePrefix, body.metricName,
                               body.metricNamespace)
    page = found[offset:offset + body.limit]
    out: dict[str, Any] = {"metricFilters": [
        {"filterName": f.name, "filterPattern": f.pattern_text,
         "metricTransformations": [t.to_json() for t in f.transformations], "creationTime": f.version_ms,
         "logGroupName": f.log_group}
        for f in page
    ]}
    if len(found) > offset + body.limit:
        out["nextToken"] = _token(body, [offset + body.limit])
    return out


@router.post("/DeleteMetricFilter")
def delete_metric_filter(body: DeleteMetricFilterRequest, request: Request, ctx: Context) -> dict[str, Any]:
    if not store.delete_filter(ctx.engine, body.logGroupName, body.filterName):
        raise ApiError(NOT_FOUND, f"The specified metric filter does not exist: {body.filterName!r} in log group "
                                  f"{body.logGroupName!r}")
    record_change(request, ctx, "DeleteMetricFilter", ("Watchkeeper::MetricFilter", body.filterName),
                  body.model_dump())
    return {}
