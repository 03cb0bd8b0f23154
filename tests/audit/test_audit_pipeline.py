"""File changes through the distributed setup: `watchkeeper agent run` -> Kafka -> `watchkeeper collector run`
-> ClickHouse server, read back with LookupEvents and ValidateLogs through a real API server.

Each change (create, edit, chmod, chown, rename, delete, and an edit made while the
agent was stopped) must appear once with the hashes hashlib computes of the file,
the diff, and the file owner's identity; the store must validate clean, before and
after its hour is digested.
"""

from __future__ import annotations

import hashlib
import json
import os
import pwd
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
import pytest

from audit.digest import HOUR, make_digests
from audit.signing import Signer
from testenv import CLICKHOUSE_HOST, CLICKHOUSE_PORT, KAFKA_BOOTSTRAP
from torture.logs_torture_support import Service, settle, watchkeeper_cli
from watchkeeper.api.app import create_app
from watchkeeper.api.context import ApiContext
from watchkeeper.cli.cmd_api import ApiServer
from watchkeeper.config import load_settings
from watchkeeper.storage.engine import ServerEngine
from watchkeeper.storage.schema import migrate

ARRIVAL_LIMIT_S = 180.0  # bounds a hung pipeline only; how fast events arrive is measured in bench/audit_latency.py
NOBODY = pwd.getpwnam("nobody")


def sha256_of(text: str) -> str:
    return hashlib.sha256(text.encode()).hexdigest()


@dataclass
class Pipeline:
    watched: Path
    agent: Service
    api: httpx.Client
    engine: ServerEngine
    signer: Signer

    def events(self, path: Path) -> list[dict[str, Any]]:
        """Every event naming this path (as the file or as a move's source), newest first, records parsed."""
        answer = self.api.post("/v1/cloudtrail/LookupEvents", json={
            "LookupAttributes": [{"AttributeKey": "ResourceName", "AttributeValue": str(path)}],
            "StartTime": time.time() - HOUR})
        assert answer.status_code == 200, answer.text
        assert "NextToken" not in answer.json()
        return [{**event, "record": json.loads(event["CloudTrailEvent"])} for event in answer.json()["Events"]]

    def wait_for(self, path: Path, event_name: str) -> dict[str, Any]:
        """The one event of this name for path, once it is queryable."""
        settle(lambda: any(e["EventName"] == event_name for e in self.events(path)),
               f"{event_name} of {path} in LookupEvents", ARRIVAL_LIMIT_S, 0.5)
        found = [e for e in self.events(path) if e["EventName"] == event_name]
        assert len(found) == 1, f"{event_name} of {path} recorded {len(found)} times"
        record: dict[str, Any] = found[0]["record"]
        return record

    def validate(self) -> dict[str, Any]:
        answer = self.api.post("/v1/cloudtrail/ValidateLogs",
                               json={"StartTime": time.time() - 2 * HOUR, "EndTime": time.time() + 2 * HOUR,
                                     "Verbose": True})
        assert answer.status_code == 200, answer.text
        report: dict[str, Any] = answer.json()
        return report


@pytest.fixture
def pipeline(tmp_path: Path, unique_name: str) -> Iterator[Pipeline]:
    watched = tmp_path / "etc"
    watched.mkdir()
    (watched / "present-before.conf").write_text("kept = 1\n")
    config = tmp_path / "watchkeeper.toml"
    config.write_text(
        f'data_dir = "{tmp_path / "data"}"\n'
        f'[agent]\nhost = "{unique_name}"\n'
        f'[kafka]\nbootstrap_servers = ["{KAFKA_BOOTSTRAP}"]\ntopic_prefix = "{unique_name}"\n'
        f'[clickhouse]\nurl = "clickhouse://{CLICKHOUSE_HOST}:{CLICKHOUSE_PORT}/{unique_name}"\n'
        f'[collector]\ngroup_id = "{unique_name}"\nmax_age_s = 0.5\n'
        f'[audit]\nsigning_key = "{tmp_path / "signing.pem"}"\n'
        f'[audit.files]\npaths = ["{watched}"]\ncoalesce_s = 0.3\n'
        '[audit.feeds]\nenabled = false\n')
    agent_config = tmp_path / "amazon-cloudwatch-agent.json"
    agent_config.write_text("{}")  # no metrics, no logs: only the audit sources run
    settings = load_settings(config)
    engine = ServerEngine(CLICKHOUSE_HOST, CLICKHOUSE_PORT, unique_name)
    migrate(engine, settings.retention)
    signer = Signer.load_or_create(settings.audit_signing_key())
    collector = Service("collector", watchkeeper_cli("collector", "run", "--config", config),
                        tmp_path / "collector.out")
    agent = Service("agent", watchkeeper_cli("agent", "run", "--config", config, "--agent-config", agent_config),
                    tmp_path / "agent.out", ready=lambda: "shipping to" in (tmp_path / "agent.out").read_text())
    context = ApiContext(settings, engine, {"audit_signer": signer})
    started_in_order = (collector, agent)
    try:
        for service in started_in_order:
            service.start()
        with ApiServer.running(create_app(context), "127.0.0.1:0") as server, \
                httpx.Client(base_url=server.url, timeout=60) as client:
            yield Pipeline(watched, agent, client, engine, signer)
        for service in reversed(started_in_order):  # a clean stop: the agent flushes, the collector commits
            assert service.stop() == 0, service.tail()
    finally:
        for service in reversed(started_in_order):
            service.stop()
        engine.command(f"DROP DATABASE IF EXISTS {unique_name}")
        engine.close()


