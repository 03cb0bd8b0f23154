"""What route handlers need, built once per process by `up` or `watchkeeper api`."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from fastapi import Request

from watchkeeper.config.settings import Settings
from watchkeeper.storage.engine import Engine


@dataclass
class ApiContext:
    settings: Settings
    engine: Engine
    # Services that later areas attach (alarm store, audit recorder, ...), by name.
    services: dict[str, Any] = field(default_factory=dict)


def context(request: Request) -> ApiContext:
    """FastAPI dependency: the process's ApiContext."""
    ctx: ApiContext = request.app.state.ctx
    return ctx
