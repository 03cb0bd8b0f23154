"""Records Watchkeeper's own control-plane changes (and records sent by deploy tools) as audit events.

The API owns one AuditRecorder; it hands records to the same path agents use
(a Shipper: the spool, then Kafka or the embedded collector), so the collector
chains and signs them like any other origin. The chain of an API process is
named api:<host>.
"""

from __future__ import annotations

import socket
from collections.abc import Callable
from typing import Any

from audit.ingest import to_rows
from audit.record import new_record, resource
from watchkeeper.events import Kind
from watchkeeper.storage.engine import Engine
from watchkeeper.storage.schema import Migration
from watchkeeper.wire import Envelope, make_envelope

API_SOURCE = "watchkeeper.api"


class AuditRecorder:
    def __init__(self, submit: Callable[[Envelope], object], host: str, installation_id: str,
                 origin: str | None = None) -> None:
        self._submit = submit
        self.origin = origin or f"api:{host}"
        self.host = host
        self.installation_id = installation_id

    def submit(self, records: list[dict[str, Any]]) -> None:
        if records:
            self._submit(make_envelope(Kind.AUDIT, self.origin, self.origin, records))

    def api_call(
        self,
        event_name: str,
        *,
        caller: str,
        source_ip: str,
        user_agent: str,
        resources: list[tuple[str, str]],
        request: dict[str, Any] | None,
        response: dict[str, Any] | None = None,
        error: tuple[str, str] | None = None,
        read_only: bool = False,
    ) -> dict[str, Any]:
        """Record one API action (a management event) with the caller's identity; return the record."""
        record = new_record(
            event_source=API_SOURCE,
            event_name=event_name,
            user_identity={"type": "WatchkeeperUser", "principalId": caller, "userName": caller},
            installation_id=self.installation_id,
            resources=[resource(kind, name, self.host) for kind, name in resources],
            read_only=read_only,
            event_type="AwsApiCall",
            request_parameters=request,
            response_elements=response,
            source_ip=source_ip,
            user_agent=user_agent,
            error_code=error[0] if error else None,
            error_message=error[1] if error else None,
        )
        self.submit([record])
        return record


def record_migrations(engine: Engine, applied: list[Migration], installation_id: str, who: str) -> None:
    """Record applied schema migrations straight into storage (the schema command has no spool or API).

    The records go where the collector puts delivered ones, so the sealer chains them like any other.
    """
    if not applied:
        return
    host = socket.gethostname()

    def store(envelope: Envelope) -> None:
        engine.insert("audit_incoming", to_rows(envelope)["audit_incoming"])

    recorder = AuditRecorder(store, host, installation_id, origin=f"schema:{host}")
    recorder.api_call("MigrateSchema", caller=who, source_ip="127.0.0.1", user_agent="watchkeeper-schema",
                      resources=[("Watchkeeper::Schema", engine.database)],
                      request={"applied": [f"{m.version:04d} {m.name}" for m in applied]})
