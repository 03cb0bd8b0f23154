"""Where the tests find the shared services, and unique names; importable from any test directory."""

from __future__ import annotations

import os
import uuid

CLICKHOUSE_HOST = os.environ.get("WATCHKEEPER_TEST_CLICKHOUSE_HOST", "127.0.0.1")
CLICKHOUSE_PORT = int(os.environ.get("WATCHKEEPER_TEST_CLICKHOUSE_PORT", "9000"))
KAFKA_BOOTSTRAP = os.environ.get("WATCHKEEPER_TEST_KAFKA", "127.0.0.1:9092")


def unique(prefix: str) -> str:
    return f"{prefix}_{uuid.uuid4().hex[:10]}"
