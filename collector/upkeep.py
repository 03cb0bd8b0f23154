"""What runs beside a collector: the audit sealer, metric filters, rollups and retention, self-metrics.

Each is idempotent except the sealer, which must have one writer per database:
in the distributed setup collectors take turns through a lease (every collector
that may seal needs the same [audit] signing_key file); `watchkeeper up` has one.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Mapping
from typing import Any

from alarms.store import Lease
from audit.sealer import Sealer
from audit.signing import Signer
from watchkeeper.config.settings import Settings
from watchkeeper.metricfilters.runner import INTERVAL_S as METRIC_FILTER_INTERVAL_S
from watchkeeper.metricfilters.runner import MetricFilterRunner
from watchkeeper.node import ThreadRole, periodic
from watchkeeper.selfmetrics import REPORT_INTERVAL_S, CollectorReporter
from watchkeeper.storage.engine import Engine
from watchkeeper.storage.maintenance import maintain

SEAL_INTERVAL_S = 2.0
MAINTENANCE_INTERVAL_S = 60.0
SEALER_LEASE_TTL_S = 30.0
SEALER_LEASE_SETTLE_S = 2.0


def upkeep_roles(settings: Settings, engine: Engine, signer: Signer, name: str,
                 collector_stats: Callable[[], Mapping[str, Any]], shared: bool) -> list[ThreadRole]:
    """The background roles of one collector named `name`; `shared` when other collectors may run them too."""
    sealer = Sealer(engine, signer, settings.audit.digest_grace_s)
    lease = Lease(engine, "audit-sealer", name, SEALER_LEASE_TTL_S, SEALER_LEASE_SETTLE_S) if shared else None

    def seal() -> None:
        if lease is None or lease.hold(time.time()):
            sealer.seal()

    return [
        periodic("audit sealer", SEAL_INTERVAL_S, seal),
        periodic("metric filters", METRIC_FILTER_INTERVAL_S, MetricFilterRunner(engine).run_once),
        periodic("rollups and retention", MAINTENANCE_INTERVAL_S, lambda: maintain(engine, settings)),
        periodic("collector self-metrics", REPORT_INTERVAL_S, CollectorReporter(name, collector_stats, engine)),
    ]
