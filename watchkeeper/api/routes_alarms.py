"""CloudWatch alarm actions (PutMetricAlarm, PutCompositeAlarm, DescribeAlarms, DescribeAlarmHistory,
DeleteAlarms, SetAlarmState, Enable/DisableAlarmActions), Watchkeeper's ApplyAlarms (GitOps) and the
silence actions (CreateSilence, ListSilences, ExpireSilence), under /v1/cloudwatch/ like CloudWatch.

The work is done by alarms.service.AlarmService, found at ctx.services["alarms"].
"""

from __future__ import annotations

import base64
import binascii
import json
from datetime import UTC, datetime
from typing import Annotated, Any, Literal

import orjson
from fastapi import APIRouter, Body, Depends, Request
from pydantic import Field, field_validator

from alarms import model as alarm_model
from alarms.notify.message import alarm_arn
from alarms.service import AlarmService, Caller, load_definition
from alarms.silences import CreateSilenceRequest
from alarms import store as alarm_store
from alarms.store import HistoryQuery, StoredDefinition, StoredState
from watchkeeper.api.context import ApiContext, context
from watchkeeper.api._routing import aws_route
from watchkeeper.config import Strict
from watchkeeper.errors import ApiError, ConfigError

router = APIRouter(prefix="/v1/cloudwatch", tags=["alarms"], route_class=aws_route())
Context = Annotated[ApiContext, Depends(context)]
AlarmNameText = Annotated[str, Field(min_length=1, max_length=255)]
AlarmNameList = Annotated[list[AlarmNameText], Field(min_length=1, max_length=100)]
AlarmType = Literal["MetricAlarm", "CompositeAlarm"]


def service(ctx: Context) -> AlarmService:
    found = ctx.services.get("alarms")
    if not isinstance(found, AlarmService):
        raise ApiError("ServiceUnavailable", "the alarm service is not running in this API process", 503)
    return found


Service = Annotated[AlarmService, Depends(service)]


def caller(request: Request) -> Caller:
    """Who calls: the X-Watchkeeper-User header (the API does not authenticate yet; recorded as given)."""
    return Caller(request.headers.get("X-Watchkeeper-User", "anonymous"),
                  request.client.host if request.client else "unknown", request.headers.get("User-Agent", ""))


CallerOf = Annotated[Caller, Depends(caller)]


def timestamp(ms: int) -> str:
    """AWS's JSON timestamps: ISO 8601 UTC with milliseconds."""
    moment = datetime.fromtimestamp(ms / 1000, UTC)
    return moment.strftime("%Y-%m-%dT%H:%M:%S.") + f"{moment.microsecond // 1000:03d}Z"


def _encode_token(offset: int, action: str) -> str:
    return base64.urlsafe_b64encode(orjson.dumps({"action": action, "offset": offset})).decode()


def _decode_token(token: str | None, action: str) -> int:
    if token is None:
        return 0
    try:
        decoded = orjson.loads(base64.urlsafe_b64decode(token.encode()))
        offset = decoded["offset"] if decoded.get("action") == action else None
    except (binascii.Error, ValueError, TypeError, KeyError, AttributeError, orjson.JSONDecodeError):
        offset = None
    if not isinstance(offset, int) or offset < 0:
        raise ApiError("InvalidNextToken", f"NextToken {token!r} was not returned by {action}")
    return offset


class DescribeAlarmsRequest(Strict):
    AlarmNames: list[AlarmNameText] | None = Field(default=None, max_length=100)
    AlarmNamePrefix: str | None = Field(default=None, min_length=1, max_length=255)
    AlarmTypes: list[AlarmType] | None = Field(default=None, description="Default: MetricAlarm only, as AWS.")
    StateValue: alarm_model.StateValue | None = None
    ActionPrefix: str | None = Field(default=None, min_length=1, max_length=1024)
    MaxRecords: int = Field(default=50, ge=1, le=100)
    NextToken: str | None = None


class DescribeAlarmHistoryRequest(Strict):
    AlarmName: AlarmNameText | None = None
    HistoryItemType: alarm_store.HistoryItemType | None = None
    StartDate: datetime | None = None
    EndDate: datetime | None = None
    MaxRecords: int = Field(default=100, ge=1, le=100)
    NextToken: str | None = None
    ScanBy: Literal["TimestampDescending", "TimestampAscending"] = "TimestampDescending"

    @field_validator("StartDate", "EndDate")
    @classmethod
    def _utc(cls, value: datetime | None) -> datetime | None:
        return value if value is None or value.tzinfo else value.replace(tzinfo=UTC)


