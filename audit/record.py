"""CloudTrail records: the one shape every audit event has, whatever produced it.

eventSource names and resource types are listed once, here, and documented in
docs/audit.md. Producers build records with `new_record`; records that come
from outside (`audit put-event`) are validated with `AuditRecordModel`.
"""

from __future__ import annotations

import time
import uuid
from datetime import UTC, datetime
from typing import Any, Literal

from pydantic import Field

from watchkeeper.config import Strict

EVENT_VERSION = "1.09"

# eventSource -> what it records. Host sources come from the agent on each server.
EVENT_SOURCES: dict[str, str] = {
    "files.watchkeeper.local": "file integrity: create, modify, delete, move, chmod, chown",
    "packages.watchkeeper.local": "dpkg/apt: install, upgrade, remove",
    "accounts.watchkeeper.local": "users and groups added, changed, removed",
    "logins.watchkeeper.local": "sudo and ssh sessions",
    "systemd.watchkeeper.local": "units enabled, disabled, masked, started, stopped, failed",
    "cron.watchkeeper.local": "crontab edits",
    "watchkeeper.api": "Watchkeeper's own control plane (alarms, filters, silences, dashboards, schema)",
}

# Resource types, in CloudTrail's Service::Type form.
RESOURCE_TYPES: dict[str, str] = {
    "Host::File": "a file on a server; name = absolute path",
    "Host::Package": "a Debian package; name = package name",
    "Host::User": "an OS user; name = user name",
    "Host::Group": "an OS group; name = group name",
    "Host::SystemdUnit": "a systemd unit; name = unit name",
    "Host::Crontab": "a crontab; name = its path",
    "Watchkeeper::Alarm": "a metric or composite alarm; name = AlarmName",
    "Watchkeeper::MetricFilter": "a log metric filter; name = filterName",
    "Watchkeeper::Silence": "an alarm-action silence; name = its id",
    "Watchkeeper::Dashboard": "a Grafana dashboard; name = uid",
    "Watchkeeper::Schema": "the storage schema; name = database",
    "Watchkeeper::Config": "a configuration file; name = its path",
    "External::Deployment": "a change recorded by a deploy tool or CI (audit put-event)",
}

EventType = Literal["AwsApiCall", "AwsServiceEvent", "AwsConsoleAction", "AwsConsoleSignIn", "HostChange",
                    "ExternalChange"]


def iso_time(epoch: float) -> str:
    """CloudTrail's eventTime form: ISO-8601 UTC with a Z, to the second."""
    return datetime.fromtimestamp(epoch, UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def new_record(
    *,
    event_source: str,
    event_name: str,
    user_identity: dict[str, Any],
    installation_id: str,
    resources: list[dict[str, str]],
    read_only: bool = False,
    event_type: str = "AwsServiceEvent",
    request_parameters: dict[str, Any] | None = None,
    response_elements: dict[str, Any] | None = None,
    additional_event_data: dict[str, Any] | None = None,
    source_ip: str = "127.0.0.1",
    user_agent: str = "watchkeeper",
    error_code: str | None = None,
    error_message: str | None = None,
    event_time: float | None = None,
) -> dict[str, Any]:
    """A complete CloudTrail record with a fresh eventID and requestID."""
    record: dict[str, Any] = {
        "eventVersion": EVENT_VERSION,
        "userIdentity": user_identity,
        "eventTime": iso_time(event_time if event_time is not None else time.time()),
        "eventSource": event_source,
        "eventName": event_name,
        "awsRegion": "local",
        "sourceIPAddress": source_ip,
        "userAgent": user_agent,
        "requestParameters": request_parameters,
        "responseElements": response_elements,
        "requestID": str(uuid.uuid4()),
        "eventID": str(uuid.uuid4()),
        "readOnly": read_only,
        "resources": [{"ARN": r["ARN"], "accountId": installation_id, "type": r["type"]} for r in resources],
        "eventType": event_type,
        "managementEvent": True,
        "recipientAccountId": installation_id,
        "eventCategory": "Management",
    }
    if additional_event_data:
        record["additionalEventData"] = additional_event_data
    if error_code:
        record["errorCode"] = error_code
        record["errorMessage"] = error_message or ""
    return record


def resource(resource_type: str, name: str, host: str = "") -> dict[str, str]:
    """An ARN-like id: wk:<service>:<host>:<type>/<name>, so resources stay unique across hosts."""
    service, _, kind = resource_type.partition("::")
    return {"ARN": f"wk:{service.lower()}:{host}:{kind.lower()}/{name}", "type": resource_type}


def resource_name(arn: str) -> str:
    """The name part of an ARN made by `resource` (what LookupEvents' ResourceName matches)."""
    return arn.split("/", 1)[1] if "/" in arn else arn


class UserIdentityModel(Strict):
    type: str = Field(min_length=1, max_length=64, description="e.g. IAMUser, Root, HostUser, Service, CI")
    principalId: str | None = Field(default=None, max_length=256)
    arn: str | None = Field(default=None, max_length=2048)
    accountId: str | None = Field(default=None, max_length=64)
    accessKeyId: str | None = Field(default=None, max_length=128)
    userName: str | None = Field(default=None, max_length=256)
    sessionContext: dict[str, Any] | None = None
    invokedBy: str | None = None


class ResourceModel(Strict):
    ARN: str = Field(min_length=1, max_length=2048)
    type: str = Field(min_length=1, max_length=128)
    accountId: str | None = None


class AuditRecordModel(Strict):
    """A record submitted from outside (a deploy tool, CI): validated against CloudTrail's shape."""

    eventSource: str = Field(min_length=1, max_length=256)
    eventName: str = Field(min_length=1, max_length=256)
    userIdentity: UserIdentityModel
    eventTime: datetime | None = Field(default=None, description="Defaults to the time it is received.")
    eventType: str = Field(default="ExternalChange", max_length=64)
    sourceIPAddress: str | None = Field(default=None, max_length=256)
    userAgent: str | None = Field(default=None, max_length=1024)
    requestParameters: dict[str, Any] | None = None
    responseElements: dict[str, Any] | None = None
    additionalEventData: dict[str, Any] | None = None
    resources: list[ResourceModel] = Field(default_factory=list, max_length=100)
    readOnly: bool = False
    errorCode: str | None = Field(default=None, max_length=256)
    errorMessage: str | None = Field(default=None, max_length=4096)
    eventID: str | None = Field(default=None, description="Defaults to a fresh UUID; give one to make retries idempotent.")

    def to_record(self, installation_id: str, received_from: str) -> dict[str, Any]:
        record = new_record(
            event_source=self.eventSource,
            event_name=self.eventName,
            user_identity=self.userIdentity.model_dump(exclude_none=True),
            installation_id=installation_id,
            resources=[{"ARN": r.ARN, "type": r.type} for r in self.resources],
            read_only=self.readOnly,
            event_type=self.eventType,
            request_parameters=self.requestParameters,
            response_elements=self.responseElements,
            additional_event_data=self.additionalEventData,
            source_ip=self.sourceIPAddress or received_from,
            user_agent=self.userAgent or "watchkeeper-cli",
            error_code=self.errorCode,
            error_message=self.errorMessage,
            event_time=self.eventTime.timestamp() if self.eventTime else None,
        )
        if self.eventID:
            record["eventID"] = self.eventID
        return record
