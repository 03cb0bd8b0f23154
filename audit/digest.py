"""Hourly digests: what each chain held at the end of each hour, signed and chained.

A digest covers the events *recorded* (inserted by the collector) in one hour:
for each chain, the first and last seq, the predecessor hash of the first, the
hash of the last and the count. It carries the previous digest's hash and
signature, so deleting a digest breaks the digest chain, and it is made for
every hour, also when empty, as CloudTrail does.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from typing import Any

import orjson

from audit.chain import canonical
from audit.record import iso_time
from audit.signing import Signer
from watchkeeper.storage.engine import Engine

HOUR = 3600
DIGEST_VERSION = "1.0"


@dataclass(frozen=True)
class StoredDigest:
    hour: int
    body: dict[str, Any]
    text: str
    digest_hash: str
    signature: str
    key_fingerprint: str


def signed_message(body_text: str, previous_signature: str | None) -> bytes:
    """What is signed: the digest's end time, its hash and the previous signature, as CloudTrail does."""
    body = orjson.loads(body_text)
    digest_hash = hashlib.sha256(body_text.encode()).hexdigest()
    return "\n".join([body["digestEndTime"], digest_hash, previous_signature or "null"]).encode()


def load_digests(engine: Engine, start_hour: int | None = None, end_hour: int | None = None) -> list[StoredDigest]:
    where = []
    if start_hour is not None:
        where.append(f"hour >= toDateTime({start_hour})")
    if end_hour is not None:
        where.append(f"hour <= toDateTime({end_hour})")
    rows = engine.query(
        "SELECT toUInt32(hour), digest, digest_hash, signature, key_fingerprint FROM audit_digests"
        + (" WHERE " + " AND ".join(where) if where else "") + " ORDER BY hour"
    )
    return [StoredDigest(int(h), orjson.loads(d), str(d), str(dh), str(s), str(k)) for h, d, dh, s, k in rows]


def _chain_ranges(engine: Engine, hour: int) -> list[dict[str, Any]]:
    rows = engine.query(
        "SELECT chain, min(seq), max(seq), count(), argMin(prev_hash, seq), argMax(event_hash, seq) "
        f"FROM audit_events WHERE recorded_at >= toDateTime({hour}) AND recorded_at < toDateTime({hour + HOUR}) "
        "GROUP BY chain ORDER BY chain"
    )
    return [{"chain": c, "firstSeq": int(lo), "lastSeq": int(hi), "count": int(n), "firstPrevHash": str(p),
             "headHash": str(h)} for c, lo, hi, n, p, h in rows]


def make_digests(engine: Engine, signer: Signer, now: float, grace_s: float) -> list[int]:
    """Make every missing digest for hours that ended at least grace_s ago; return their hours."""
    last = engine.query("SELECT toUInt32(max(hour)), count() FROM audit_digests")
    first_event = engine.query("SELECT toUInt32(min(recorded_at)), count() FROM audit_events")
    if last and int(last[0][1]) > 0:
        next_hour = int(last[0][0]) + HOUR
        previous = load_digests(engine, int(last[0][0]), int(last[0][0]))[-1]
        prev_hash, prev_sig = previous.digest_hash, previous.signature
    elif first_event and int(first_event[0][1]) > 0:
        next_hour = int(first_event[0][0]) // HOUR * HOUR
        prev_hash, prev_sig = None, None
    else:
        return []
    made = []
    while next_hour + HOUR + grace_s <= now:
        body = {
            "digestVersion": DIGEST_VERSION,
            "digestStartTime": iso_time(next_hour),
            "digestEndTime": iso_time(next_hour + HOUR),
            "chains": _chain_ranges(engine, next_hour),
            "previousDigestHash": prev_hash,
            "previousDigestSignature": prev_sig,
            "publicKeyFingerprint": signer.fingerprint,
        }
        text = canonical(body).decode()
        digest_hash = hashlib.sha256(text.encode()).hexdigest()
        signature = signer.sign(signed_message(text, prev_sig))
        engine.insert("audit_digests", {"hour": [next_hour], "digest": [text], "digest_hash": [digest_hash],
                                        "signature": [signature], "key_fingerprint": [signer.fingerprint]})
        made.append(next_hour)
        prev_hash, prev_sig = digest_hash, signature
        next_hour += HOUR
    return made
