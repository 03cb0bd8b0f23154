"""The sealer: chains delivered audit records in order and makes the signed hourly digests.

Exactly one sealer may run per database (two would hand out the same seq
numbers, which validation rightly reports as inserted events): `watchkeeper up`
runs one; in the distributed setup one collector runs it (collector setting
`audit.seal`). It is idempotent: records already chained are skipped by eventID.
"""

from __future__ import annotations

import logging
import time
from collections import defaultdict
from typing import Any

import orjson

from audit.chain import Chainer, write_audit
from audit.digest import make_digests
from audit.signing import Signer
from watchkeeper.storage.engine import Engine

log = logging.getLogger(__name__)

# Records delivered this long before the newest chained one are assumed chained already.
_LOOKBACK_S = 3600


class Sealer:
    def __init__(self, engine: Engine, signer: Signer, digest_grace_s: float) -> None:
        self._engine = engine
        self._signer = signer
        self._grace = digest_grace_s
        self._chainer = Chainer(engine)
        # Start one lookback before the last chaining: anything delivered since may be unchained.
        rows = engine.query("SELECT toUInt32(max(recorded_at)), count() FROM audit_events")
        self._watermark = int(rows[0][0]) if rows and int(rows[0][1]) else 0
        self._chained_ids: dict[str, int] = {}

    def seal(self, now: float | None = None) -> tuple[int, list[int]]:
        """Chain what arrived, then digest the hours that are over; (records chained, digest hours made)."""
        chained = self._chain_new()
        made = make_digests(self._engine, self._signer, time.time() if now is None else now, self._grace)
        return chained, made

    def _chain_new(self) -> int:
        since = max(self._watermark - _LOOKBACK_S, 0)
        rows = self._engine.query(
            "SELECT origin, toUInt32(max(received_at)) AS received, event_id, any(record), any(batch_created), "
            "any(batch_id), any(idx) FROM audit_incoming "
            f"WHERE received_at >= toDateTime({since}) GROUP BY origin, event_id "
            "ORDER BY origin, any(batch_created), any(batch_id), any(idx)"
        )
        if not rows:
            return 0
        by_origin: dict[str, list[dict[str, Any]]] = defaultdict(list)
        for origin, _, event_id, record, _, _, _ in rows:
            if str(event_id) not in self._chained_ids:
                by_origin[str(origin)].append(orjson.loads(record))
        count = write_audit(self._engine, self._chainer, sorted(by_origin.items())) if by_origin else 0
        self._chained_ids.update((str(r[2]), int(r[1])) for r in rows)
        self._watermark = max(int(r[1]) for r in rows)
        horizon = self._watermark - _LOOKBACK_S
        self._chained_ids = {k: v for k, v in self._chained_ids.items() if v >= horizon}
        if count:
            log.info("chained %d audit events from %d origins", count, len(by_origin))
        return count
