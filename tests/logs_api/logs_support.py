"""Writing log events the way the collector does (envelope -> logs.to_rows -> insert), and API helpers."""

from __future__ import annotations

import itertools
import time
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import httpx

from watchkeeper.events import Kind
from watchkeeper.storage.engine import Engine
from watchkeeper.storage.logs import LogRun, to_rows
from watchkeeper.wire import Envelope, make_envelope

# A minute boundary an hour ago: every event of a test lands in known minutes.
BASE_S = (int(time.time()) // 60 - 60) * 60
BASE_MS = BASE_S * 1000
_offsets = itertools.count(0, 1000)


@dataclass(frozen=True)
class Line:
    timestamp_ms: int
    message: str
    stream: str = "web-1"


def envelope_of(group: str, lines: Sequence[Line], host: str = "web-1", file_id: str = "f1") -> Envelope:
    """One LOGS envelope, one run per stream; every line gets a fresh offset (a distinct event)."""
    items = []
    for stream in sorted({line.stream for line in lines}):
        mine = [line for line in lines if line.stream == stream]
        items.append(LogRun(group, stream, f"/var/log/{stream}.log", f"{file_id}-{stream}", 0, int(time.time() * 1000),
                            [next(_offsets) for _ in mine], [line.timestamp_ms for line in mine],
                            [line.message for line in mine]).to_item())
    return make_envelope(Kind.LOGS, agent_id="test-agent", host=host, items=items)


def store(engine: Engine, envelope: Envelope) -> None:
    """Insert an envelope's rows exactly as the collector's logs writer produces them."""
    for table, columns in to_rows(envelope).items():
        if len(next(iter(columns.values()))):
            engine.insert(table, columns)


def write(engine: Engine, group: str, lines: Sequence[Line]) -> Envelope:
    envelope = envelope_of(group, lines)
    store(engine, envelope)
    return envelope


def call(api: httpx.Client, action: str, body: dict[str, Any], status: int = 200) -> dict[str, Any]:
    response = api.post(f"/v1/logs/{action}", json=body)
    assert response.status_code == status, response.text
    answer: dict[str, Any] = response.json()
    return answer


def all_events(api: httpx.Client, body: dict[str, Any]) -> list[dict[str, Any]]:
    """Every event of a FilterLogEvents query, following nextToken."""
    events: list[dict[str, Any]] = []
    token = None
    while True:
        answer = call(api, "FilterLogEvents", {**body, **({"nextToken": token} if token else {})})
        events.extend(answer["events"])
        token = answer.get("nextToken")
        if not token:
            return events
