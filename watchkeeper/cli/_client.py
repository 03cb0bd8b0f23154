"""The CLI's side of the HTTP API: one POST per action, errors turned into ApiError, never a traceback."""

from __future__ import annotations

import getpass
import os
from typing import Any

import click
import httpx

from watchkeeper.errors import ApiError

CALLER_HEADER = "X-Watchkeeper-User"


def caller() -> str:
    """Who is calling, as recorded in audit events (not authenticated: the API records what it is told)."""
    try:
        return getpass.getuser()
    except (KeyError, OSError):
        return f"uid:{os.getuid()}"


# An endpoint that cannot be reached is reported with a 503, which the root group maps to exit 3.
UNREACHABLE = 503


class ApiClient:
    def __init__(self, endpoint: str, timeout: float = 60.0) -> None:
        self.endpoint = endpoint.rstrip("/")
        self._timeout = timeout

    def call(self, service: str, action: str, body: dict[str, Any]) -> dict[str, Any]:
        """POST body to /v1/<service>/<action>; the decoded JSON answer, or ApiError."""
        url = f"{self.endpoint}/v1/{service}/{action}"
        try:
            response = httpx.post(url, json=body, timeout=self._timeout, headers={CALLER_HEADER: caller()})
        except httpx.TransportError as error:
            raise ApiError("EndpointUnreachable",
                           f"cannot reach the Watchkeeper API at {self.endpoint}: {error or type(error).__name__}; "
                           "is `watchkeeper up` (or `watchkeeper api`) running?", UNREACHABLE) from None
        try:
            answer = response.json()
        except ValueError:
            answer = None
        if not isinstance(answer, dict):
            raise ApiError("InvalidResponse", f"{url} answered HTTP {response.status_code} with "
                           f"{response.text[:200]!r}, not a JSON object; is {self.endpoint} a Watchkeeper API?",
                           response.status_code if response.is_error else 502)
        if response.is_error:
            raise ApiError(str(answer.get("__type", f"HTTP{response.status_code}")),
                           str(answer.get("message", response.text)), response.status_code)
        return answer


def client_from(ctx: click.Context) -> ApiClient:
    """The client for the root group's --endpoint."""
    return ApiClient(ctx.find_root().obj["endpoint"])
