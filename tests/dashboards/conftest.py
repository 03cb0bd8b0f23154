"""One database per engine, filled once per module with pipeline data: the proofs only read it."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.conftest import server_engine, unique
from tests.dashboards.pipeline_data import write_all
from watchkeeper.storage.engine import EmbeddedEngine, Engine
from watchkeeper.storage.schema import migrate


@pytest.fixture(scope="module", params=["chdb", "server"])
def filled_engine(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Engine]:
    """Like the shared `engine` fixture (chdb and the 18.16 server), but filled once for a module's reads."""
    engine: Engine
    if request.param == "chdb":
        engine = EmbeddedEngine(Path(tmp_path_factory.mktemp("dashboards")) / "chdb")
    else:
        database = unique("wk_test_dash")
        engine = server_engine(database)
    migrate(engine)
    write_all(engine)
    yield engine
    if request.param == "server":
        engine.command(f"DROP DATABASE IF EXISTS {engine.database}")
    engine.close()
