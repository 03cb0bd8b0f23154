"""The wire format: one Kafka record (or spool entry) = one envelope = a batch of events of one kind.

An envelope is JSON (orjson) with a schema version, so a collector can refuse
what it does not understand instead of guessing. It travels either as that JSON
(Kafka or nobody compresses it) or as one zstd frame of it: the agent compresses
each batch once and the same bytes go into its spool and onto Kafka (see
docs/logs-agent.md); `decode` tells the two apart by the zstd magic, which JSON
never starts with.
"""

from __future__ import annotations

import itertools
import time
import uuid
from dataclasses import dataclass, field
from typing import Any

import orjson
import zstandard

from watchkeeper.errors import WireError
from watchkeeper.events import Kind

SCHEMA_VERSION = 1
ZSTD_FRAME_MAGIC = b"\x28\xb5\x2f\xfd"
# A compressed envelope claiming more than this is refused before anything is allocated for it.
MAX_ENVELOPE_BYTES = 256 * 1024 * 1024


@dataclass(frozen=True, slots=True)
class Envelope:
    """A batch of items of one kind from one agent.

    batch_id is a UUID, unique across agent restarts, and names the batch on
    every redelivery; seq orders one agent process's batches for diagnostics.
    """

    kind: Kind
    agent_id: str
    host: str
    items: list[dict[str, Any]]
    batch_id: str = field(default_factory=lambda: uuid.uuid4().hex)
    seq: int = 0
    created: float = field(default_factory=time.time)
    version: int = SCHEMA_VERSION

    def encode(self) -> bytes:
        return orjson.dumps(
            {
                "v": self.version,
                "kind": self.kind.value,
                "agent": self.agent_id,
                "host": self.host,
                "batch": self.batch_id,
                "seq": self.seq,
                "created": self.created,
                "items": self.items,
            }
        )


_seq = itertools.count(1)


def make_envelope(kind: Kind, agent_id: str, host: str, items: list[dict[str, Any]]) -> Envelope:
    """A new envelope with a fresh batch id and the next sequence number of this process."""
    return Envelope(kind=kind, agent_id=agent_id, host=host, items=items, seq=next(_seq))


def decode(payload: bytes) -> Envelope:
    """Decode (and decompress) and validate the envelope's frame; items are validated by their table's writer."""
    if payload[:4] == ZSTD_FRAME_MAGIC:
        payload = _decompressed(payload)
    try:
        data = orjson.loads(payload)
    except orjson.JSONDecodeError as error:
        raise WireError(f"not JSON: {error}") from None
    if not isinstance(data, dict):
        raise WireError(f"envelope must be a JSON object, found {type(data).__name__}")
    version = data.get("v")
    if version != SCHEMA_VERSION:
        raise WireError(f"unsupported envelope version {version!r}; this collector reads {SCHEMA_VERSION}")
    try:
        kind = Kind(data["kind"])
    except (KeyError, ValueError):
        raise WireError(f"unknown kind {data.get('kind')!r}; allowed: {', '.join(k.value for k in Kind)}") from None
    problems = [
        f"{name} must be {typ.__name__}"
        for name, typ in (("agent", str), ("host", str), ("batch", str), ("seq", int), ("items", list))
        if not isinstance(data.get(name), typ)
    ]
    if not isinstance(data.get("created"), (int, float)):
        problems.append("created must be a number")
    if problems:
        raise WireError("; ".join(problems))
    return Envelope(
        kind=kind,
        agent_id=data["agent"],
        host=data["host"],
        items=data["items"],
        batch_id=data["batch"],
        seq=data["seq"],
        created=float(data["created"]),
        version=version,
    )


def compress(encoded: bytes, level: int) -> bytes:
    """An encoded envelope as one zstd frame (with its size in the header, which decode checks)."""
    return zstandard.ZstdCompressor(level=level).compress(encoded)


def _decompressed(payload: bytes) -> bytes:
    try:
        size = zstandard.frame_content_size(payload)
        if not 0 <= size <= MAX_ENVELOPE_BYTES:
            raise WireError(f"compressed envelope announces {size} bytes; allowed: 0 to {MAX_ENVELOPE_BYTES}")
        return zstandard.ZstdDecompressor().decompress(payload)
    except zstandard.ZstdError as error:
        raise WireError(f"compressed envelope is damaged: {error}") from None


# A routed entry, as the spool stores it: the kind and the Kafka key travel beside the
# encoded envelope so the forwarder can route without parsing the (large) JSON.
# Layout: 1 byte kind length, kind, 2 bytes key length (big-endian), key, envelope bytes.


def frame(kind: Kind, key: str, payload: bytes) -> bytes:
    kind_bytes = kind.value.encode()
    key_bytes = key.encode()
    return bytes([len(kind_bytes)]) + kind_bytes + len(key_bytes).to_bytes(2, "big") + key_bytes + payload


def unframe(entry: bytes) -> tuple[Kind, str, bytes]:
    """Split a spool entry into (kind, key, envelope bytes); raises WireError when malformed."""
    try:
        kind_end = 1 + entry[0]
        kind = Kind(entry[1:kind_end].decode())
        key_end = kind_end + 2 + int.from_bytes(entry[kind_end:kind_end + 2], "big")
        key = entry[kind_end + 2:key_end].decode()
    except (IndexError, ValueError, UnicodeDecodeError) as error:
        raise WireError(f"malformed spool entry: {error}") from None
    return kind, key, entry[key_end:]
