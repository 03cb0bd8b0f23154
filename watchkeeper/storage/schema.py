"""Versioned, idempotent migrations, rendered for the engine's capabilities.

Each module in watchkeeper/storage/migrations/ named m<NNNN>_<name>.py defines
`statements(ctx) -> list[str]`. Version ranges per area keep parallel work from
colliding: 0-99 kernel, 100-199 metrics, 200-299 logs, 300-399 alarms,
400-499 audit, 500-599 dashboards. Every statement is idempotent (IF NOT EXISTS),
so a migration interrupted half way is simply run again.
"""

from __future__ import annotations

import importlib
import pkgutil
import time
from collections.abc import Callable
from dataclasses import dataclass

from watchkeeper.config.settings import RetentionSettings, Settings
from watchkeeper.storage import migrations as migrations_package
from watchkeeper.storage.capabilities import Capabilities
from watchkeeper.storage.engine import Engine
from watchkeeper.storage.sql import quote


@dataclass(frozen=True)
class Context:
    """What a migration may depend on: the server's capabilities and the retention settings."""

    caps: Capabilities
    retention: RetentionSettings
    audit_retention_days: int = 90
    engine: Engine | None = None

    def retention_days(self, area: str) -> int:
        """Days to keep an area's data: 'audit' or a RetentionSettings field such as 'metrics_days'."""
        return self.audit_retention_days if area == "audit" else int(getattr(self.retention, area))

    def ttl(self, column: str, days: int) -> str:
        """A TTL clause where the server has TTL; older servers are pruned by retention.py."""
        if not self.caps.ttl:
            return ""
        return f" TTL {column} + INTERVAL {days} DAY"

    def has_column(self, table: str, column: str) -> bool:
        """Whether table already has column. 18.16 lacks ADD COLUMN IF NOT EXISTS, so a migration that adds
        columns asks first to stay idempotent (statements are rendered just before they run)."""
        if self.engine is None:
            return False
        rows = self.engine.query("SELECT count() FROM system.columns WHERE database = currentDatabase() "
                                 f"AND table = {quote(table)} AND name = {quote(column)}")
        return bool(rows and int(rows[0][0]))

    def ttl_settings(self) -> str:
        return ", ttl_only_drop_parts = 1" if self.caps.ttl and self.caps.version >= (19, 15) else ""


@dataclass(frozen=True)
class Migration:
    version: int
    name: str
    statements: Callable[[Context], list[str]]


def all_migrations() -> list[Migration]:
    found = []
    for info in pkgutil.iter_modules(migrations_package.__path__):
        if not info.name.startswith("m") or "_" not in info.name:
            continue
        number, _, name = info.name[1:].partition("_")
        module = importlib.import_module(f"{migrations_package.__name__}.{info.name}")
        found.append(Migration(int(number), name, module.statements))
    found.sort(key=lambda m: m.version)
    versions = [m.version for m in found]
    if len(set(versions)) != len(versions):
        raise RuntimeError(f"two migrations share a version: {versions}")
    return found


LEDGER = "schema_migrations"


def _ensure_ledger(engine: Engine) -> None:
    engine.command(
        f"CREATE TABLE IF NOT EXISTS {LEDGER} (version UInt32, name String, applied_at DateTime) "
        "ENGINE = ReplacingMergeTree ORDER BY version"
    )


def applied_versions(engine: Engine) -> dict[int, int]:
    """version -> applied_at (epoch seconds)."""
    _ensure_ledger(engine)
    rows = engine.query(f"SELECT version, toUInt32(max(applied_at)) FROM {LEDGER} GROUP BY version")
    return {int(v): int(t) for v, t in rows}


def migrate(engine: Engine, settings: Settings | RetentionSettings | None = None) -> list[Migration]:
    """Apply every migration not yet recorded, in order; return those applied now."""
    if isinstance(settings, Settings):
        ctx = Context(engine.capabilities, settings.retention, settings.audit.retention_days, engine)
    else:
        ctx = Context(engine.capabilities, settings or RetentionSettings(), engine=engine)
    done = applied_versions(engine)
    applied = []
    for migration in all_migrations():
        if migration.version in done:
            continue
        for statement in migration.statements(ctx):
            engine.command(statement)
        # A columnar insert, not inline VALUES: clickhouse-driver's inline INSERT hangs on 18.16.
        engine.insert(LEDGER, {"version": [migration.version], "name": [migration.name],
                               "applied_at": [int(time.time())]})
        applied.append(migration)
    return applied


def status(engine: Engine) -> list[tuple[Migration, int | None]]:
    """Every known migration with the time it was applied, or None when pending."""
    done = applied_versions(engine)
    return [(m, done.get(m.version)) for m in all_migrations()]