def _owner_identity(record: dict[str, Any], uid: int) -> None:
    assert record["userIdentity"] == {"type": "HostUser", "identitySource": "fileOwner", "principalId": str(uid),
                                      "uid": uid, "userName": pwd.getpwuid(uid).pw_name}


def test_file_changes_arrive_with_hashes_diffs_and_identity(pipeline: Pipeline) -> None:
    target = pipeline.watched / "app.conf"
    first, second = "port = 80\nworkers = 4\n", "port = 8080\nworkers = 4\n"

    target.write_text(first)
    created = pipeline.wait_for(target, "CreateFile")
    assert created["eventSource"] == "files.watchkeeper.local"
    assert created["additionalEventData"]["before"] is None
    assert created["additionalEventData"]["after"]["sha256"] == sha256_of(first)
    assert created["additionalEventData"]["after"]["size"] == len(first)
    _owner_identity(created, os.getuid())

    target.write_text(second)
    modified = pipeline.wait_for(target, "ModifyFile")
    data = modified["additionalEventData"]
    assert (data["before"]["sha256"], data["after"]["sha256"]) == (sha256_of(first), sha256_of(second))
    assert "-port = 80\n" in data["diff"] and "+port = 8080\n" in data["diff"] and " workers = 4\n" in data["diff"]
    assert modified["resources"][0]["type"] == "Host::File"

    target.chmod(0o600)
    chmod = pipeline.wait_for(target, "ChangeFileMode")
    assert chmod["requestParameters"] == {"path": str(target), "mode": "0600"}
    assert (chmod["additionalEventData"]["before"]["mode"], chmod["additionalEventData"]["after"]["mode"]) == \
        ("0644", "0600")

    os.chown(target, NOBODY.pw_uid, NOBODY.pw_gid)
    chown = pipeline.wait_for(target, "ChangeFileOwner")
    assert chown["requestParameters"]["uid"] == NOBODY.pw_uid and chown["requestParameters"]["gid"] == NOBODY.pw_gid
    _owner_identity(chown, NOBODY.pw_uid)  # the owner after the change

    moved = pipeline.watched / "renamed.conf"
    target.rename(moved)
    move = pipeline.wait_for(moved, "MoveFile")
    assert move["requestParameters"] == {"path": str(moved), "sourcePath": str(target)}
    assert move["additionalEventData"]["after"]["sha256"] == sha256_of(second)
    assert "MoveFile" in [e["EventName"] for e in pipeline.events(target)]  # found by its old name too

    moved.unlink()
    deleted = pipeline.wait_for(moved, "DeleteFile")
    assert deleted["additionalEventData"]["before"]["sha256"] == sha256_of(second)
    assert deleted["additionalEventData"]["after"] is None
    _owner_identity(deleted, NOBODY.pw_uid)  # a deletion names the owner before it

    # Nothing was recorded twice, and nothing else: the file present before the first start is not an event.
    assert len(pipeline.events(target)) == 5
    assert pipeline.events(pipeline.watched / "present-before.conf") == []


def test_change_made_while_the_agent_was_stopped_is_found_at_start(pipeline: Pipeline) -> None:
    kept = pipeline.watched / "present-before.conf"
    # The agent saves its snapshot at stop; the edit lands while nothing watches.
    assert pipeline.agent.stop() == 0, pipeline.agent.tail()
    kept.write_text("kept = 2\n")
    pipeline.agent.start()
    found = pipeline.wait_for(kept, "ModifyFile")
    data = found["additionalEventData"]
    assert data["foundAtStart"] is True and data["detectedBy"] == "baseline"
    assert (data["before"]["sha256"], data["after"]["sha256"]) == (sha256_of("kept = 1\n"), sha256_of("kept = 2\n"))
    assert "-kept = 1\n" in data["diff"] and "+kept = 2\n" in data["diff"]


def test_store_validates_clean_before_and_after_its_hour_is_digested(pipeline: Pipeline) -> None:
    for name in ("a.conf", "b.conf", "c.conf"):
        (pipeline.watched / name).write_text(f"{name}\n")
    for name in ("a.conf", "b.conf", "c.conf"):
        pipeline.wait_for(pipeline.watched / name, "CreateFile")
    undigested = pipeline.validate()
    assert undigested["Valid"], undigested["Report"]
    # Reported per hour: near the top of an hour the three may straddle two.
    pending = [f for f in undigested["Findings"] if f["Reason"].startswith("not yet digested")]
    assert pending and all(f["Valid"] for f in pending)
    assert sum(int(f["Reason"].split()[3]) for f in pending) == 3

    # Force the hour's digest as the sealer will make it once the hour is over; the agent is stopped first so
    # that nothing more is recorded in the hour just digested.
    assert pipeline.agent.stop() == 0, pipeline.agent.tail()
    made = make_digests(pipeline.engine, pipeline.signer, time.time() + HOUR, grace_s=0)
    assert made, "no digest was made"
    digested = pipeline.validate()
    assert digested["Valid"], digested["Report"]
    assert f"{len(made)}/{len(made)} digests valid" in digested["Report"]
    assert "3/3 events valid" in digested["Report"]
