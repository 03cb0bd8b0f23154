"""`watchkeeper schema migrate|status`: run or show the storage migrations."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime
from pathlib import Path

import click

from audit.recorder import record_migrations
from watchkeeper.cli._client import caller
from watchkeeper.config import load_settings
from watchkeeper.config.settings import Settings
from watchkeeper.storage.engine import Engine, open_engine
from watchkeeper.storage.schema import migrate, status


@click.group("schema")
def command() -> None:
    """Storage schema migrations."""


_config = click.option("--config", "config_path", type=click.Path(path_type=Path), default=None,
                       help="watchkeeper.toml (clickhouse.url names the server or chdb path).")
_url = click.option("--url", default=None, help="Override clickhouse.url, e.g. chdb:///var/lib/watchkeeper/db.")


@contextmanager
def _storage(config_path: Path | None, url: str | None) -> Iterator[tuple[Settings, Engine]]:
    settings = load_settings(config_path)
    engine = open_engine(url or settings.clickhouse.url, settings.clickhouse.password, settings.clickhouse.secure)
    try:
        yield settings, engine
    finally:
        engine.close()


@command.command("migrate")
@_config
@_url
def migrate_command(config_path: Path | None, url: str | None) -> None:
    """Apply pending migrations (idempotent)."""
    with _storage(config_path, url) as (settings, engine):
        applied = migrate(engine, settings)
        record_migrations(engine, applied, settings.audit.installation_id, caller())
    for migration in applied:
        click.echo(f"applied {migration.version:04d} {migration.name}")
    click.echo(f"schema is up to date ({len(applied)} applied now)")


@command.command("status")
@_config
@_url
def status_command(config_path: Path | None, url: str | None) -> None:
    """Show every migration and whether it is applied."""
    with _storage(config_path, url) as (_, engine):
        rows = status(engine)
        click.echo(f"engine: {engine.kind} {'.'.join(str(p) for p in engine.capabilities.version)}")
    for migration, applied_at in rows:
        when = datetime.fromtimestamp(applied_at, UTC).isoformat() if applied_at else "pending"
        click.echo(f"{migration.version:04d} {migration.name:<20} {when}")
