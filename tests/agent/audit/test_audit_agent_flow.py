"""AuditAgent through the embedded path of `watchkeeper up`: spool -> collector -> chdb -> sealer -> LookupEvents."""

from __future__ import annotations

import hashlib
import os
import threading
from pathlib import Path

import orjson
from fim_helpers import eventually

from agent.audit import AuditAgent
from agent.shipper import Shipper
from audit.lookup import LookupQuery, lookup_events
from audit.sealer import Sealer
from audit.signing import Signer
from collector.deadletter import FileDeadLetters
from collector.loop import Collector
from collector.spool_source import SpoolSource
from watchkeeper.config.settings import (
    AuditFeedsSettings,
    AuditFilesSettings,
    AuditSettings,
    CollectorSettings,
    Settings,
)
from watchkeeper.events import Kind
from watchkeeper.storage.engine import EmbeddedEngine
from watchkeeper.storage.schema import migrate
from watchkeeper.transport.spool import Spool
from watchkeeper.wire import Envelope, decode, unframe

HOST = "web-1"


def settings(watched: Path, logs: Path) -> Settings:
    files = AuditFilesSettings(paths=[str(watched)], coalesce_s=0.2)
    feeds = AuditFeedsSettings(dpkg_log=str(logs / "dpkg.log"), apt_history_log=str(logs / "history.log"),
                               auth_logs=[str(logs / "auth.log")], passwd_file=str(logs / "passwd"),
                               group_file=str(logs / "group"), shadow_file=str(logs / "shadow"),
                               systemd_dirs=[str(logs / "systemd")], cron_paths=[str(logs / "cron.d")],
                               poll_interval_s=0.2, journal=False)  # the host's journal is not test data
    return Settings(audit=AuditSettings(installation_id="123456789012", files=files, feeds=feeds))


def test_agent_submits_audit_envelopes(tmp_path: Path) -> None:
    watched, logs = tmp_path / "etc", tmp_path / "logs"
    watched.mkdir()
    logs.mkdir()
    envelopes: list[Envelope] = []
    agent = AuditAgent(settings(watched, logs), HOST, "agent-1", tmp_path / "state", envelopes.append)
    agent.start()
    try:
        (watched / "hosts").write_text("10.0.0.1 db\n")
        (logs / "auth.log").write_text("May  2 10:20:11 web-1 sshd[1]: Accepted publickey for alice from 10.0.0.7 "
                                       "port 52344 ssh2\n")
        eventually(lambda: {r["eventName"] for e in list(envelopes) for r in e.items} >= {"CreateFile", "SshLogin"},
                   "a file event and a login event submitted")
    finally:
        agent.stop()
    assert {(e.kind, e.host, e.agent_id) for e in envelopes} == {(Kind.AUDIT, HOST, "agent-1")}


def test_file_changes_reach_lookup_events(tmp_path: Path) -> None:
    watched, logs = tmp_path / "etc", tmp_path / "logs"
    watched.mkdir()
    logs.mkdir()
    (watched / "sshd_config").write_text("PermitRootLogin yes\n")
    spool = Spool(tmp_path / "spool", max_bytes=64 * 1024 * 1024, segment_bytes=1024 * 1024, fsync="always")
    shipper = Shipper(spool, None, lambda kind: kind.value)
    agent = AuditAgent(settings(watched, logs), HOST, "agent-1", tmp_path / "state", shipper.submit)
    agent.start()
    agent.stop()
    (watched / "sshd_config").write_text("PermitRootLogin no\n")  # while the agent is down
    agent = AuditAgent(settings(watched, logs), HOST, "agent-1", tmp_path / "state", shipper.submit)
    agent.start()
    try:
        os.chmod(watched / "sshd_config", 0o600)
        wait_for_spooled(spool, {"ModifyFile", "ChangeFileMode"})
    finally:
        agent.stop()

    engine = EmbeddedEngine(tmp_path / "chdb")
    migrate(engine)
    collector = Collector(SpoolSource(spool, max_records=100, max_bytes=1024 * 1024), engine,
                          FileDeadLetters(tmp_path / "deadletter.jsonl"), CollectorSettings(max_age_s=0.2))
    thread = threading.Thread(target=collector.run, daemon=True)
    thread.start()
    eventually(lambda: spool.pending_entries == 0, "every spooled envelope collected")
    collector.stop()
    thread.join(timeout=60)
    Sealer(engine, Signer.load_or_create(tmp_path / "key.pem"), 120.0).seal()

    path = str(watched / "sshd_config")
    found = lookup_events(engine, LookupQuery(0, 2**31, 50, ("ResourceName", path)), None)["Events"]
    records = {e["EventName"]: orjson.loads(e["CloudTrailEvent"]) for e in found}
    assert set(records) == {"ModifyFile", "ChangeFileMode"}
    modify = records["ModifyFile"]["additionalEventData"]
    assert modify["foundAtStart"] is True
    assert modify["after"]["sha256"] == hashlib.sha256(b"PermitRootLogin no\n").hexdigest()
    assert "-PermitRootLogin yes\n+PermitRootLogin no\n" in modify["diff"]
    assert records["ChangeFileMode"]["requestParameters"]["mode"] == "0600"
    assert all(e["EventSource"] == "files.watchkeeper.local" and e["Username"] == "root" for e in found)
    engine.close()
    spool.close()


def wait_for_spooled(spool: Spool, names: set[str]) -> None:
    def spooled() -> bool:
        entries = spool.read(1000, 64 * 1024 * 1024, 0.1)
        spool.rewind()
        items = [item for _, entry in entries for item in decode(unframe(entry)[2]).items]
        return names <= {item["eventName"] for item in items}
    eventually(spooled, f"{names} in the spool")
