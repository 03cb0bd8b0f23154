"""CloudTrail actions: LookupEvents, PutAuditEvents (deploy tools, CI), ValidateLogs, ListPublicKeys, Query.

The caller's identity is the X-Watchkeeper-User header (the CLI sends the OS
user); the API does not authenticate yet, so it is recorded as given.
"""

from __future__ import annotations

import time
from datetime import UTC, datetime
from typing import Annotated, Any, Literal

from fastapi import APIRouter, Depends, Request
from pydantic import Field

from audit.lookup import LookupQuery, lookup_events, query_sql
from audit.record import AuditRecordModel
from audit.signing import Signer, public_der_b64
from audit.validate import validate_logs
from watchkeeper.api._routing import aws_route
from watchkeeper.api.context import ApiContext, context
from watchkeeper.config import Strict
from watchkeeper.errors import ApiError

router = APIRouter(prefix="/v1/cloudtrail", tags=["cloudtrail"],
                   route_class=aws_route(missing="InvalidParameterException", invalid="InvalidParameterException"))
Context = Annotated[ApiContext, Depends(context)]

LOOKBACK_DAYS = 90


class LookupAttribute(Strict):
    AttributeKey: Literal["EventId", "EventName", "ReadOnly", "Username", "ResourceType", "ResourceName",
                          "EventSource", "AccessKeyId"]
    AttributeValue: str = Field(min_length=1, max_length=2000)


class LookupEventsRequest(Strict):
    LookupAttributes: list[LookupAttribute] = Field(default_factory=list, max_length=1,
                                                    description="At most one attribute, as CloudTrail allows.")
    StartTime: datetime | None = None
    EndTime: datetime | None = None
    MaxResults: int = Field(default=50, ge=1, le=50)
    NextToken: str | None = None


def _epoch(moment: datetime | None, default: float) -> int:
    if moment is None:
        return int(default)
    return int((moment if moment.tzinfo else moment.replace(tzinfo=UTC)).timestamp())


@router.post("/LookupEvents")
def lookup(body: LookupEventsRequest, ctx: Context) -> dict[str, Any]:
    now = time.time()
    start = _epoch(body.StartTime, now - LOOKBACK_DAYS * 86400)
    end = _epoch(body.EndTime, now)
    if start > end:
        raise ApiError("InvalidTimeRangeException", "StartTime must be before EndTime")
    attribute = (body.LookupAttributes[0].AttributeKey, body.LookupAttributes[0].AttributeValue) \
        if body.LookupAttributes else None
    return lookup_events(ctx.engine, LookupQuery(start, end, body.MaxResults, attribute), body.NextToken)


class PutAuditEventsRequest(Strict):
    AuditEvents: list[AuditRecordModel] = Field(min_length=1, max_length=100)


def _recorder(ctx: ApiContext) -> Any:
    recorder = ctx.services.get("audit")
    if recorder is None:
        raise ApiError("ServiceUnavailable", "this API has no audit recorder configured", 503)
    return recorder


@router.post("/PutAuditEvents")
def put_audit_events(body: PutAuditEventsRequest, request: Request, ctx: Context) -> dict[str, Any]:
    """Record changes made by deploy tools and CI; give eventID to make a retry idempotent."""
    recorder = _recorder(ctx)
    source_ip = request.client.host if request.client else "unknown"
    records = [e.to_record(ctx.settings.audit.installation_id, source_ip) for e in body.AuditEvents]
    recorder.submit(records)
    return {"EventIds": [r["eventID"] for r in records]}


class ValidateLogsRequest(Strict):
    StartTime: datetime
    EndTime: datetime | None = None
    Verbose: bool = False


@router.post("/ValidateLogs")
def validate(body: ValidateLogsRequest, ctx: Context) -> dict[str, Any]:
    signer: Signer = ctx.services["audit_signer"]
    keys = {signer.fingerprint: signer.public_key}
    report = validate_logs(ctx.engine, keys.get, _epoch(body.StartTime, 0), _epoch(body.EndTime, time.time()))
    return {
        "Valid": report.valid,
        "Report": report.lines(body.Verbose),
        "Findings": [{"Hour": f.hour, "Subject": f.subject, "Valid": f.valid, "Reason": f.reason}
                     for f in report.findings],
    }


@router.post("/ListPublicKeys")
def list_public_keys(ctx: Context) -> dict[str, Any]:
    signer: Signer = ctx.services["audit_signer"]
    return {"PublicKeyList": [{"Value": public_der_b64(signer.public_key), "Fingerprint": signer.fingerprint,
                               "Algorithm": "Ed25519"}]}


class QueryRequest(Strict):
    QueryStatement: str = Field(min_length=1, max_length=10_000)
    MaxRows: int = Field(default=1000, ge=1, le=100_000)


@router.post("/Query")
def query(body: QueryRequest, ctx: Context) -> dict[str, Any]:
    """Read-only SQL over audit_events and audit_digests, for questions LookupEvents cannot express."""
    return query_sql(ctx.engine, body.QueryStatement, body.MaxRows)
