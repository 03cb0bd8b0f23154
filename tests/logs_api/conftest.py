"""A real API server on a free loopback port over each engine: its URL (for the CLI) and a client."""

from __future__ import annotations

from collections.abc import Iterator

import httpx
import pytest

from watchkeeper.api.app import create_app
from watchkeeper.api.context import ApiContext
from watchkeeper.cli.cmd_api import ApiServer
from watchkeeper.config.settings import Settings
from watchkeeper.storage.engine import Engine


@pytest.fixture
def endpoint(engine: Engine) -> Iterator[str]:
    with ApiServer.running(create_app(ApiContext(Settings(), engine)), "127.0.0.1:0") as server:
        yield server.url


@pytest.fixture
def logs_api(endpoint: str) -> Iterator[httpx.Client]:
    with httpx.Client(base_url=endpoint, timeout=60) as client:
        yield client
