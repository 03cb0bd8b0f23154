"""The API's side of the audit trail: who is calling, and recording the calls that must be recorded.

Actions that change something record themselves (with the resource they
change) through `record_change`; read actions are recorded as readOnly events
only when `[audit] record_read_calls` is on, by the middleware below.
"""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable
from typing import Any

from fastapi import FastAPI, Request, Response

from watchkeeper.api.context import ApiContext

log = logging.getLogger(__name__)

CALLER_HEADER = "X-Watchkeeper-User"
READ_PREFIXES = ("Describe", "Get", "List", "Lookup", "Filter", "Validate", "Query")


def caller_of(request: Request) -> tuple[str, str, str]:
    """(name, source IP, user agent): the header the CLI sends; the API does not authenticate yet."""
    return (request.headers.get(CALLER_HEADER, "anonymous"),
            request.client.host if request.client else "unknown", request.headers.get("User-Agent", ""))


def record_change(request: Request, ctx: ApiContext, action: str, resource: tuple[str, str],
                  parameters: dict[str, Any]) -> None:
    """Record one change made through the API; a missing or failing recorder never fails the call."""
    recorder = ctx.services.get("audit")
    if recorder is None:
        return
    name, source_ip, user_agent = caller_of(request)
    try:
        recorder.api_call(action, caller=name, source_ip=source_ip, user_agent=user_agent, resources=[resource],
                          request=parameters)
    except Exception:  # the change is made; losing its record is logged loudly, not turned into an error
        log.exception("could not record %s on %s in the audit trail", action, resource)


def install_read_recording(app: FastAPI, ctx: ApiContext) -> None:
    """With [audit] record_read_calls, every successful read action becomes a readOnly event."""
    if not ctx.settings.audit.record_read_calls:
        return

    @app.middleware("http")
    async def record_reads(request: Request, call_next: Callable[[Request], Awaitable[Response]]) -> Response:
        response = await call_next(request)
        action = request.url.path.rsplit("/", 1)[-1]
        recorder = ctx.services.get("audit")
        if recorder is not None and response.status_code < 400 and action.startswith(READ_PREFIXES):
            name, source_ip, user_agent = caller_of(request)
            recorder.api_call(action, caller=name, source_ip=source_ip, user_agent=user_agent, resources=[],
                              request=None, read_only=True)
        return response
