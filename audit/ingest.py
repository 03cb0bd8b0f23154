"""The collector's writer for audit envelopes: validate each record, keep it for the sealer."""

from __future__ import annotations

import time
from typing import Any

import orjson

from audit.chain import event_epoch
from watchkeeper.errors import WireError
from watchkeeper.storage.engine import Columns
from watchkeeper.wire import Envelope

REQUIRED = ("eventID", "eventTime", "eventSource", "eventName", "userIdentity")


def _check(index: int, item: Any) -> dict[str, Any]:
    if not isinstance(item, dict):
        raise WireError(f"audit item {index}: must be a JSON object, found {type(item).__name__}")
    missing = [key for key in REQUIRED if not item.get(key)]
    if missing:
        raise WireError(f"audit item {index} ({item.get('eventID')!r}): missing {', '.join(missing)}")
    event_epoch(item)
    return item


def to_rows(envelope: Envelope) -> dict[str, Columns]:
    records = [_check(i, item) for i, item in enumerate(envelope.items)]
    now = int(time.time())
    count = len(records)
    return {
        "audit_incoming": {
            "origin": [envelope.host] * count,
            "received_at": [now] * count,
            "batch_created": [envelope.created] * count,
            "batch_id": [envelope.batch_id] * count,
            "idx": list(range(count)),
            "event_id": [str(r["eventID"]) for r in records],
            "record": [orjson.dumps(r).decode() for r in records],
        }
    }
