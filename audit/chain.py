"""Hash chains: every audit record carries the SHA-256 of its canonical form and its predecessor's.

One chain per origin (an agent's host, or an API instance), written by the one
collector that owns the origin's Kafka partition, so seq numbers are dense and
ordered. The collector checks eventIDs before chaining, so a redelivered batch
is not chained twice; heads advance only after the insert succeeded.
"""

from __future__ import annotations

import hashlib
import time
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime
from typing import Any

import orjson

from audit.record import resource_name
from watchkeeper.errors import WireError
from watchkeeper.storage.engine import Columns, Engine
from watchkeeper.storage.sql import in_list, quote

GENESIS = "0" * 64

EVENT_COLUMNS = ("chain", "seq", "event_id", "event_time", "recorded_at", "event_source", "event_name",
                 "username", "access_key_id", "read_only", "resource_types", "resource_names",
                 "event_hash", "prev_hash", "record")


def canonical(record: dict[str, Any]) -> bytes:
    """The bytes that are hashed: sorted keys, no whitespace; stable for equal records."""
    return orjson.dumps(record, option=orjson.OPT_SORT_KEYS)


def record_hash(record_text: bytes | str) -> str:
    data = record_text.encode() if isinstance(record_text, str) else record_text
    return hashlib.sha256(data).hexdigest()


def username_of(record: dict[str, Any]) -> str:
    identity = record.get("userIdentity") or {}
    return str(identity.get("userName") or identity.get("principalId") or "")


def event_epoch(record: dict[str, Any]) -> int:
    try:
        return int(datetime.fromisoformat(str(record["eventTime"]).replace("Z", "+00:00")).timestamp())
    except (KeyError, ValueError) as error:
        raise WireError(f"audit record {record.get('eventID')!r}: eventTime: {error}") from None


@dataclass
class Head:
    seq: int
    event_hash: str


class Chainer:
    """Assigns seq and hashes to new records and remembers each chain's head."""

    def __init__(self, engine: Engine) -> None:
        self._engine = engine
        self._heads: dict[str, Head] = {}

    def _head(self, chain: str) -> Head:
        if chain not in self._heads:
            rows = self._engine.query(
                f"SELECT seq, event_hash FROM audit_events WHERE chain = {quote(chain)} ORDER BY seq DESC LIMIT 1"
            )
            self._heads[chain] = Head(int(rows[0][0]), str(rows[0][1])) if rows else Head(0, GENESIS)
        return self._heads[chain]

    def _stored_ids(self, chain: str, event_ids: list[str]) -> set[str]:
        rows = self._engine.query(
            f"SELECT event_id FROM audit_events WHERE chain = {quote(chain)} AND event_id IN {in_list(event_ids)}"
        )
        return {str(r[0]) for r in rows}

    def chain(self, batches: Iterable[tuple[str, list[dict[str, Any]]]],
              recorded_at: float | None = None) -> tuple[Columns, dict[str, Head]]:
        """Columns for the records not stored yet, and the heads to `advance` to once inserted."""
        now = int(recorded_at if recorded_at is not None else time.time())
        columns: dict[str, list[Any]] = {name: [] for name in EVENT_COLUMNS}
        heads: dict[str, Head] = {}
        seen: set[str] = set()
        for chain, records in batches:
            ids = [str(r.get("eventID", "")) for r in records]
            stored = self._stored_ids(chain, ids)
            head = heads.get(chain) or self._head(chain)
            for record in records:
                event_id = str(record.get("eventID") or "")
                if not event_id:
                    raise WireError(f"audit record from {chain}: eventID is missing")
                if event_id in stored or event_id in seen:
                    continue
                seen.add(event_id)
                text = canonical(record)
                digest = record_hash(text)
                resources = record.get("resources") or []
                columns["chain"].append(chain)
                columns["seq"].append(head.seq + 1)
                columns["event_id"].append(event_id)
                columns["event_time"].append(event_epoch(record))
                columns["recorded_at"].append(now)
                columns["event_source"].append(str(record.get("eventSource", "")))
                columns["event_name"].append(str(record.get("eventName", "")))
                columns["username"].append(username_of(record))
                columns["access_key_id"].append(str((record.get("userIdentity") or {}).get("accessKeyId") or ""))
                columns["read_only"].append(1 if record.get("readOnly") else 0)
                columns["resource_types"].append([str(r.get("type", "")) for r in resources])
                columns["resource_names"].append([resource_name(str(r.get("ARN", ""))) for r in resources])
                columns["event_hash"].append(digest)
                columns["prev_hash"].append(head.event_hash)
                columns["record"].append(text.decode())
                head = Head(head.seq + 1, digest)
            heads[chain] = head
        return columns, heads

    def advance(self, heads: dict[str, Head]) -> None:
        """Called after the insert succeeded: later batches chain onto these heads."""
        self._heads.update(heads)

    def forget(self) -> None:
        """Drop cached heads (after a failed insert or a partition reassignment)."""
        self._heads.clear()


def write_audit(engine: Engine, chainer: Chainer, batches: Iterable[tuple[str, list[dict[str, Any]]]]) -> int:
    """Chain and insert; the heads advance only when the insert succeeded."""
    columns, heads = chainer.chain(batches)
    if not columns["seq"]:
        return 0
    try:
        engine.insert("audit_events", columns)
    except Exception:
        chainer.forget()
        raise
    chainer.advance(heads)
    return len(columns["seq"])