class AlarmNamesRequest(Strict):
    AlarmNames: AlarmNameList


class SetAlarmStateRequest(Strict):
    AlarmName: AlarmNameText
    StateValue: alarm_model.StateValue
    StateReason: str = Field(min_length=0, max_length=1023)
    StateReasonData: str | None = Field(default=None, max_length=4000)

    @field_validator("StateReasonData")
    @classmethod
    def _json(cls, value: str | None) -> str | None:
        if value is not None:
            try:
                json.loads(value)
            except json.JSONDecodeError as error:
                raise ValueError(f"must be JSON ({error})") from None
        return value


class ApplyAlarmsRequest(Strict):
    Alarms: list[dict[str, Any]] = Field(min_length=1, max_length=10_000)
    Source: str = Field(default="gitops", max_length=1024, description="Where the definitions come from.")


class ListSilencesRequest(Strict):
    Status: Literal["pending", "active", "expired"] | None = None


class ExpireSilenceRequest(Strict):
    SilenceId: str = Field(min_length=1, max_length=64)


@router.post("/PutMetricAlarm")
def put_metric_alarm(alarms: Service, who: CallerOf, body: Annotated[dict[str, Any], Body()]) -> dict[str, Any]:
    alarms.put(body, "metric", who)
    return {}


@router.post("/PutCompositeAlarm")
def put_composite_alarm(alarms: Service, who: CallerOf, body: Annotated[dict[str, Any], Body()]) -> dict[str, Any]:
    alarms.put(body, "composite", who)
    return {}


@router.post("/ApplyAlarms")
def apply_alarms(alarms: Service, who: CallerOf, body: ApplyAlarmsRequest) -> dict[str, Any]:
    """GitOps: validate every definition (all problems at once), then create/update; unchanged stay untouched."""
    models, problems = [], []
    for index, data in enumerate(body.Alarms):
        try:
            models.append(load_definition(data, f"{body.Source}: Alarms[{index}]"))
        except ConfigError as error:
            problems.extend(error.problems)
    if problems:
        raise ConfigError(problems)
    result = alarms.apply(models, body.Source, caller=who)
    return {"Created": result.created, "Updated": result.updated, "Unchanged": result.unchanged}


def _describe_alarm(alarms: AlarmService, definition: StoredDefinition, state: StoredState) -> dict[str, Any]:
    out: dict[str, Any] = {"AlarmName": definition.name,
                           "AlarmArn": alarm_arn(alarms.region, alarms.account_id, definition.name)}
    out.update({k: v for k, v in definition.body.items() if k != "Tags"})
    if definition.kind == "metric":
        out.setdefault("DatapointsToAlarm", definition.body["EvaluationPeriods"])
    out.update({
        "AlarmConfigurationUpdatedTimestamp": timestamp(definition.updated_ms),
        "StateValue": state.value, "StateReason": state.reason,
        "StateUpdatedTimestamp": timestamp(state.updated_ms),
        "StateTransitionedTimestamp": timestamp(state.transitioned_ms),
    })
    if state.reason_data:
        out["StateReasonData"] = state.reason_data
    return out


def _actions(definition: StoredDefinition) -> list[str]:
    return [uri for key in ("AlarmActions", "OKActions", "InsufficientDataActions")
            for uri in definition.body.get(key, [])]


@router.post("/DescribeAlarms")
def describe_alarms(alarms: Service, body: DescribeAlarmsRequest) -> dict[str, Any]:
    if body.AlarmNames is not None and body.AlarmNamePrefix is not None:
        raise ApiError("InvalidParameterCombination", "AlarmNames and AlarmNamePrefix cannot be used together")
    offset = _decode_token(body.NextToken, "DescribeAlarms")
    kinds = {"metric" if t == "MetricAlarm" else "composite" for t in body.AlarmTypes or ["MetricAlarm"]}
    found = [(d, s) for d, s in alarms.describe(body.AlarmNames)
             if d.kind in kinds and (body.AlarmNamePrefix is None or d.name.startswith(body.AlarmNamePrefix))
             and (body.StateValue is None or s.value == body.StateValue)
             and (body.ActionPrefix is None or any(a.startswith(body.ActionPrefix) for a in _actions(d)))]
    page = found[offset:offset + body.MaxRecords]
    out: dict[str, Any] = {
        "MetricAlarms": [_describe_alarm(alarms, d, s) for d, s in page if d.kind == "metric"],
        "CompositeAlarms": [_describe_alarm(alarms, d, s) for d, s in page if d.kind == "composite"]}
    if offset + body.MaxRecords < len(found):
        out["NextToken"] = _encode_token(offset + body.MaxRecords, "DescribeAlarms")
    return out


