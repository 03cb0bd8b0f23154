"""The users.d file `dashboards build` renders for 18.16, loaded by a private real ClickHouse 18.16 server:
Grafana's user can read the Watchkeeper database, may set max_execution_time, and cannot write."""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path

import pytest
from clickhouse_driver import Client
from clickhouse_driver.errors import ServerException

from tests.services import ClickHouseInstance
from watchkeeper.storage.engine import ServerEngine
from watchkeeper.storage.migrations.m0500_grafana_user import GRAFANA_USER, users_xml

RUN_DIR = Path(os.environ.get("WATCHKEEPER_RUN_DIR", "/tmp/watchkeeper-services"))
INSTANCE = ClickHouseInstance("dashboards-grafana-user", 19712, 18712)
DATABASE = "watchkeeper"


@pytest.fixture(scope="module")
def server() -> Iterator[ClickHouseInstance]:
    INSTANCE.reset()
    users_d = RUN_DIR / f"clickhouse-{INSTANCE.name}" / "users.d"
    users_d.mkdir(parents=True, exist_ok=True)
    (users_d / "watchkeeper-grafana.xml").write_text(users_xml(DATABASE, "grafana-secret"))
    INSTANCE.start()
    admin = ServerEngine("127.0.0.1", INSTANCE.tcp_port, DATABASE)
    admin.command("CREATE TABLE IF NOT EXISTS samples (v UInt8) ENGINE = MergeTree ORDER BY v")
    admin.insert("samples", {"v": [1, 2]})
    admin.close()
    yield INSTANCE
    INSTANCE.stop()


def _grafana(password: str = "grafana-secret") -> Client:
    """A plain client, as Grafana's plugin connects (ServerEngine would try CREATE DATABASE)."""
    return Client("127.0.0.1", port=INSTANCE.tcp_port, database=DATABASE, user=GRAFANA_USER, password=password)


def test_grafana_user_reads_and_cannot_write(server: ClickHouseInstance) -> None:
    grafana = _grafana()
    assert grafana.execute("SELECT sum(v) FROM samples SETTINGS max_execution_time = 5") == [(3,)]
    for statement in ("INSERT INTO samples SELECT 3", "DROP TABLE samples", "CREATE DATABASE other"):
        with pytest.raises(ServerException, match="readonly"):
            grafana.execute(statement)
    grafana.disconnect()


def test_grafana_user_needs_its_password(server: ClickHouseInstance) -> None:
    with pytest.raises(ServerException) as caught:
        _grafana("wrong").execute("SELECT 1")
    assert caught.value.code == 193  # WRONG_PASSWORD
