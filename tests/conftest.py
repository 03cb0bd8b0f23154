"""Shared fixtures: both storage engines, the real Kafka broker, unique names per test.

The README's test command starts the services (scripts/services.sh up). Tests
that need them fail, never skip, when they are not there: a skipped integration
test proves nothing.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from watchkeeper.storage.engine import Engine, EmbeddedEngine, ServerEngine
from watchkeeper.storage.schema import migrate

from testenv import CLICKHOUSE_HOST, CLICKHOUSE_PORT, KAFKA_BOOTSTRAP, unique


@pytest.fixture
def unique_name() -> str:
    """A name no other test (or concurrent test run) uses: for databases, topics, groups."""
    return unique("wk_test")


def server_engine(database: str) -> ServerEngine:
    return ServerEngine(CLICKHOUSE_HOST, CLICKHOUSE_PORT, database)


@pytest.fixture(params=["chdb", "server"])
def engine(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Engine]:
    """A migrated, empty Watchkeeper database on each engine: chdb in-process and the real server."""
    if request.param == "chdb":
        embedded = EmbeddedEngine(tmp_path / "chdb")
        migrate(embedded)
        yield embedded
        embedded.close()
    else:
        database = unique("wk_test")
        server = server_engine(database)
        migrate(server)
        yield server
        server.command(f"DROP DATABASE IF EXISTS {database}")
        server.close()


@pytest.fixture
def kafka_bootstrap() -> str:
    """The shared real broker. Tests use unique topic prefixes and never stop it."""
    return KAFKA_BOOTSTRAP
