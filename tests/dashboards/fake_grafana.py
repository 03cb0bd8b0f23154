"""A stand-in for Grafana: no Grafana server can be installed here, so this small HTTP server on
127.0.0.1 implements the endpoints `dashboards push` calls, keeps what was pushed, and records
every request, so the tests can check what a real Grafana would have received.
"""

from __future__ import annotations

import base64
import json
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

TOKEN = "glsa_test_token"
USER, PASSWORD = "admin", "admin-password"
PLUGIN = "grafana-clickhouse-datasource"


@dataclass
class GrafanaState:
    plugin_installed: bool = True
    datasources: dict[str, dict[str, Any]] = field(default_factory=dict)
    folders: dict[str, dict[str, Any]] = field(default_factory=dict)
    dashboards: dict[str, dict[str, Any]] = field(default_factory=dict)
    requests: list[tuple[str, str]] = field(default_factory=list)


def _handler(state: GrafanaState) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        def log_message(self, *args: Any) -> None:  # keep test output clean
            pass

        def _authorised(self) -> bool:
            header = self.headers.get("Authorization", "")
            basic = "Basic " + base64.b64encode(f"{USER}:{PASSWORD}".encode()).decode()
            return header in (f"Bearer {TOKEN}", basic)

        def _answer(self, status: int, body: Any) -> None:
            data = json.dumps(body).encode()
            self.send_response(status)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(data)))
            self.end_headers()
            self.wfile.write(data)

        def _body(self) -> Any:
            length = int(self.headers.get("Content-Length", "0"))
            return json.loads(self.rfile.read(length)) if length else None

        def _route(self, method: str) -> None:
            state.requests.append((method, self.path))
            if not self._authorised():
                return self._answer(401, {"message": "Unauthorized"})
            path, body = self.path, self._body()
            if method == "GET" and path == "/api/frontend/settings":
                return self._answer(200, {"buildInfo": {"version": "11.6.0"}})
            if method == "GET" and path == f"/api/plugins/{PLUGIN}/settings":
                if state.plugin_installed:
                    return self._answer(200, {"id": PLUGIN, "enabled": True})
                return self._answer(404, {"message": "Plugin not found"})
            if path.startswith("/api/datasources/uid/"):
                uid = path.rsplit("/", 1)[1]
                if uid not in state.datasources:
                    return self._answer(404, {"message": "Data source not found"})
                if method == "PUT":
                    state.datasources[uid] = body
                return self._answer(200, state.datasources[uid])
            if method == "POST" and path == "/api/datasources":
                if body["uid"] in state.datasources:
                    return self._answer(409, {"message": "data source with the same uid already exists"})
                state.datasources[body["uid"]] = body
                return self._answer(200, {"datasource": body})
            if method == "GET" and path.startswith("/api/folders/"):
                uid = path.rsplit("/", 1)[1]
                folder = state.folders.get(uid)
                return self._answer(200, folder) if folder else self._answer(404, {"message": "folder not found"})
            if method == "POST" and path == "/api/folders":
                state.folders[body["uid"]] = body
                return self._answer(200, body)
            if method == "POST" and path == "/api/dashboards/db":
                if body["folderUid"] not in state.folders:
                    return self._answer(400, {"message": "folder not found"})
                uid = body["dashboard"]["uid"]
                if uid in state.dashboards and not body.get("overwrite"):
                    return self._answer(412, {"message": "version-mismatch"})
                state.dashboards[uid] = body
                return self._answer(200, {"uid": uid, "status": "success"})
            return self._answer(404, {"message": f"fake Grafana does not implement {method} {path}"})

        def do_GET(self) -> None:  # noqa: N802 (http.server's naming)
            self._route("GET")

        def do_POST(self) -> None:  # noqa: N802
            self._route("POST")

        def do_PUT(self) -> None:  # noqa: N802
            self._route("PUT")

    return Handler


@contextmanager
def fake_grafana(state: GrafanaState) -> Iterator[str]:
    server = ThreadingHTTPServer(("127.0.0.1", 0), _handler(state))
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}"
    finally:
        server.shutdown()
        server.server_close()