def _ms(moment: datetime | None) -> int | None:
    return None if moment is None else int(moment.timestamp() * 1000)


@router.post("/DescribeAlarmHistory")
def describe_alarm_history(alarms: Service, body: DescribeAlarmHistoryRequest) -> dict[str, Any]:
    offset = _decode_token(body.NextToken, "DescribeAlarmHistory")
    query = HistoryQuery(body.AlarmName, body.HistoryItemType, _ms(body.StartDate), _ms(body.EndDate),
                         body.ScanBy == "TimestampDescending")
    items = alarms.store.history(query, offset, body.MaxRecords + 1)
    kinds = {d.name: d.kind for d, _ in alarms.describe(sorted({i.name for i in items}))} if items else {}
    out: dict[str, Any] = {"AlarmHistoryItems": [
        {"AlarmName": i.name, "AlarmType": "CompositeAlarm" if kinds.get(i.name) == "composite" else "MetricAlarm",
         "Timestamp": timestamp(i.timestamp_ms), "HistoryItemType": i.item_type, "HistorySummary": i.summary,
         "HistoryData": i.data}
        for i in items[:body.MaxRecords]]}
    if len(items) > body.MaxRecords:
        out["NextToken"] = _encode_token(offset + body.MaxRecords, "DescribeAlarmHistory")
    return out


@router.post("/DeleteAlarms")
def delete_alarms(alarms: Service, who: CallerOf, body: AlarmNamesRequest) -> dict[str, Any]:
    alarms.delete(body.AlarmNames, who)
    return {}


@router.post("/SetAlarmState")
def set_alarm_state(alarms: Service, who: CallerOf, body: SetAlarmStateRequest) -> dict[str, Any]:
    alarms.set_state(body.AlarmName, body.StateValue, body.StateReason, body.StateReasonData)
    alarms.audit("SetAlarmState", who, ("Watchkeeper::Alarm", body.AlarmName), body.model_dump(mode="json"))
    return {}


@router.post("/EnableAlarmActions")
def enable_alarm_actions(alarms: Service, who: CallerOf, body: AlarmNamesRequest) -> dict[str, Any]:
    alarms.set_actions_enabled(body.AlarmNames, True, who)
    return {}


@router.post("/DisableAlarmActions")
def disable_alarm_actions(alarms: Service, who: CallerOf, body: AlarmNamesRequest) -> dict[str, Any]:
    alarms.set_actions_enabled(body.AlarmNames, False, who)
    return {}


@router.post("/CreateSilence")
def create_silence(alarms: Service, who: CallerOf, body: CreateSilenceRequest) -> dict[str, Any]:
    silence = alarms.silences.create(body, alarms.now_ms())
    alarms.audit("CreateSilence", who, ("Watchkeeper::Silence", silence.silence_id), body.model_dump(mode="json"))
    return {"SilenceId": silence.silence_id}


@router.post("/ListSilences")
def list_silences(alarms: Service, body: ListSilencesRequest) -> dict[str, Any]:
    now_ms = alarms.now_ms()
    return {"Silences": [s.describe(now_ms) for s in alarms.silences.all()
                         if body.Status is None or s.status(now_ms) == body.Status]}


@router.post("/ExpireSilence")
def expire_silence(alarms: Service, who: CallerOf, body: ExpireSilenceRequest) -> dict[str, Any]:
    silence = alarms.silences.expire(body.SilenceId, alarms.now_ms())
    alarms.audit("ExpireSilence", who, ("Watchkeeper::Silence", silence.silence_id), {"SilenceId": body.SilenceId})
    return {"Silence": silence.describe(alarms.now_ms())}
