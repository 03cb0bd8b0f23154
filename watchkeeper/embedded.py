"""`watchkeeper up`: every role in one process, no external service.

The local spool stands in for Kafka and chdb for a ClickHouse server; the code
on either side of them is the distributed setup's own.
"""

from __future__ import annotations

from dataclasses import dataclass

from agent.cwagent_config import AgentConfig
from agent.shipper import Shipper
from alarms.service import AlarmService
from audit.recorder import AuditRecorder, record_migrations
from audit.signing import Signer
from collector.deadletter import FileDeadLetters
from collector.loop import Collector
from collector.spool_source import SpoolSource
from collector.upkeep import upkeep_roles
from watchkeeper.api.app import create_app
from watchkeeper.api.context import ApiContext
from watchkeeper.cli.cmd_api import ApiServer
from watchkeeper.config.settings import Settings
from watchkeeper.node import CallbackRole, Node, Progress, ThreadRole, agent_roles, open_spool, periodic
from watchkeeper.selfmetrics import REPORT_INTERVAL_S, agent_reporter
from watchkeeper.storage.engine import EmbeddedEngine
from watchkeeper.storage.schema import migrate

_SPOOL_READ_RECORDS = 500
_SPOOL_READ_BYTES = 64 * 1024 * 1024


@dataclass(frozen=True)
class Embedded:
    node: Node
    api_url: str
    engine: EmbeddedEngine


def build(settings: Settings, agent_config: AgentConfig, progress: Progress) -> Embedded:
    """Open storage and the spool, and wire every role; nothing runs until node.start()."""
    node = Node(progress)
    database_dir = settings.data_dir / "db"
    progress(f"opening storage: chdb at {database_dir}")
    engine = EmbeddedEngine(database_dir)
    node.on_close(engine.close)
    applied = migrate(engine, settings)
    record_migrations(engine, applied, settings.audit.installation_id, "watchkeeper-up")
    progress(f"schema ready ({len(applied)} migrations applied now)")
    spool = open_spool(settings)
    node.on_close(spool.close)
    progress(f"spool at {settings.spool_dir()} ({spool.pending_entries} batches waiting)")
    shipper = Shipper(spool, None, lambda kind: kind.value)

    collector = Collector(SpoolSource(spool, _SPOOL_READ_RECORDS, _SPOOL_READ_BYTES), engine,
                          FileDeadLetters(settings.data_dir / "deadletter.jsonl"), settings.collector)
    node.add(ThreadRole("collector (spool -> chdb)", collector.run, collector.stop))

    host = settings.agent.resolved_host()
    signer = Signer.load_or_create(settings.audit_signing_key())
    for upkeep in upkeep_roles(settings, engine, signer, f"embedded@{host}", collector.stats, shared=False):
        node.add(upkeep)

    recorder = AuditRecorder(shipper.submit, host, settings.audit.installation_id)
    services = {"audit": recorder, "audit_signer": signer, "collector": collector, "spool": spool}
    alarms = AlarmService(settings, engine, services)
    services["alarms"] = alarms
    node.add(CallbackRole("alarms (evaluation, notifications)", alarms.start, alarms.stop))
    server = ApiServer(create_app(ApiContext(settings, engine, services)), settings.api.listen)

    for role in agent_roles(agent_config, shipper, settings):
        node.add(role)
    node.add(periodic("agent self-metrics", REPORT_INTERVAL_S,
                      agent_reporter(spool, host, settings.agent.resolved_id(), shipper.submit)))
    # The API starts last: once it answers, every role behind it (the audit baseline, the tailer's
    # watches) is running, so nothing a user does after seeing the address goes unrecorded.
    node.add(CallbackRole("API", server.start, server.stop))
    return Embedded(node, server.url, engine)
